"""`kpi` and `audit` over a 1,000,000-record ledger, on SQLite and PostgreSQL: time and peak memory.

The ledger is what a conforming grade-1 system leaves over about six years (`_cycle`): attested approvals,
test evidence, deployments with the facts their gate recorded, production tests, acceptance, review and
closure, PIRs, 2 % failures with their incidents; every record a job writes carries that job's OIDC
signature, which the audit verifies. The 100,000- and 1,000,000-record ledgers share the same prefix of
whole cycles. Each measurement runs the real command in a fresh process and reports its wall time and
peak RSS.
The reference, measured in the same run on the same ledger, is a plain streamed scan of every stored record
(`SELECT body FROM records`). Memory is bounded when the peak at 1,000,000 records is about the peak at
100,000. Target: each command under 10 s at 1,000,000 records (the median of GATEKEEPER_BENCH_REPEAT runs,
3 by default).

Set GATEKEEPER_BENCH_PG_DSN to use an existing PostgreSQL; otherwise a throw-away cluster is started with
initdb (as an unprivileged user when run as root). `python -m benchmarks bench_audit`.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import resource
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

REPEAT = int(os.environ.get("GATEKEEPER_BENCH_REPEAT", "3"))
SIZES = tuple(int(s) for s in os.environ.get("GATEKEEPER_BENCH_SIZES", "100000,1000000").split(","))
SYSTEM = "minwon-portal"
RFCS = 2_000
STEPS = ("change-review", "cab", "change-approval", "release-first", "release-second")
WHO = ("kim", "jung", "park", "choi", "lee")  # five people, one per step of STEPS: no one gives two
DIGEST = "sha256:" + "0" * 64
MEMBERS = {
    "agency-manager": ["park"],
    "agency-officer": ["kim", "lee"],
    "operator-manager": ["choi"],
    "cab": ["jung", "kim", "park"],
}
CONFIG = """\
version: 1
system: {{id: minwon-portal, name: 민원포털, grade: 1, audience: public}}
policy: kr-ap-sop
timezone: Asia/Seoul
roles:
  agency-manager: [park]
  agency-officer: [kim, lee]
  operator-manager: [choi]
  cab: [jung, kim, park]
rfc: {{id_pattern: 'RFC-\\d{{4}}-\\d{{4}}', store: files, dir: changes}}
platform: {{github: {{oidc: {{repository: minwon/portal, keys_file: oidc-keys.json}}}}}}
{ledger}
baseline:
  items:
    - {{id: source, kind: source, paths: ['app/**/*.py']}}
"""
RFC = """\
id: RFC-2026-{n:04d}
title: 민원 신청 화면 개선 {n}
type: normal
requester: lee
worker: choi
systems: [minwon-portal]
reason: 민원인 입력 오류를 줄이기 위해 신청 화면의 검증을 강화한다
work_plan: 검증 로직 추가 후 검증계에서 확인하고 운영계에 배포한다
test_plan: 단위테스트 40건, 통합테스트 12건, 사전검증 시나리오 5건을 수행한다
rollback_plan: 이전 릴리스 태그로 재배포하고 신청 테이블 정합성을 점검한다
"""


REPOSITORY = "minwon/portal"
KEYS_FILE = ".gatekeeper/oidc-keys.json"
# Cycles run from 18:10 to 08:00 KST (09:10-23:00 UTC), every 30 minutes: normal changes of a grade-1
# system stay out of business hours (CHG-P3), and each cycle's records are done before the next begins.
FIRST_DAY = datetime(2019, 6, 3, 9, 10, tzinfo=UTC)
PER_DAY = 27
SPACING = timedelta(minutes=30)
_KEY: object = None


def _key() -> object:
    """The job tokens' signing key, one per process (the pool's workers get the parent's by `_init`)."""
    global _KEY
    if _KEY is None:
        from gatekeeper.adapters.localissuer import SigningKey

        _KEY = SigningKey.generate("bench-1")
    return _KEY


def _init(key: object) -> None:
    global _KEY
    _KEY = key


