"""Fixtures of the shared ledger suite: a throw-away PostgreSQL cluster and one opener per backend.

The cluster is made with initdb in a temporary folder, listens on a free localhost port, runs as an
unprivileged user when the suite runs as root (PostgreSQL refuses to run as root), and is removed after
the session. A missing PostgreSQL fails the suite with a message: `make test` installs it.
"""

from __future__ import annotations

import subprocess
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.ledger.pgcluster import ClusterError, throwaway_cluster
from tests.ledger.spec import BackendSpec


@pytest.fixture(scope="session")
def pg_dsn() -> Iterator[str]:
    try:
        with throwaway_cluster() as dsn:
            yield dsn
    except ClusterError as exc:
        pytest.fail(str(exc), pytrace=False)


@pytest.fixture(params=["git", "sqlite", "postgres"])
def backend(request: pytest.FixtureRequest, tmp_path: Path) -> BackendSpec:
    """A fresh, empty ledger of each backend, as a spec that tests and worker processes can open."""
    name = request.param
    if name == "git":
        remote = tmp_path / "ledger-remote.git"
        subprocess.run(["git", "init", "-q", "--bare", str(remote)], check=True)
        return BackendSpec("git", str(remote), str(tmp_path / "clones"))
    if name == "sqlite":
        return BackendSpec("sqlite", str(tmp_path / "ledger.db"))
    dsn = request.getfixturevalue("pg_dsn")
    return BackendSpec("postgres", dsn, "t_" + uuid.uuid4().hex[:12])
