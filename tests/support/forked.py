"""Run the project's own Python commands in a forked child instead of a fresh interpreter.

A fresh `flask ...` or `python run_migration.py` spends about a second importing SQLAlchemy, Alembic,
Flask and the app before it does anything, and the suite starts well over a hundred of them. A child
forked from the test worker has those modules already imported, and is otherwise the command as a
person runs it: its own process, working directory, environment, stdin, stdout and stderr pipes,
exit code and signals, running the same entry point (`flask.cli.main`, the `run_migration.py`
file, `python -m module`). What else makes the child a fresh process is in tests/support/fresh_process.py.

What a fork cannot show is that a fresh interpreter starts at all: tests that go through `make`, the
Procfile and gunicorn still start real processes (`tests.support.cli_helpers.run(..., fresh=True)`).
"""

from __future__ import annotations

import functools
import logging
import os
import runpy
import selectors
import signal
import subprocess
import sys
import time
import traceback
from pathlib import Path

from tests.support.fresh_process import become_fresh_process

FLASK = str(Path(sys.executable).parent / "flask")


def entry_point(args: list[str]):
    """How to run `args` in a forked child, or None when it is not one of our Python commands."""
    if args and args[0] == FLASK:
        return _flask
    if args and args[0] == sys.executable and len(args) > 1:
        if args[1] == "-m" and len(args) > 2:
            return _module
        if args[1].endswith(".py"):
            return _script
    return None


def _flask(args: list[str]) -> None:
    from flask.cli import main

    sys.argv = ["flask", *args[1:]]
    main()


def _module(args: list[str]) -> None:
    sys.argv = [args[2], *args[3:]]
    runpy.run_module(args[2], run_name="__main__", alter_sys=True)


def _script(args: list[str]) -> None:
    sys.argv = args[1:]
    runpy.run_path(args[1], run_name="__main__")


class ForkedProcess:
    """The part of subprocess.Popen the tests use: pid, stdout/stderr, wait, poll, signals."""

    def __init__(self, args: list[str], *, cwd: Path, env: dict[str, str], capture: bool, stdin=None):
        run = entry_point(args)
        assert run is not None, args
        _load_flask_plugins()
        self.args = args
        self.returncode: int | None = None
        out_r, out_w = os.pipe() if capture else (None, None)
        err_r, err_w = os.pipe() if capture else (None, None)
        sys.stdout.flush()
        sys.stderr.flush()
        self.pid = os.fork()
        if self.pid == 0:  # the child never returns
            _child(run, args, cwd, env, stdin, out_w, err_w, (out_r, err_r))
        for fd in (out_w, err_w):
            if fd is not None:
                os.close(fd)
        self.stdout = open(out_r, encoding="utf-8", errors="replace") if capture else None  # noqa: SIM115
        self.stderr = open(err_r, encoding="utf-8", errors="replace") if capture else None  # noqa: SIM115

    def poll(self) -> int | None:
        if self.returncode is None:
            pid, status = os.waitpid(self.pid, os.WNOHANG)
            if pid:
                self.returncode = os.waitstatus_to_exitcode(status)
        return self.returncode

    def wait(self, timeout: float | None = None) -> int:
        deadline = None if timeout is None else time.monotonic() + timeout
        delay = 0.0005
        while self.poll() is None:
            if deadline is not None and time.monotonic() >= deadline:
                raise subprocess.TimeoutExpired(self.args, timeout)
            time.sleep(delay)
            delay = min(delay * 2, 0.02)
        return self.returncode

    def send_signal(self, signum: int) -> None:
        if self.poll() is None:
            os.kill(self.pid, signum)

    def terminate(self) -> None:
        self.send_signal(signal.SIGTERM)

    def kill(self) -> None:
        self.send_signal(signal.SIGKILL)

    def communicate(self, timeout: float | None = None) -> tuple[str, str]:
        """Read both pipes to the end (so a chatty child never blocks on a full pipe), then wait."""
        deadline = None if timeout is None else time.monotonic() + timeout
        chunks = {"stdout": [], "stderr": []}
        with selectors.DefaultSelector() as selector:
            for name in chunks:
                stream = getattr(self, name)
                if stream is not None:
                    selector.register(stream.fileno(), selectors.EVENT_READ, name)
            while selector.get_map():
                left = None if deadline is None else deadline - time.monotonic()
                if left is not None and left <= 0:
                    self.kill()
                    self.wait()
                    raise subprocess.TimeoutExpired(self.args, timeout)
                for key, _ in selector.select(left):
                    data = os.read(key.fd, 65536)
                    if data:
                        chunks[key.data].append(data)
                    else:
                        selector.unregister(key.fd)
        for stream in (self.stdout, self.stderr):
            if stream is not None:
                stream.close()
        self.wait()
        return tuple(b"".join(parts).decode("utf-8", "replace") for parts in chunks.values())


def run(args: list[str], *, cwd: Path, env: dict[str, str], timeout: float, stdin=None):
    """subprocess.run(args, capture_output=True, text=True, check=False) in a forked child."""
    process = ForkedProcess(args, cwd=cwd, env=env, capture=True, stdin=stdin)
    stdout, stderr = process.communicate(timeout=timeout)
    return subprocess.CompletedProcess(args, process.returncode, stdout, stderr)


@functools.cache
def _load_flask_plugins() -> None:
    """Look up the installed packages' `flask.commands` entry points once in the worker, as every
    `flask` process does at its start, rather than once in every child (60 ms of metadata reading)."""
    from flask.cli import cli

    cli._load_plugin_commands()


def _child(run, args, cwd, env, stdin, out_w, err_w, parent_ends) -> None:
    code = 1
    try:
        for fd in parent_ends:
            if fd is not None:
                os.close(fd)
        try:
            become_fresh_process(cwd, env, stdin, out_w, err_w)
            run(args)
            code = 0
        except SystemExit as exc:
            code = _exit_code(exc)
        except KeyboardInterrupt:
            code = 130
        except BaseException:  # noqa: BLE001 (what the interpreter does: print it, exit 1)
            traceback.print_exc()
    finally:
        try:
            logging.shutdown()
            sys.stdout.flush()
            sys.stderr.flush()
        finally:
            os._exit(code)


def _exit_code(exc: SystemExit) -> int:
    if exc.code is None:
        return 0
    if isinstance(exc.code, int):
        return exc.code
    print(exc.code, file=sys.stderr)
    return 1
