"""`flask db squash`: many revisions replaced by one that builds their schema directly.

- plan.py: which revisions a range replaces, and the refusals (several heads, cut branches, data);
- build.py: replay, render, verify on scratch databases, then write (render.py: the file's text);
- guard.py: databases part-way through a squashed range, refused with the release to deploy first;
- safemigrate/cli/squash.py: the `flask db squash` command and the guarded `flask db upgrade`.
"""
