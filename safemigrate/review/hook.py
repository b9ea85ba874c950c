"""The post-write hook of `flask db migrate` and `flask db revision`: review the new file at once.

Registered through Alembic's documented `write_hooks.register` when safemigrate.cli is imported (every
`flask` command builds the app, which registers the schema commands); migrations/alembic.ini names
it with `migration_lint.type = migration_lint`. It runs in the command's own process: a hook of
`type = module` started a second interpreter for every new file, about a second of imports.
"""

from __future__ import annotations

from pathlib import Path

from alembic.script import write_hooks

HOOK = "migration_lint"


@write_hooks.register(HOOK)
def review_new_revision(filename: str, options: dict) -> None:
    from safemigrate.review.newfiles import main

    main([filename], directory=migrations_directory(Path(filename)))


def migrations_directory(revision_file: Path) -> Path | None:
    """The folder holding env.py above a revision file (versions/ may have subfolders)."""
    for folder in revision_file.resolve().parents:
        if (folder / "env.py").is_file():
            return folder
    return None
