"""A command forked from the test worker (tests/support/forked.py) behaves as the same command in a new
interpreter: the same output, warnings and log lines, whatever the worker imported or captured."""

from __future__ import annotations

import fcntl
import os
import struct
import sys
import termios
import warnings

import pytest

from tests.support.cli_helpers import run

PROBE = """
import logging
import warnings

from alembic.config import Config
from alembic.util import messaging

logging.getLogger("alembic.env").warning("no handler is configured: a new interpreter prints nothing")
warnings.warn("printed to stderr by a new interpreter", UserWarning)
warnings.warn("ignored by default outside __main__", DeprecationWarning, stacklevel=2)
print("terminal width", messaging.TERMWIDTH)
Config().print_stdout("written to the command's own stdout")
"""


@pytest.fixture
def probe(tmp_path):
    (tmp_path / "probe.py").write_text(PROBE)
    return tmp_path


@pytest.fixture
def terminal():
    """A pseudo-terminal 100 columns wide, as the command's stdin."""
    primary, secondary = os.openpty()
    fcntl.ioctl(secondary, termios.TIOCSWINSZ, struct.pack("HHHH", 40, 100, 0, 0))
    yield secondary
    os.close(primary)
    os.close(secondary)


def test_a_forked_command_prints_what_a_new_interpreter_prints(probe, terminal):
    # Imported in the worker, as in every test session (importing binds sys.stdout and fd 0's width).
    import alembic.config
    import alembic.util.messaging  # noqa: F401

    warnings.simplefilter("always")  # the worker's filters and pytest's capture are not the child's
    args = [sys.executable, "-m", "probe"]
    fresh = run(args, cwd=probe, stdin=terminal, fresh=True)
    forked = run(args, cwd=probe, stdin=terminal)

    assert fresh.returncode == forked.returncode == 0, fresh.stderr + forked.stderr
    assert fresh.stdout == forked.stdout == ("terminal width 100\nwritten to the command's own stdout\n")
    assert forked.stderr == fresh.stderr
    assert "UserWarning: printed to stderr by a new interpreter" in forked.stderr
    assert "no handler" not in forked.stderr and "DeprecationWarning" not in forked.stderr
