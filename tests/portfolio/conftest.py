from __future__ import annotations

from pathlib import Path

import pytest

from tests.audit.conftest import AuditRepo
from tests.ledger.conftest import pg_dsn  # noqa: F401 - the shared throw-away PostgreSQL
from tests.portfolio.world import make_world


@pytest.fixture
def world(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> AuditRepo:
    return make_world(tmp_path / "repo", monkeypatch)
