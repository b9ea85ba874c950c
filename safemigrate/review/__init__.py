"""The automated review of migration revisions (`flask db lint`, `flask db status`).

Every revision's upgrade and downgrade SQL is rendered offline, once for the whole history
(safemigrate/offline.py), parsed by PostgreSQL's own parser (pglast, sql.py) and judged statement by statement
(rules.py) against what the history built before it (history.py); the revision file itself is
checked for a message, a downgrade and acknowledgements (revision.py, report.py).
"""

from safemigrate.review.linter import LintError, MigrationLinter
from safemigrate.review.report import ERROR, WARNING, Finding, RevisionReport, format_report, revision_message
from safemigrate.review.rulebook import RULES

__all__ = [
    "ERROR",
    "RULES",
    "WARNING",
    "Finding",
    "LintError",
    "MigrationLinter",
    "RevisionReport",
    "format_report",
    "revision_message",
]