def _sign(draft: object, actor: str, *, sha: str = "0" * 40, approval: bool = False) -> object:
    """`draft` carrying the OIDC token a GitHub job of REPOSITORY run by `actor` got for it: the approval
    workflow's for an approval (`approve`), a job on commit `sha` for a record a pipeline writes."""
    import dataclasses

    import jwt

    from gatekeeper.adapters.localissuer import github_claims
    from gatekeeper.domain.attestation import audience, digest_of

    key = _key()
    digest = digest_of(draft)
    moment = int(draft.at.timestamp())  # type: ignore[attr-defined]
    claims = github_claims(REPOSITORY, actor, sha=sha)
    if not approval:
        claims["job_workflow_ref"] = f"{REPOSITORY}/.github/workflows/deploy.yml@refs/heads/main"
    body = {
        "jti": str(uuid.uuid4()),
        "iss": "https://token.actions.githubusercontent.com",
        "aud": audience(digest),
        "iat": moment,
        "nbf": moment - 5,
        "exp": moment + 300,
        **claims,
    }
    token = jwt.encode(body, key.private, algorithm="RS256", headers={"kid": key.kid})  # type: ignore[attr-defined]
    attestation = {"provider": "github", "token": token, "jwk": key.jwk, "digest": digest}  # type: ignore[attr-defined]
    return dataclasses.replace(draft, data={**draft.data, "attestation": attestation})  # type: ignore[type-var,attr-defined]


