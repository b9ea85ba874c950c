"""The real-world history corpus (corpus.py), reviewed, squashed and walked: the figures of issue #23."""

from __future__ import annotations

import sqlalchemy as sa

from tests.safemigrate.histories.corpus import HAZARDS, RUNNABLE, STEPS, measure, plant_history
from tests.support.planting import copy_migrations


def test_every_revision_is_reviewed_every_hazard_caught_and_the_merged_history_walked(
    directory, empty_database_url, tmp_path
):
    plant_history(directory)
    runnable = copy_migrations(tmp_path / "runnable")
    plant_history(runnable, RUNNABLE)
    engine = sa.create_engine(empty_database_url)
    try:
        figures = measure(directory, runnable, engine)
    finally:
        engine.dispose()
    assert figures.alarms == []
    assert (figures.reviewed, figures.caught, figures.false_alarms, figures.tracebacks) == (
        len(STEPS),
        HAZARDS,
        0,
        0,
    )
    assert (figures.squashable, figures.squash_refusal) == (len(RUNNABLE), "")
    assert figures.stairway == f"walked {len(RUNNABLE)}"
