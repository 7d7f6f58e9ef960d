"""A throw-away PostgreSQL cluster: initdb in a temporary folder, a free localhost port, removed after.

PostgreSQL refuses to run as root, so as root the server runs as an unprivileged system user (created on
first use). Used by the ledger suite and the ledger benchmark.
"""

from __future__ import annotations

import contextlib
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

PG_USER = "gatekeeper-test"


class ClusterError(Exception):
    pass


def pg_bin(name: str) -> str:
    found = shutil.which(name)
    if found:
        return found
    candidates = sorted(Path("/usr/lib/postgresql").glob(f"*/bin/{name}"), reverse=True)
    if candidates:
        return str(candidates[0])
    raise ClusterError(
        f"PostgreSQL's {name} was not found: the ledger suite needs a throw-away PostgreSQL server. "
        "Run `make test` (it installs PostgreSQL through .ci/install-system-deps.sh) or install postgresql."
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


@contextlib.contextmanager
def throwaway_cluster(*, durable: bool = False) -> Iterator[str]:
    """Yields the DSN of a fresh cluster. `durable=False` turns fsync off: faster, for tests only."""
    initdb, pg_ctl = pg_bin("initdb"), pg_bin("pg_ctl")
    prefix, uid, gid = _server_user()
    base = Path(tempfile.mkdtemp(prefix="gatekeeper-pg-"))
    data = base / "data"
    port = _free_port()
    if uid is not None and gid is not None:
        os.chown(base, uid, gid)
    env = {"PATH": os.environ.get("PATH", ""), "LANG": "C.UTF-8", "LC_ALL": "C.UTF-8"}
    options = f"-p {port} -k {base} -c listen_addresses=127.0.0.1 -c max_connections=100"
    if not durable:
        options += " -c fsync=off -c full_page_writes=off"
    try:
        subprocess.run(
            [*prefix, initdb, "-D", str(data), "-U", "gatekeeper", "--auth=trust", "-E", "UTF8", "--no-sync"],
            check=True,
            capture_output=True,
            env=env,
        )
        subprocess.run(
            [*prefix, pg_ctl, "-D", str(data), "-l", str(base / "server.log"), "-o", options, "-w", "start"],
            check=True,
            capture_output=True,
            env=env,
        )
    except subprocess.CalledProcessError as exc:
        log = (base / "server.log").read_text(errors="replace") if (base / "server.log").exists() else ""
        shutil.rmtree(base, ignore_errors=True)
        raise ClusterError(f"could not start the throw-away PostgreSQL: {exc.stderr!r}\n{log}") from None
    try:
        yield f"postgresql://gatekeeper@127.0.0.1:{port}/postgres"
    finally:
        subprocess.run(
            [*prefix, pg_ctl, "-D", str(data), "-m", "immediate", "stop"], capture_output=True, env=env
        )
        shutil.rmtree(base, ignore_errors=True)


def record_columns(dsn: str, schema: str, *, generated: bool = False) -> set[str]:
    """The columns of a PostgreSQL ledger's `records` table (only those the database generates)."""
    import psycopg

    sql = (
        "SELECT column_name FROM information_schema.columns"
        " WHERE table_schema = %s AND table_name = 'records'"
        + (" AND is_generated = 'ALWAYS'" if generated else "")
    )
    with psycopg.connect(dsn) as db:
        return {name for (name,) in db.execute(sql, (schema,)).fetchall()}
