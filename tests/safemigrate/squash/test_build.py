"""`flask db squash` builds one revision whose schema is exactly the replayed one, keeps the old
files, and passes the review, the stairway and pytest-alembic's checks."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest
import sqlalchemy as sa
from alembic.script import ScriptDirectory
from click.testing import CliRunner
from pytest_alembic import Config as PytestAlembicConfig
from pytest_alembic import runner
from pytest_alembic import tests as standard

from bench.history import build_history, synthetic_revision_id
from config import MIGRATIONS_DIR
from safemigrate.cli import lint_command
from safemigrate.ledger import recorder as ledger
from safemigrate.snapshot.dump import compare, schema_text
from safemigrate.squash import build
from safemigrate.squash.plan import SquashRefused
from safemigrate.state import alembic_config
from tests.safemigrate.squash.conftest import SYNTHETIC, TARGET, migrate


def test_the_squash_builds_exactly_the_replayed_schema(long_history, make_database):
    replayed, squashed = make_database(), make_database()
    migrate(replayed, long_history.original, TARGET)
    migrate(squashed, long_history.squashed, TARGET)
    text = schema_text(squashed)
    assert "CREATE TABLE public.synthetic_0008 (" in text and "ADD CONSTRAINT fk_items_owner_id_users" in text
    assert compare(replayed, squashed) == []

    migrate(replayed, long_history.original)
    migrate(squashed, long_history.squashed)
    assert "CREATE TABLE public.synthetic_0010 (" in schema_text(squashed)
    assert compare(replayed, squashed) == []


def test_the_squash_keeps_b_and_sets_the_replaced_files_aside(long_history):
    original = ScriptDirectory(str(long_history.original))
    squashed = ScriptDirectory(str(long_history.squashed))
    remaining = {s.revision for s in squashed.walk_revisions()}
    replaced = {s.revision for s in original.walk_revisions()} - remaining
    project = {s.revision for s in ScriptDirectory(str(MIGRATIONS_DIR)).walk_revisions()}
    assert replaced == project | {synthetic_revision_id(n) for n in range(8)}  # synthetic 8 is TARGET
    squash = squashed.get_revision(TARGET)
    assert squash.down_revision is None
    assert set(squash.module.replaces) == replaced
    assert squashed.get_heads() == original.get_heads()
    assert len(remaining) == SYNTHETIC - 8

    archive = long_history.squashed / "squashed" / TARGET
    expected = {Path(original.get_revision(r).path).name for r in (*replaced, TARGET)}
    assert {p.name for p in archive.iterdir()} == expected
    assert long_history.result.path.parent == long_history.squashed / "versions"


def test_the_squashed_history_passes_the_review(long_history):
    result = CliRunner().invoke(lint_command, ["-d", str(long_history.squashed)])
    assert result.exit_code == 0, result.output
    assert "0 unacknowledged error(s)" in result.output


def test_stairway_on_the_squashed_history(long_history, make_database):
    url = make_database()
    scripts = ScriptDirectory(str(long_history.squashed))
    revisions = [s.revision for s in reversed(list(scripts.walk_revisions()))]
    assert revisions[0] == TARGET
    for revision in revisions:
        migrate(url, long_history.squashed, revision)
        migrate(url, long_history.squashed, "-1", direction="downgrade")
        migrate(url, long_history.squashed, revision)
    assert "CREATE TABLE public.synthetic_0010 (" in schema_text(url)
    migrate(url, long_history.squashed, "base", direction="downgrade")
    assert schema_text(url, exclude_tables=[ledger.TABLE]) == ""  # the ledger is bookkeeping, kept


@pytest.fixture
def squashed_project_runner(project_history, empty_database_url):
    engine = sa.create_engine(empty_database_url)
    config = PytestAlembicConfig.from_raw_config(
        PytestAlembicConfig(alembic_config=alembic_config(directory=project_history.squashed))
    )
    with runner(config=config, engine=engine) as context:
        yield context
    engine.dispose()


@pytest.mark.parametrize(
    "check",
    [
        standard.test_single_head_revision,
        standard.test_upgrade,
        standard.test_model_definitions_match_ddl,
        standard.test_up_down_consistency,
    ],
    ids=lambda check: check.__name__,
)
def test_pytest_alembic_checks_on_the_squashed_project_history(squashed_project_runner, check):
    check(squashed_project_runner)


def test_a_squash_that_would_not_rebuild_the_schema_is_refused_and_writes_nothing(
    tmp_path, server_url, monkeypatch
):
    history = build_history(tmp_path / "migrations", 2)
    before = sorted(p.relative_to(history) for p in history.rglob("*.py"))
    render = build.render_squash

    def lossy(plan, message, statements, drops, commit):
        return render(
            plan, message, [s for s in statements if "ix_items_owner_id_created_at" not in s], drops, commit
        )

    monkeypatch.setattr(build, "render_squash", lossy)
    with pytest.raises(
        SquashRefused, match=r"would not rebuild the replayed schema at .*ix_items_owner_id_created_at"
    ):
        build.squash(history, "head", "lossy", server_url)
    assert sorted(p.relative_to(history) for p in history.rglob("*.py")) == before


def test_the_squash_file_is_valid_python_with_the_sql_readable(project_history):
    path = project_history.result.path
    spec = importlib.util.spec_from_file_location("squash_revision", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    assert "\nCREATE TABLE public.users (\n    id integer NOT NULL," in module.UPGRADE
    assert "DROP TABLE IF EXISTS public.items CASCADE;" in module.DOWNGRADE
    assert "ALTER TABLE ONLY public.items\n    ADD CONSTRAINT pk_items PRIMARY KEY (id);" in path.read_text()


def test_sql_that_looks_like_bind_parameters_or_format_codes_survives(tmp_path, server_url, make_database):
    history = build_history(tmp_path / "migrations", 0)
    add_column = 'op.add_column("items", sa.Column("tag", sa.Text(), server_default=" :tag 100%"))'
    text = (history / "versions").joinpath(
        next(p.name for p in (history / "versions").iterdir() if "index" in p.name)
    )
    (history / "versions" / "29991231_0000_tagcolumn001_tag.py").write_text(
        f'"""add tag"""\n\nimport sqlalchemy as sa\nfrom alembic import op\n\nrevision = "tagcolumn001"\n'
        f"down_revision = {ScriptDirectory(str(history)).get_current_head()!r}\nbranch_labels = None\n"
        f"depends_on = None\n\n\ndef upgrade():\n    {add_column}\n\n\ndef downgrade():\n"
        '    op.drop_column("items", "tag")\n'
    )
    assert text.exists()
    result = build.squash(history, "tagcolumn001", "squash with a tricky default", server_url)
    assert "\\:tag 100%" in result.path.read_text()
    url = make_database()
    migrate(url, history)
    assert "tag text DEFAULT ' :tag 100%'::text" in schema_text(url)
