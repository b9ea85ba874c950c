"""Servers the tests start as child processes (PgBouncer, Redis): stopped the same way."""

from __future__ import annotations

import subprocess


def stop(process: subprocess.Popen | None) -> None:
    """Terminate, then kill if it does not exit within 10 s; close its stderr pipe."""
    if process is None:
        return
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)
    if process.stderr:
        process.stderr.close()
