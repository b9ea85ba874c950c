"""Debian packages the tests need (pgbouncer, redis-server), found or installed the same way.

`ensure_binary()` finds the program, or installs its package with apt-get when running as root (CI: a
fresh root machine with the Debian mirror reachable); otherwise the tests that need it skip and say why.
"""

from __future__ import annotations

import fcntl
import os
import shutil
import subprocess
import tempfile
from pathlib import Path


def _find(program: str, debian_path: str) -> str | None:
    return shutil.which(program) or (debian_path if os.access(debian_path, os.X_OK) else None)


def ensure_binary(program: str, debian_path: str, package: str) -> tuple[str | None, str]:
    """(path of `program`, "") or (None, why it is unavailable). Installs `package` when root and absent."""
    found = _find(program, debian_path)
    if found:
        return found, ""
    if os.geteuid() != 0 or not shutil.which("apt-get"):
        return (
            None,
            f"{program} is not installed (apt-get install {package}) and this is not a root Debian machine",
        )
    # One installer at a time across parallel test workers.
    with open(Path(tempfile.gettempdir()) / f"project-{package}-install.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        found = _find(program, debian_path)
        if found:
            return found, ""
        error = apt_install(package)
    found = _find(program, debian_path)
    return (found, "") if found else (None, f"{package} could not be installed: {error}")


def apt_install(package: str) -> str:
    """apt-get update, then install `package` without starting its service. The error, or ""."""
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    policy = Path("/usr/sbin/policy-rc.d")
    # The package would start a system-wide service (pgbouncer, redis-server): "101" tells invoke-rc.d
    # not to; the tests start their own, on free ports.
    added_policy = not policy.exists()
    if added_policy:
        policy.write_text("#!/bin/sh\nexit 101\n")
        policy.chmod(0o755)
    try:
        for args in (["apt-get", "update", "-qq"], ["apt-get", "install", "-y", "-qq", package]):
            result = subprocess.run(args, env=env, capture_output=True, text=True, timeout=600, check=False)
            if result.returncode != 0:
                lines = (result.stderr or result.stdout).strip().splitlines()
                return f"{' '.join(args)} exited {result.returncode}: {lines[-1] if lines else ''}"
        return ""
    except (OSError, subprocess.TimeoutExpired) as exc:
        return str(exc)
    finally:
        if added_policy:
            policy.unlink(missing_ok=True)
