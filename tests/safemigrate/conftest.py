"""Fixtures of the migration tooling's tests."""

from __future__ import annotations

import pytest

from tests.support.planting import copy_migrations


@pytest.fixture
def directory(tmp_path):
    """A copy of migrations/ to plant revisions in."""
    return copy_migrations(tmp_path)
