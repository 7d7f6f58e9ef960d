"""Fixtures of the shared ledger suite: a throw-away PostgreSQL cluster and one opener per backend.

The cluster is made with initdb in a temporary folder, listens on a free localhost port, runs as an
unprivileged user when the suite runs as root (PostgreSQL refuses to run as root), and is removed after
the session. A missing PostgreSQL fails the suite with a message: `make test` installs it.
"""

from __future__ import annotations

import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.ledger.spec import BackendSpec

PG_USER = "gatekeeper-test"


def _pg_bin(name: str) -> str:
    found = shutil.which(name)
    if found:
        return found
    candidates = sorted(Path("/usr/lib/postgresql").glob(f"*/bin/{name}"), reverse=True)
    if candidates:
        return str(candidates[0])
    pytest.fail(
        f"PostgreSQL's {name} was not found: the ledger suite needs a throw-away PostgreSQL server. "
        "Run `make test` (it installs PostgreSQL through .ci/install-system-deps.sh) or install postgresql.",
        pytrace=False,
    )


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _server_user() -> tuple[list[str], int | None, int | None]:
    """The command prefix that runs the server unprivileged, and that user's uid/gid (None: ourselves)."""
    if os.geteuid() != 0:
        return [], None, None
    try:
        entry = pwd.getpwnam(PG_USER)
    except KeyError:
        subprocess.run(
            ["useradd", "--system", "--no-create-home", "--shell", "/usr/sbin/nologin", PG_USER],
            check=True,
            capture_output=True,
        )
        entry = pwd.getpwnam(PG_USER)
    return ["runuser", "-u", PG_USER, "--"], entry.pw_uid, entry.pw_gid


@pytest.fixture(scope="session")
def pg_dsn() -> Iterator[str]:
    initdb, pg_ctl = _pg_bin("initdb"), _pg_bin("pg_ctl")
    prefix, uid, gid = _server_user()
    base = Path(tempfile.mkdtemp(prefix="gatekeeper-pg-"))
    data = base / "data"
    port = _free_port()
    if uid is not None and gid is not None:
        os.chown(base, uid, gid)
    env = {"PATH": os.environ.get("PATH", ""), "LANG": "C.UTF-8", "LC_ALL": "C.UTF-8"}
    try:
        subprocess.run(
            [*prefix, initdb, "-D", str(data), "-U", "gatekeeper", "--auth=trust", "-E", "UTF8", "--no-sync"],
            check=True,
            capture_output=True,
            env=env,
        )
        # Speed over crash safety for a cluster that lives for one test session.
        options = f"-p {port} -k {base} -c listen_addresses=127.0.0.1 -c fsync=off -c full_page_writes=off"
        options += " -c max_connections=100"
        subprocess.run(
            [*prefix, pg_ctl, "-D", str(data), "-l", str(base / "server.log"), "-o", options, "-w", "start"],
            check=True,
            capture_output=True,
            env=env,
        )
    except subprocess.CalledProcessError as exc:
        log = (base / "server.log").read_text(errors="replace") if (base / "server.log").exists() else ""
        shutil.rmtree(base, ignore_errors=True)
        pytest.fail(f"could not start the throw-away PostgreSQL: {exc.stderr!r}\n{log}", pytrace=False)
    try:
        yield f"postgresql://gatekeeper@127.0.0.1:{port}/postgres"
    finally:
        subprocess.run(
            [*prefix, pg_ctl, "-D", str(data), "-m", "immediate", "stop"], capture_output=True, env=env
        )
        shutil.rmtree(base, ignore_errors=True)


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
