"""The previous release, as `flask db compat --against REF` finds it: its models and its head.

REF is a directory holding the previous release's code, or a git ref of the project's repository
(its files are read with `git archive`, nothing is checked out). The models are the module at the same
path as today's (the host says which file that is); they are loaded as a module of their own, so the
previous mappers live beside today's without touching them.
"""

from __future__ import annotations

import ast
import importlib.util
import io
import itertools
import shutil
import subprocess
import sys
import tarfile
import tempfile
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType

from safemigrate.errors import EXIT_USAGE, SafeMigrateError

_loaded = itertools.count()


class CompatError(SafeMigrateError):
    """The proof cannot run (bad --against, models that do not load): one line."""

    exit_code = EXIT_USAGE


@dataclass
class PreviousRelease:
    label: str  # what --against named
    models: ModuleType
    classes: list[type]  # its mapped classes
    heads: tuple[str, ...]  # its migrations' heads


def find_previous(
    against: str, repository: Path, models_path: Path, migrations_path: Path, folder: Path
) -> PreviousRelease:
    """Load the previous release named by `against` (a directory or a git ref of `repository`).

    `models_path` and `migrations_path` are relative to the project root; `folder` receives a git
    ref's files (the caller removes it)."""
    given = Path(against)
    if against.strip() == "":
        raise CompatError("--against names nothing: give a git ref (e.g. origin/main) or a directory")
    root = given if given.is_dir() else _export(against, repository, [models_path, migrations_path], folder)
    models_file, migrations = root / models_path, root / migrations_path
    if not models_file.is_file():
        raise CompatError(f"{against} has no models at {models_path}")
    if not (migrations / "env.py").is_file():
        raise CompatError(f"{against} has no migration scripts at {migrations_path}")
    module = _load(models_file, against, models_path)
    classes = [
        obj
        for obj in vars(module).values()
        if isinstance(obj, type) and hasattr(obj, "__mapper__") and obj.__module__ == module.__name__
    ]
    if not classes:
        raise CompatError(f"{against}:{models_path} maps no classes")
    heads = _heads(migrations / "versions")
    if not heads:
        raise CompatError(f"the migration scripts of {against} have no revision")
    return PreviousRelease(against, module, classes, heads)


def _heads(versions: Path) -> tuple[str, ...]:
    """The heads of a history, read from its files without importing them: an older release's
    revisions may import modules that no longer exist under those names."""
    revisions: set[str] = set()
    below: set[str] = set()
    for path in versions.rglob("*.py"):
        try:
            tree = ast.parse(path.read_text())
        except (SyntaxError, UnicodeDecodeError) as exc:
            raise CompatError(f"{path.name} of the previous release does not parse: {exc}") from None
        values: dict[str, ast.expr] = {}
        for node in tree.body:
            # `revision = "..."`, or `revision: str = "..."` as Alembic's newer templates write it
            targets = (
                node.targets
                if isinstance(node, ast.Assign)
                else [node.target]
                if isinstance(node, ast.AnnAssign)
                else []
            )
            value = getattr(node, "value", None)
            for target in targets:
                if (
                    isinstance(target, ast.Name)
                    and target.id in ("revision", "down_revision")
                    and value is not None
                ):
                    values[target.id] = value
        revision = values.get("revision")
        if not (isinstance(revision, ast.Constant) and isinstance(revision.value, str)):
            continue
        revisions.add(revision.value)
        down = values.get("down_revision")
        if down is not None:
            try:
                downs = ast.literal_eval(down)
            except ValueError:
                raise CompatError(
                    f"{path.name} of the previous release computes its down_revision: it must be written out"
                ) from None
            below.update([downs] if isinstance(downs, str) else list(downs or ()))
    return tuple(sorted(revisions - below))


def _export(ref: str, repository: Path, paths: list[Path], folder: Path) -> Path:
    """The files at `paths` as they are at git ref `ref`, extracted under `folder`."""
    if ref.startswith("-"):
        raise CompatError(f"--against {ref!r} is neither a directory nor a git ref")
    git = shutil.which("git")
    if git is None:
        raise CompatError(f"git is not installed: cannot read {ref!r} (give a directory instead)")
    # The ref is one argument (never a shell); one starting with "-" was refused above.
    try:
        verified = subprocess.run(  # noqa: S603
            [git, "-C", str(repository), "rev-parse", "--verify", "--quiet", f"{ref}^{{commit}}"],
            capture_output=True,
            text=True,
            check=False,
        )
    except OSError as exc:
        raise CompatError(f"git is not available to read {ref!r}: {exc}") from None
    if verified.returncode != 0:
        raise CompatError(f"--against {ref!r} is neither a directory nor a git ref of {repository}")
    commit = verified.stdout.strip()
    archive = subprocess.run(  # noqa: S603
        [git, "-C", str(repository), "archive", "--format=tar", commit, "--", *map(str, paths)],
        capture_output=True,
        check=False,
    )
    if archive.returncode != 0:
        missing = archive.stderr.decode(errors="replace").strip().splitlines()
        raise CompatError(
            f"{ref} lacks what the proof needs: {missing[0] if missing else 'git archive failed'}"
        )
    with tarfile.open(fileobj=io.BytesIO(archive.stdout)) as tar:
        tar.extractall(folder, filter="data")
    return folder


def _load(path: Path, against: str, shown: Path) -> ModuleType:
    name = f"_previous_release_models_{next(_loaded)}"
    spec = importlib.util.spec_from_file_location(name, path)
    if spec is None or spec.loader is None:
        raise CompatError(f"{against}:{shown} cannot be loaded as a module")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module  # annotations of mapped classes are resolved through it
    try:
        spec.loader.exec_module(module)
    except Exception as exc:  # noqa: BLE001 (any error in the old models: one line)
        sys.modules.pop(name, None)
        where = f"{shown}, line {exc.lineno}" if isinstance(exc, SyntaxError) else str(shown)
        raise CompatError(
            f"the models of {against} ({where}) do not load: {type(exc).__name__}: {exc}"
        ) from None
    return module


def scratch_folder() -> tempfile.TemporaryDirectory:
    return tempfile.TemporaryDirectory(prefix="compat-")