def _cycle(cycle: int, system: str = SYSTEM) -> list[object]:
    """One deployment cycle's records, as the commands write them on a grade-1 system that conforms: five
    attested approvals, the commit's unit and integration evidence, the deployment with the facts its gate
    recorded, then (success) the production tests, the acceptance, the review and the closure, or
    (failure, one in 50) the incident and its intermediate report; and the PIR. Every record a CI job or
    an approval job writes carries that job's signature."""
    from gatekeeper.ledger import Draft

    rfc = f"RFC-2026-{1 + cycle % RFCS:04d}"
    commit = hashlib.sha1(b"%d" % cycle).hexdigest()
    moment = FIRST_DAY + timedelta(days=cycle // PER_DAY) + SPACING * (cycle % PER_DAY)
    batch: list[object] = []

    def add(kind: str, actor: str, minutes: int, data: dict[str, object], **signing: object) -> object:
        draft = Draft(
            kind, system, actor, "github-actions", moment + timedelta(minutes=minutes), data, (rfc,)
        )
        signed = _sign(draft, actor, **signing)  # type: ignore[arg-type]
        batch.append(signed)
        return signed

    totals = {"tests": 52, "passed": 52, "failed": 0, "errors": 0, "skipped": 0}
    for j, kind in enumerate(("unit", "integration")):
        data: dict[str, object] = {"kind": kind, "commit": commit, "files": [], "totals": totals}
        add("test.evidence", "ci", j, data, sha=commit)
    # The release steps certify a commit whose tests the ledger already holds (approval.before-evidence).
    for i, (step, who) in enumerate(zip(STEPS, WHO, strict=True)):
        data = {"step": step, "decision": "approve", "rfc_digest": DIGEST, "comment": ""}
        if step.startswith("release-"):
            data["commit"] = commit  # a release step certifies the commit deployed (`approve --commit`)
        add("approval", who, 2 + i, data, approval=True)
    # As `deploy start` records it: the facts it decided on (seqs of the records counted are filled
    # in by `_rows`, which places the records).
    facts = {
        "at": (moment + timedelta(minutes=10)).isoformat(),
        "rfcs": {rfc: DIGEST},
        "approvals": [
            {
                "rfc": rfc,
                "step": step,
                "decision": "approve",
                "actor": who,
                "actor_source": "github-actions",
                "at": (moment + timedelta(minutes=2 + i)).isoformat(),
                "digest": DIGEST,
                "commit": commit if step.startswith("release-") else "",
            }
            for i, (step, who) in enumerate(zip(STEPS, WHO, strict=True))
        ],
        "evidence": [],
        "identities": ["dev", "dev@example.org"],
        "members": MEMBERS,
        "config": DIGEST,
        "policy": {"name": "kr-ap-sop", "digest": DIGEST},
        "findings": [],
    }
    started = Draft(
        "deployment.started",
        system,
        "ci",
        "github-actions",
        moment + timedelta(minutes=10),
        {
            "change_type": "normal",
            "commit": commit,
            "environment": "production",
            "warnings": [],
            "facts": facts,
        },
        (rfc,),
    )
    failed = cycle % 50 == 49
    finished = Draft(
        "deployment.finished",
        system,
        "ci",
        "github-actions",
        moment + timedelta(minutes=20),
        {
            "deployment_id": started.id,
            "environment": "production",
            "result": "failure" if failed else "success",
            "change_type": "normal",
            "worker": "choi",
            "verifier": "lee",
        },
        (rfc,),
    )
    batch += [_sign(started, "ci", sha=commit), _sign(finished, "ci", sha=commit)]  # by the deploying job
    if failed:
        incident = add(
            "incident.opened",
            "ci",
            21,
            {"deployment_id": started.id, "type": "deployment-failure", "grade": 1, "status": "open"},
            sha=commit,
        )
        # The operator reports the grade-1 incident at an intermediate step, as SOP INC demands.
        report = {"incident": incident.id, "note": "중간보고", "report": True}  # type: ignore[attr-defined]
        batch.append(
            Draft(
                "incident.updated",
                system,
                "choi",
                "github-actions",
                moment + timedelta(minutes=22),
                report,
                (rfc,),
            )
        )
    else:
        # The production tests bound to the deployment, the requester's acceptance, the operator
        # manager's review and the agency officer's closure (seed 002 배포관리 3.1-4.3).
        for j, kind in enumerate(("unit", "integration")):
            data = {"kind": kind, "commit": commit, "totals": totals, "deployment": started.id}
            add("test.evidence", "ci", 21 + j, data, sha=commit)
        add("release.accepted", "lee", 23, {"deployment": started.id, "result": "accepted"})
        add("release.reviewed", "choi", 24, {"deployment": started.id, "consistent": True})
        add("change.closed", "kim", 26, {"deployment": started.id})
    # Every CAB-reviewed change gets its PIR (a failed one too: not achieved, with the follow-up
    # `gatekeeper pir` demands of it — without one the PIR settles nothing), as the gate demands.
    pir: dict[str, object] = {"result": "not-achieved" if failed else "achieved", "note": ""}
    if failed:
        pir["follow_up"] = f"{rfc}: 실패 원인 분석 후 재배포"
    add("pir", "kim", 28, pir)
    return batch


def _drafts(total: int, system: str = SYSTEM) -> Iterator[object]:
    """The records of the whole cycles that fit in `total` records, signed on both cores."""
    import functools
    import multiprocessing

    made = 0
    with multiprocessing.get_context("fork").Pool(2, initializer=_init, initargs=(_key(),)) as pool:
        # A cycle has at least 12 records: these are enough cycles, and a bounded task list.
        cycles = range(total // 12 + 1)
        for batch in pool.imap(functools.partial(_cycle, system=system), cycles, chunksize=64):
            if made + len(batch) > total:
                break  # whole cycles: the ledger ends with a deployment that finished
            yield from batch
            made += len(batch)


def _rows(total: int) -> Iterator[tuple[int, str, str, str, tuple[str, ...], str, str, str]]:
    record = None
    approvals: list[int] = []
    evidence: list[int] = []
    for draft in _drafts(total):
        facts = draft.data.get("facts")  # type: ignore[attr-defined]
        if facts is not None:  # the records this deployment counted: the cycle's approvals and evidence
            for approval, seq in zip(facts["approvals"], approvals[-5:], strict=False):
                approval["seq"] = seq
            facts["evidence"] = evidence[-2:]
        record = draft.place_after(record)  # type: ignore[attr-defined]
        if record.kind == "approval":
            approvals.append(record.seq)
        elif record.kind == "test.evidence":
            evidence.append(record.seq)
        yield (
            record.seq,
            record.id,
            record.kind,
            record.system,
            record.rfcs,
            record.at,
            record.hash,
            record.to_json(),
        )


def _fill_sqlite(paths: dict[int, Path]) -> None:
    import sqlite3

    from gatekeeper.ledger.sqlite import SqliteLedger

    dbs = {}
    for size, path in paths.items():
        SqliteLedger(path).close()  # the backend creates its own schema
        db = sqlite3.connect(path)
        db.execute("PRAGMA synchronous = OFF")
        dbs[size] = db
    batch: list[tuple[int, str, str, str, tuple[str, ...], str, str, str]] = []
    cycle: list[tuple[int, str, str, str, tuple[str, ...], str, str, str]] = []
    cut: dict[int, int] = {}  # size -> the first seq left out of that ledger

    def flush() -> None:
        for size, db in dbs.items():
            rows = [r for r in batch if r[0] < cut.get(size, size + 1)]
            # kind, system, time and RFCs are generated by SQLite from the body.
            db.executemany(
                "INSERT INTO records (seq, id, hash, body) VALUES (?, ?, ?, ?)",
                [(s, i, h, b) for s, i, _k, _sy, _r, _a, h, b in rows],
            )
        batch.clear()

    # A smaller ledger is a prefix of whole cycles (each ends with its PIR): its last cycle has its PIR.
    for row in _rows(max(paths)):
        cycle.append(row)
        if row[2] == "pir":
            last = row[0]
            batch.extend(cycle)
            for size in dbs:
                if last > size:  # the cycle crosses this ledger's end: it stays out of that ledger
                    cut.setdefault(size, cycle[0][0])
            cycle.clear()
        if len(batch) >= 20_000:
            flush()
    flush()
    for db in dbs.values():
        db.commit()
        db.close()


def _fill_postgres(dsn: str, schema: str, source: Path) -> None:
    """Copy the 1,000,000 records from the SQLite file into the backend's PostgreSQL schema."""
    import sqlite3

    import psycopg

    from gatekeeper.ledger.postgres import PostgresLedger

    PostgresLedger(dsn, schema).close()
    src = sqlite3.connect(source)
    with psycopg.connect(dsn) as db, db.cursor() as cursor:
        # kind, system, rfcs, at and data are generated from the body by the database.
        with cursor.copy(f"COPY {schema}.records (seq, id, hash, body) FROM STDIN") as copy:
            for row in src.execute("SELECT seq, id, hash, body FROM records ORDER BY seq"):
                copy.write_row(row)
        db.commit()
    # A ledger in service has long been vacuumed (insert-triggered autovacuum): its rows carry their
    # hint bits, which a table filled a moment ago would make the first reader write.
    with psycopg.connect(dsn, autocommit=True) as db:
        db.execute(f"VACUUM (FREEZE, ANALYZE) {schema}.records")
        with contextlib.suppress(psycopg.errors.InsufficientPrivilege):  # a server of GATEKEEPER_BENCH_PG_DSN
            db.execute("CHECKPOINT")
    src.close()
    os.sync()  # the measurements should not share the machine with writing back the load


def _repo(folder: Path, ledger: str) -> Path:
    folder.mkdir(parents=True)
    (folder / ".gatekeeper.yml").write_text(CONFIG.format(ledger=ledger), encoding="utf-8")
    (folder / ".gitignore").write_text(".gatekeeper/\n", encoding="utf-8")
    (folder / "changes").mkdir()
    for n in range(1, RFCS + 1):
        (folder / "changes" / f"RFC-2026-{n:04d}.yml").write_text(RFC.format(n=n), encoding="utf-8")
    (folder / "app").mkdir()
    (folder / "app" / "main.py").write_text("LIMIT = 1\n", encoding="utf-8")
    (folder / "oidc-keys.json").write_text(json.dumps({"keys": [_key().jwk]}), encoding="utf-8")  # type: ignore[attr-defined]
    env = {
        **os.environ,
        "GIT_AUTHOR_NAME": "Dev",
        "GIT_AUTHOR_EMAIL": "d@example.org",
        "GIT_COMMITTER_NAME": "Dev",
        "GIT_COMMITTER_EMAIL": "d@example.org",
    }
    for args in (
        ["init", "-q", "-b", "main"],
        ["add", "-A"],
        ["commit", "-q", "-m", "RFC-2026-0001 민원 신청 화면 검증 강화"],
    ):
        subprocess.run(["git", *args], cwd=folder, check=True, env=env, capture_output=True)
    return folder


def _baseline(folder: Path, env: dict[str, str]) -> None:
    """The configuration baseline the auditor records once the ledger is in place (CFG-P1)."""
    subprocess.run(
        [sys.executable, "-m", "gatekeeper", "baseline", "create"],
        cwd=folder,
        env=env,
        check=True,
        capture_output=True,
    )


def _child(command: list[str], cwd: Path, env: dict[str, str]) -> tuple[float, int]:
    """Run `gatekeeper COMMAND` in a fresh interpreter; (seconds, peak RSS in MiB)."""
    code = (
        "import json, resource, sys, time\n"
        "from gatekeeper.cli import main\n"
        "t = time.perf_counter()\n"
        "sys.stdout = open('/dev/null', 'w')\n"
        f"rc = main({command!r})\n"
        "sys.stdout = sys.__stdout__\n"
        # VmHWM belongs to this program's memory map; ru_maxrss would carry the parent's peak over exec.
        "hwm = [l for l in open('/proc/self/status') if l.startswith('VmHWM:')][0].split()[1]\n"
        "print(json.dumps({'rc': rc, 's': time.perf_counter() - t, 'rss': int(hwm)}))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=cwd, env=env, capture_output=True, text=True, check=True
    )
    result = json.loads(out.stdout.strip().splitlines()[-1])
    if result["rc"] not in (0, 1):
        raise RuntimeError(f"gatekeeper {' '.join(command)} failed: {out.stderr[-2000:]}")
    return float(result["s"]), int(result["rss"]) // 1024


def _scan_sqlite(path: Path) -> float:
    import sqlite3

    start = time.perf_counter()
    db = sqlite3.connect(path)
    total = 0
    for (body,) in db.execute("SELECT body FROM records ORDER BY seq"):
        total += len(body)
    db.close()
    return time.perf_counter() - start


def _scan_postgres(dsn: str, schema: str) -> float:
    import psycopg

    start = time.perf_counter()
    with psycopg.connect(dsn) as db, db.cursor(name="scan") as cursor:
        cursor.itersize = 5000
        cursor.execute(f"SELECT body FROM {schema}.records ORDER BY seq")
        total = sum(len(body) for (body,) in cursor)
    assert total
    return time.perf_counter() - start


def _measure(label: str, repo: Path, env: dict[str, str], reference: float) -> None:
    """Each command REPEAT times: the median decides (this machine's speed varies by a fifth from one
    minute to the next), the range is printed beside it."""
    for command in (["kpi"], ["audit", "--no-record"]):
        runs = [_child(command, repo, env) for _ in range(REPEAT)]
        times = sorted(seconds for seconds, _ in runs)
        seconds = statistics.median(times)
        rss = max(peak for _, peak in runs)
        verdict = "ok" if seconds < 10 else "OVER 10 s"
        spread = f" ({times[0]:.2f}-{times[-1]:.2f})" if len(times) > 1 else ""
        print(
            f"  {label:<22} {' '.join(command):<18} {seconds:7.2f} s{spread}  peak {rss:5d} MiB  "
            f"{seconds / reference:5.2f}x scan ({reference:.2f} s)  {verdict}",
            flush=True,
        )


def _postgres() -> tuple[str, object]:
    """A DSN and a stopper: the configured server, or a throw-away cluster."""
    given = os.environ.get("GATEKEEPER_BENCH_PG_DSN")
    if given:
        return given, lambda: None
    initdb = shutil.which("initdb") or next(
        iter(sorted(Path("/usr/lib/postgresql").glob("*/bin/initdb"))), None
    )
    pg_ctl = shutil.which("pg_ctl") or str(Path(str(initdb)).with_name("pg_ctl"))
    if initdb is None:
        raise RuntimeError("PostgreSQL is not installed (make system-deps)")
    prefix: list[str] = []
    base = Path(tempfile.mkdtemp(prefix="gatekeeper-bench-pg-"))
    if os.geteuid() == 0:
        import pwd

        user = "gatekeeper-test"
        try:
            entry = pwd.getpwnam(user)
        except KeyError:
            subprocess.run(
                ["useradd", "--system", "--no-create-home", "--shell", "/usr/sbin/nologin", user], check=True
            )
            entry = pwd.getpwnam(user)
        os.chown(base, entry.pw_uid, entry.pw_gid)
        prefix = ["runuser", "-u", user, "--"]
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    data = base / "data"
    env = {"PATH": os.environ.get("PATH", ""), "LANG": "C.UTF-8", "LC_ALL": "C.UTF-8"}
    subprocess.run(
        [
            *prefix,
            str(initdb),
            "-D",
            str(data),
            "-U",
            "gatekeeper",
            "--auth=trust",
            "-E",
            "UTF8",
            "--no-sync",
        ],
        check=True,
        capture_output=True,
        env=env,
    )
    options = f"-p {port} -k {base} -c listen_addresses=127.0.0.1 -c fsync=off -c shared_buffers=256MB"
    subprocess.run(
        [*prefix, pg_ctl, "-D", str(data), "-l", str(base / "log"), "-o", options, "-w", "start"],
        check=True,
        capture_output=True,
        env=env,
    )

    def stop() -> None:
        subprocess.run(
            [*prefix, pg_ctl, "-D", str(data), "-m", "immediate", "stop"], capture_output=True, env=env
        )
        shutil.rmtree(base, ignore_errors=True)

    return f"postgresql://gatekeeper@127.0.0.1:{port}/postgres", stop


def main() -> None:
    work = Path(tempfile.mkdtemp(prefix="gatekeeper-bench-audit-"))
    env = {k: v for k, v in os.environ.items() if not k.startswith(("GITHUB_", "GITLAB_", "CI"))}
    env["GATEKEEPER_LANG"] = "en"
    try:
        repos = {
            size: _repo(work / f"sqlite-{size}", "ledger: {backend: sqlite, path: .gatekeeper/ledger.db}")
            for size in SIZES
        }
        paths = {size: repo / ".gatekeeper" / "ledger.db" for size, repo in repos.items()}
        start = time.perf_counter()
        _fill_sqlite(paths)
        for repo in repos.values():  # the PostgreSQL ledger, a copy of the largest, has its baseline too
            _baseline(repo, env)
        os.sync()  # the measurements should not share the machine with writing back the load
        print(f"  generated {max(SIZES):,} records in {time.perf_counter() - start:.1f} s", flush=True)
        for size in SIZES:
            _measure(f"sqlite {size:>9,}", repos[size], env, _scan_sqlite(paths[size]))
        dsn, stop = _postgres()
        try:
            schema = "bench_" + uuid.uuid4().hex[:8]
            _fill_postgres(dsn, schema, paths[max(SIZES)])
            repo = _repo(
                work / "postgres", f"ledger: {{backend: postgres, dsn_env: BENCH_DSN, schema: {schema}}}"
            )
            _measure(
                f"postgres {max(SIZES):>9,}", repo, {**env, "BENCH_DSN": dsn}, _scan_postgres(dsn, schema)
            )
        finally:
            stop()  # type: ignore[operator]
    finally:
        shutil.rmtree(work, ignore_errors=True)
    print(f"  (bench process peak {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024} MiB)")


if __name__ == "__main__":
    main()
