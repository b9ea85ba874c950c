"""What makes a child forked from a test worker look like a new interpreter (tests/support/forked.py).

The worker has imported SQLAlchemy, Alembic, Flask and the app, run other tests in process, and holds
pytest's capture of logging and warnings. The child is given: its cwd, environment and standard
streams; signals, loggers and warning filters as an interpreter starts with them; the app's modules
with nothing memoised, imported again from a copy of the project when it runs in one (a test edited
its models); and what Alembic read from the process at import (its stdout, the terminal's width).
"""

from __future__ import annotations

import contextlib
import functools
import io
import logging
import os
import signal
import struct
import sys
import warnings
from pathlib import Path

from config import PROJECT_ROOT

# The project's importable top-level names (app, config, wsgi, bench, ...), not its tests or its .venv.
PROJECT_MODULES = {path.stem for path in PROJECT_ROOT.glob("*.py")} | {
    path.parent.name for path in PROJECT_ROOT.glob("*/__init__.py") if path.parent.name != "tests"
}
# Run in the project itself, the child keeps the worker's imports (the same files a fresh process would
# import) but for the modules that do work at import: wsgi builds the app from the environment, and
# `python -m bench.x` must find its module not yet imported.
ENTRY_MODULES = {"wsgi", "bench"}
# Python's default warning filters (regular builds, no -W): the documented list, most specific first.
DEFAULT_WARNING_FILTERS = (
    ("default", DeprecationWarning, "__main__"),
    ("ignore", DeprecationWarning, ""),
    ("ignore", PendingDeprecationWarning, ""),
    ("ignore", ImportWarning, ""),
    ("ignore", ResourceWarning, ""),
)
_MEMOISED = type(functools.cache(lambda: None))


def become_fresh_process(cwd: Path, env: dict[str, str], stdin, out_w, err_w) -> None:
    signal.signal(signal.SIGINT, signal.default_int_handler)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    os.chdir(cwd)
    os.environ.clear()
    os.environ.update(env)
    if stdin is None:
        stdin = os.open(os.devnull, os.O_RDONLY)
    os.dup2(stdin, 0)
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(out_w if out_w is not None else devnull, 1)
    os.dup2(err_w if err_w is not None else devnull, 2)
    sys.stdin = io.TextIOWrapper(io.FileIO(0, "r", closefd=False), encoding="utf-8")
    sys.stdout = io.TextIOWrapper(io.FileIO(1, "w", closefd=False), encoding="utf-8")
    sys.stderr = io.TextIOWrapper(io.FileIO(2, "w", closefd=False), encoding="utf-8", line_buffering=True)
    sys.__stdin__, sys.__stdout__, sys.__stderr__ = sys.stdin, sys.stdout, sys.stderr
    _fresh_logging()
    _fresh_warnings()
    in_project = Path(cwd).resolve() == PROJECT_ROOT
    _fresh_modules(in_project)
    if not in_project:  # a module missing from the copy must not come from the project
        sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != PROJECT_ROOT]
    sys.path.insert(0, str(cwd))
    _fresh_alembic()


def _fresh_logging() -> None:
    """Loggers as a new interpreter has them: the worker's capture handlers and any levels or handlers
    an in-process test set (Alembic's fileConfig, the runner's own) are not the command's. The
    NullHandlers libraries add at import (Alembic, Flask-Limiter) stay, as a fresh import adds them."""
    logging.root.handlers.clear()
    logging.root.setLevel(logging.WARNING)
    for logger in logging.Logger.manager.loggerDict.values():
        if isinstance(logger, logging.Logger):
            logger.handlers[:] = [h for h in logger.handlers if type(h) is logging.NullHandler]
            logger.setLevel(logging.NOTSET)
            logger.propagate = True
            logger.disabled = False


def _fresh_warnings() -> None:
    """Warnings printed to stderr under Python's default filters, not recorded by pytest's capture."""
    warnings.resetwarnings()
    for action, category, module in DEFAULT_WARNING_FILTERS:
        warnings.filterwarnings(action, category=category, module=module, append=True)
    warnings.showwarning = warnings._showwarning_orig
    warnings._showwarnmsg_impl = _print_warning


def _print_warning(message: warnings.WarningMessage) -> None:
    """What the interpreter's warnings._showwarnmsg_impl does (pytest replaced it in the worker)."""
    file = message.file if message.file is not None else sys.stderr
    with contextlib.suppress(OSError):
        file.write(warnings._formatwarnmsg(message))


def _fresh_modules(in_project: bool) -> None:
    dropped = ENTRY_MODULES if in_project else PROJECT_MODULES
    for name in list(sys.modules):
        if name.partition(".")[0] in dropped:
            del sys.modules[name]
        elif name.partition(".")[0] in PROJECT_MODULES:
            _clear_caches(sys.modules[name])
    if not in_project:  # the copy's autogenerate plugin registers itself again under the same name
        from alembic.runtime import plugins

        for name in [name for name in plugins._all_plugins if not name.startswith("alembic.")]:
            del plugins._all_plugins[name]


def _clear_caches(module) -> None:
    """Empty what the module memoised (functools.cache) while the worker ran other tests."""
    for value in list(vars(module).values()):
        if isinstance(value, _MEMOISED) and value.__module__ == module.__name__:
            value.cache_clear()


def _fresh_alembic() -> None:
    """What Alembic took from the process when the worker imported it: sys.stdout, bound as the
    default `stdout` of its Config, and the terminal's width (fd 0), which its messages wrap to."""
    from alembic import config
    from alembic.util import messaging

    defaults = config.Config.__init__.__defaults__
    config.Config.__init__.__defaults__ = tuple(
        sys.stdout if isinstance(value, io.TextIOBase) else value for value in defaults
    )
    messaging.TERMWIDTH = _terminal_width()


def _terminal_width() -> int | None:
    """alembic/util/messaging.py's own reading of it."""
    import fcntl
    import termios

    try:
        ioctl = fcntl.ioctl(0, termios.TIOCGWINSZ, struct.pack("HHHH", 0, 0, 0, 0))
    except OSError:
        return None
    width = struct.unpack("HHHH", ioctl)[1]
    return width if width > 0 else None
