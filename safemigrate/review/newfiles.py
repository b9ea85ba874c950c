"""The review of new revision files, as the post-write hook of `flask db migrate` runs it
(safemigrate/review/hook.py, in-process) and as `python -m safemigrate.review.newfiles FILE...` still does.

It prints the review's findings for the new revision files and always exits 0 (the hook never
fails the write; `flask db lint` is the gate). The review itself is safemigrate.review; its public
names are re-exported here for callers of the earlier single-module linter.
"""

from __future__ import annotations

import sys
from pathlib import Path

from safemigrate.review import Finding, LintError, MigrationLinter, RevisionReport, format_report

__all__ = ["Finding", "LintError", "MigrationLinter", "RevisionReport", "format_report", "main"]


def main(argv: list[str] | None = None, directory: Path | None = None) -> int:
    """Post-write hook: print the findings for the given revision files; never fail the write."""
    argv = sys.argv[1:] if argv is None else argv
    try:
        # Run as a module, nothing hands it the folder: Flask-Migrate's default, from where it runs.
        linter = MigrationLinter(Path("migrations") if directory is None else directory)
        scripts = [linter.select(path) for path in argv]
        reports = linter.lint([s for group in scripts for s in group])
    except LintError as exc:
        print(f"flask db lint: {exc}", file=sys.stderr)
        return 0
    for report in reports:
        print(format_report(report), file=sys.stderr)
    if any(r.errors for r in reports):
        print(
            "Review the findings above before `flask db upgrade` (flask db lint rechecks).", file=sys.stderr
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
