"""Run the project's commands the way a developer does: in their own process, from the repo root.

Our Python commands (`flask ...`, `python run_migration.py`, `python -m bench...`) run in a child
forked from the test worker, which skips the interpreter's second of imports (tests/support/forked.py);
everything else, and any call with `fresh=True`, is a new process from exec.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

from sqlalchemy.engine import URL

from config import PROJECT_ROOT
from tests.support import forked

BIN = Path(sys.executable).parent
_NOT_INHERITED = ("DATABASE_URL", "APP_ENV", "MAKEFLAGS", "MFLAGS", "MAKELEVEL")


def environment(database_url: URL | str | None = None, **env: str) -> dict[str, str]:
    """This process's environment without the caller's own DATABASE_URL/APP_ENV, nor the flags of the
    `make test` that started the suite (`make -n test` would turn every `make` a test runs into a
    dry run), plus `env`."""
    environ = {k: v for k, v in os.environ.items() if k not in _NOT_INHERITED}
    if database_url is not None:
        if isinstance(database_url, URL):
            database_url = database_url.render_as_string(hide_password=False)
        environ["DATABASE_URL"] = database_url
    # No .pyc for files a test edits within the same second (see tests/conftest.py).
    return {**environ, "PYTHONDONTWRITEBYTECODE": "1", **env}


def run(
    args: list[str],
    database_url: URL | str | None = None,
    timeout: float = 120,
    *,
    cwd: Path = PROJECT_ROOT,
    stdin=None,
    fresh: bool = False,
    **env,
):
    """Run a command to the end: a CompletedProcess with text stdout and stderr."""
    environ = environment(database_url, **env)
    if not fresh and forked.entry_point(args):
        return forked.run(args, cwd=cwd, env=environ, timeout=timeout, stdin=stdin)
    return subprocess.run(
        args,
        cwd=cwd,
        env=environ,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
        stdin=stdin if stdin is not None else subprocess.DEVNULL,
    )


def spawn(
    args: list[str],
    database_url: URL | str | None = None,
    *,
    capture: bool = False,
    fresh: bool = False,
    **env,
):
    """Start a command in the background (stdout and stderr kept as text when `capture`)."""
    environ = environment(database_url, **env)
    if not fresh and forked.entry_point(args):
        return forked.ForkedProcess(args, cwd=PROJECT_ROOT, env=environ, capture=capture)
    output = subprocess.PIPE if capture else subprocess.DEVNULL
    return subprocess.Popen(args, cwd=PROJECT_ROOT, env=environ, stdout=output, stderr=output, text=True)


def flask(*args: str, **kwargs):
    return run([str(BIN / "flask"), *args], **kwargs)


# The runner's log lines start with a timestamp (safemigrate/cli/release.py: configure_logging).
_LOG_TIME = re.compile(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3} ")


def output_lines(result) -> list[str]:
    """What a command printed, stdout then stderr, line by line, without the runner's timestamps."""
    lines = result.stdout.splitlines() + result.stderr.splitlines()
    return [_LOG_TIME.sub("", line) for line in lines]


def assert_clean_failure(
    result, *expected: str, code: int, line: str | None = None, secret: str | None = None
) -> None:
    """Exit `code` exactly, no traceback, no secret; `line` is one whole line of the output (the
    message, as the operator reads it), and each of `expected` is somewhere in the output."""
    output = result.stdout + result.stderr
    assert result.returncode == code, output
    assert "Traceback" not in output, output
    if line is not None:
        assert line in output_lines(result), output
    for text in expected:
        assert text in output, output
    if secret:
        assert secret not in output, output
