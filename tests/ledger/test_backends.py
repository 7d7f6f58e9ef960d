"""The shared backend suite: every test runs against git (local bare remote), SQLite and PostgreSQL."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from gatekeeper.domain import DeploymentResult
from gatekeeper.errors import ExitCode, InputError, LedgerError, LedgerIntegrityError
from gatekeeper.ledger import GENESIS, Draft, record_hash, verify_chain
from gatekeeper.ledger.lock import (
    DeploymentLocked,
    finished_draft,
    held_locks,
    open_deployments,
    require_open,
    require_unlocked,
    started_draft,
)
from tests.ledger.spec import BackendSpec, make_draft
from tests.ledger.tamper import rewrite, stored_texts

ROOT = Path(__file__).resolve().parents[2]
NOW = datetime(2026, 11, 24, 11, 0, tzinfo=UTC)


def _fill(spec: BackendSpec, count: int) -> None:
    ledger = spec.open()
    try:
        for i in range(count):
            ledger.append(make_draft(i))
    finally:
        ledger.close()


# ------------------------------------------------------------------------------------------ basics


def test_append_chains_records_and_reads_them_back(backend: BackendSpec) -> None:
    ledger = backend.open()
    assert ledger.head() is None
    assert ledger.verify().ok and ledger.verify().count == 0
    first = ledger.append(make_draft(1))
    second = ledger.append(make_draft(2, kind="pir", system="other"))
    assert (first.seq, first.prev) == (1, GENESIS)
    assert (second.seq, second.prev) == (2, first.hash)
    assert record_hash(second.as_dict()) == second.hash
    ledger.close()

    reader = backend.open()
    assert reader.head() == second
    assert list(reader.records()) == [first, second]
    assert list(reader.records(2)) == [second]
    result = reader.verify()
    assert (result.ok, result.count, result.head) == (True, 2, second.hash)
    reader.close()


def test_find_filters_by_kind_system_rfc_and_time(backend: BackendSpec) -> None:
    ledger = backend.open()
    early = Draft("approval", "a", "kim", "local", NOW - timedelta(days=2), {}, ("RFC-1",))
    late = Draft("pir", "a", "kim", "local", NOW.astimezone(), {}, ("RFC-1", "RFC-2"))
    other = Draft("approval", "b", "kim", "local", NOW + timedelta(hours=1), {}, ())
    stored = [ledger.append(d) for d in (early, late, other)]
    assert [r.seq for r in ledger.find(kind="approval")] == [1, 3]
    assert [r.seq for r in ledger.find(system="a")] == [1, 2]
    assert [r.seq for r in ledger.find(rfc="RFC-2")] == [2]
    assert [r.seq for r in ledger.find(rfc="RFC-1", kind="pir")] == [2]
    assert [r.seq for r in ledger.find(since=NOW - timedelta(days=1))] == [2, 3]
    assert [r.seq for r in ledger.find(until=NOW)] == [1]
    assert list(ledger.find(kind="approval", system="a", rfc="RFC-2")) == []
    assert stored[1].at == NOW.isoformat()  # the offset given is kept
    ledger.close()


def test_find_reads_the_records_carrying_a_token_within_a_time(backend: BackendSpec) -> None:
    """`carrying`: the records whose stored text holds a GitLab token (`adapters.oidc.Attestor._replay`),
    the same on every backend; a token inside another one, or in another field, is found too (the caller
    checks where)."""
    ledger = backend.open()
    token = "eyJhbGciOiJSUzI1NiJ9.eyJqdGkiOiJhIn0.c2ln"
    signed = {"attestation": {"provider": "gitlab", "token": token}}
    drafts = [
        Draft("approval", "a", "kim", "gitlab-ci", NOW, signed, ("RFC-1",)),
        Draft("approval", "a", "kim", "gitlab-ci", NOW, {"attestation": {"token": token + "x"}}, ()),
        Draft("pir", "b", "kim", "gitlab-ci", NOW + timedelta(minutes=5), {"note": f"copied {token}"}, ()),
        Draft("pir", "a", "kim", "gitlab-ci", NOW + timedelta(hours=3), signed, ("RFC-2",)),
        Draft("approval", "a", "kim", "gitlab-ci", NOW, {"attestation": {"token": token[:-1]}}, ()),
    ]
    for draft in drafts:
        ledger.append(draft)
    assert [r.seq for r in ledger.find(carrying=token)] == [1, 2, 3, 4]
    hour = timedelta(hours=1)
    assert [r.seq for r in ledger.find(carrying=token, since=NOW - hour, until=NOW + hour)] == [1, 2, 3]
    assert [r.seq for r in ledger.find(carrying=token, kind="pir")] == [3, 4]
    assert list(ledger.find(carrying="not-in-any-record")) == []
    ledger.close()


def test_a_find_inside_a_find_reads_both_whole(backend: BackendSpec) -> None:
    """A reader that judges each record as a stream hands it over may look other records up meanwhile (the
    attestor reads a GitLab token's other records, `adapters.oidc.Attestor._replay`): both readings are
    whole, on every backend."""
    ledger = backend.open()
    for i in range(12):
        ledger.append(make_draft(i))
    outer, inner = [], []
    for record in ledger.find():
        outer.append(record.seq)
        inner.append(
            [r.seq for r in ledger.find(since=record.moment, until=record.moment + timedelta(seconds=1))]
        )
    assert outer == list(range(1, 13))
    assert all(record in found for record, found in zip(outer, inner, strict=True)), inner
    assert ledger.head() is not None and ledger.head().seq == 12  # the connection is still usable
    ledger.close()


def test_a_refusing_precondition_stores_nothing(backend: BackendSpec) -> None:
    ledger = backend.open()
    ledger.append(make_draft(1))

    def refuse(reader: object) -> None:
        raise InputError("refused")

    with pytest.raises(InputError):
        ledger.append(make_draft(2), refuse)
    ledger.close()
    again = backend.open()
    assert [r.seq for r in again.records()] == [1]
    assert again.append(make_draft(3)).seq == 2
    again.close()


# ------------------------------------------------------------------------------------------ the lock


def test_deployment_lock_refuses_a_second_start_names_the_holder_and_closes_on_finish(
    backend: BackendSpec,
) -> None:
    ledger = backend.open()
    start = started_draft(
        system="minwon-portal",
        environment="prod",
        rfcs=("RFC-2026-0001",),
        actor="kim",
        actor_source="github-actions",
        at=NOW,
    )
    held = ledger.append(start, require_unlocked("minwon-portal", "prod", now=NOW))
    other_env = started_draft(
        system="minwon-portal", environment="staging", rfcs=(), actor="lee", actor_source="local", at=NOW
    )
    ledger.append(other_env, require_unlocked("minwon-portal", "staging", now=NOW))  # another environment
    second = started_draft(
        system="minwon-portal", environment="prod", rfcs=(), actor="lee", actor_source="local", at=NOW
    )
    with pytest.raises(DeploymentLocked) as refused:
        ledger.append(second, require_unlocked("minwon-portal", "prod", now=NOW))
    assert refused.value.exit_code == ExitCode.BLOCKED
    assert "kim" in refused.value.message and "RFC-2026-0001" in refused.value.message
    assert f"seq {held.seq}" in refused.value.message

    finish = finished_draft(
        held, result=DeploymentResult.SUCCESS, actor="kim", actor_source="github-actions", at=NOW
    )
    ledger.append(finish, require_open("minwon-portal", "prod", held.id))
    assert [r.id for r in open_deployments(ledger, "minwon-portal", "prod")] == []
    again = finished_draft(held, result=DeploymentResult.SUCCESS, actor="kim", actor_source="local", at=NOW)
    with pytest.raises(InputError):
        ledger.append(again, require_open("minwon-portal", "prod", held.id))  # already closed
    assert ledger.append(second, require_unlocked("minwon-portal", "prod", now=NOW)).seq == 4
    ledger.close()


def test_a_stale_lock_is_reported_never_broken_and_closed_by_an_explicit_abort(backend: BackendSpec) -> None:
    ledger = backend.open()
    old = ledger.append(
        started_draft(system="s", environment="prod", rfcs=(), actor="kim", actor_source="local", at=NOW)
    )
    later = NOW + timedelta(hours=30)
    [lock] = held_locks(ledger, "s", "prod", now=later, stale_hours=12)
    assert lock.stale and lock.age_hours == pytest.approx(30)
    attempt = started_draft(
        system="s", environment="prod", rfcs=(), actor="lee", actor_source="local", at=later
    )
    with pytest.raises(DeploymentLocked, match=r"STALE.*never broken automatically"):
        ledger.append(attempt, require_unlocked("s", "prod", now=later, stale_hours=12))
    assert ledger.head() == old  # nothing was stored, the lock still stands
    abort = finished_draft(old, result=DeploymentResult.ABORTED, actor="park", actor_source="local", at=later)
    closed = ledger.append(abort, require_open("s", "prod"))
    assert closed.data["result"] == "aborted" and closed.data["started"] == old.id
    assert ledger.append(attempt, require_unlocked("s", "prod", now=later)).seq == 3
    ledger.close()


# ------------------------------------------------------------------------------------------ concurrency

_SIZES = {"git": (8, 25), "sqlite": (16, 250), "postgres": (16, 1000)}


def _collect(workers: list[subprocess.Popen[str]]) -> list[str]:
    """Every worker's output lines; all workers are reaped even when one fails."""
    lines: list[str] = []
    failures: list[str] = []
    try:
        for worker in workers:
            out, err = worker.communicate()
            lines += out.splitlines()
            if worker.returncode != 0:
                failures.append(err)
    finally:
        for worker in workers:
            if worker.poll() is None:
                worker.kill()
                worker.communicate()
    assert not failures, failures[0]
    return lines


def _spawn(spec: BackendSpec, mode: str, count: int, tag: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "tests.ledger.worker", spec.to_json(), mode, str(count), tag],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


@pytest.mark.slow
def test_concurrent_processes_lose_nothing_and_keep_the_chain_linear(backend: BackendSpec) -> None:
    processes, each = _SIZES[backend.name]
    _fill(backend, 1)  # the schema / branch exists before the storm
    workers = [_spawn(backend, "append", each, f"w{i}") for i in range(processes)]
    reported = _collect(workers)
    assert len(reported) == processes * each
    ledger = backend.open()
    result = ledger.verify()
    assert result.ok, result
    assert result.count == processes * each + 1
    stored = [r.id for r in ledger.records()]
    assert set(reported) <= set(stored) and len(set(stored)) == len(stored)
    per_worker = Counter(str(r.data.get("worker")) for r in ledger.records(2))
    assert per_worker == {f"w{i}": each for i in range(processes)}
    ledger.close()


@pytest.mark.slow
def test_exactly_one_winner_of_every_raced_deployment_start(backend: BackendSpec) -> None:
    processes, rounds = (6, 5) if backend.name == "git" else (12, 20)
    _fill(backend, 1)
    workers = [_spawn(backend, "race", rounds, f"p{i}") for i in range(processes)]
    outcomes = _collect(workers)
    wins = Counter(line.split()[1] for line in outcomes if line.startswith("won"))
    assert wins == {f"sys-{r}": 1 for r in range(1, rounds + 1)}
    assert len(outcomes) == processes * rounds
    ledger = backend.open()
    assert ledger.verify().ok
    started = Counter(r.system for r in ledger.find(kind="deployment.started"))
    assert started == wins
    ledger.close()


def test_a_process_killed_mid_append_leaves_no_partial_record(backend: BackendSpec) -> None:
    _fill(backend, 1)
    for round_ in range(3):
        worker = _spawn(backend, "forever", 0, f"k{round_}")
        assert worker.stdout is not None
        seen = 0
        for _line in worker.stdout:
            seen += 1
            if seen >= 3 + 2 * round_:
                break
        worker.send_signal(signal.SIGKILL)
        worker.wait()
        assert worker.stdout is not None and worker.stderr is not None
        seen += len(worker.stdout.read().split())
        worker.stdout.close()
        worker.stderr.close()
        ledger = backend.open()
        result = ledger.verify()
        assert result.ok, result
        stored = Counter(str(r.data.get("worker")) for r in ledger.records())
        assert stored[f"k{round_}"] >= seen  # every append the worker reported is stored
        assert stored[f"k{round_}"] <= seen + 1  # at most the one in flight, and then whole
        ledger.close()


# ------------------------------------------------------------------------------------------ tampering


def _tampered(backend: BackendSpec, change: str) -> tuple[int | None, str]:
    _fill(backend, 6)
    texts = stored_texts(backend)
    if change == "edit":
        body = json.loads(texts[2])
        body["data"]["n"] = 999
        texts[2] = json.dumps(body, sort_keys=True, separators=(",", ":"))
    elif change == "delete":
        del texts[2]
    elif change == "insert":
        # A well-formed forgery chained onto record 2, pushed in before the real record 3.
        forged = Draft("approval", "minwon-portal", "mallory", "local", NOW, {}, ()).place(
            3, json.loads(texts[1])["hash"]
        )
        texts.insert(2, forged.to_json())
    elif change == "reorder":
        texts[2], texts[3] = texts[3], texts[2]
    elif change == "truncate":
        texts[1] = texts[1][: len(texts[1]) // 2]
    rewrite(backend, texts)
    ledger = backend.open()
    result = ledger.verify()
    ledger.close()
    assert not result.ok
    return result.first_bad_seq, result.reason


@pytest.mark.parametrize(
    ("change", "first_bad", "reason"),
    [
        ("edit", 3, "content does not match its hash"),
        ("delete", 3, "expected seq 3, found 4"),
        ("insert", 4, "expected seq 4, found 3"),
        ("reorder", 3, "expected seq 3, found 4"),
        ("truncate", 2, "unreadable"),
    ],
)
def test_verify_names_the_first_bad_seq(
    backend: BackendSpec, change: str, first_bad: int, reason: str
) -> None:
    seq, why = _tampered(backend, change)
    assert seq == first_bad
    assert reason in why


def test_reading_a_corrupt_record_is_an_integrity_error_not_a_crash(backend: BackendSpec) -> None:
    _fill(backend, 3)
    texts = stored_texts(backend)
    texts[1] = "{not json"
    rewrite(backend, texts, head_text=texts[2])
    ledger = backend.open()
    with pytest.raises(LedgerIntegrityError, match="corrupt") as caught:
        list(ledger.records())
    assert caught.value.exit_code == ExitCode.BLOCKED
    ledger.close()


def test_verify_chain_and_the_fast_path_agree(backend: BackendSpec) -> None:
    _fill(backend, 5)
    ledger = backend.open()
    assert verify_chain(ledger.records()) == ledger.verify()
    ledger.close()


def test_a_database_going_away_is_a_ledger_error(pg_dsn: str) -> None:
    import psycopg

    backend = BackendSpec("postgres", pg_dsn, "t_gone")
    ledger = backend.open()
    ledger.append(make_draft(1))
    pid = ledger._db.info.backend_pid  # type: ignore[attr-defined]
    with psycopg.connect(backend.location, autocommit=True) as admin:
        admin.execute("SELECT pg_terminate_backend(%s)", (pid,))
    with pytest.raises(LedgerError, match=r"cannot (write|read) the PostgreSQL ledger") as caught:
        ledger.append(make_draft(2))
    assert caught.value.exit_code == ExitCode.INTERNAL
    ledger.close()
    again = backend.open()
    assert [r.seq for r in again.records()] == [1]
    again.close()


def test_verify_reads_stored_text_with_escapes_unicode_and_look_alike_members(backend: BackendSpec) -> None:
    hostile = 'tab\there\nnew line \\ back"slash" 민원 \u2028 \x7f "hash":"' + "0" * 64 + '","prev":"'
    ledger = backend.open()
    for i in range(4):
        ledger.append(make_draft(i, comment=hostile, nested={"seq": 99, "hash": "x", "prev": hostile}))
    result = ledger.verify()
    assert (result.ok, result.count) == (True, 4), result
    assert verify_chain(ledger.records()) == result
    ledger.close()


def test_verify_from_a_seq_extent_and_stored_texts(backend: BackendSpec) -> None:
    _fill(backend, 6)
    ledger = backend.open()
    records = list(ledger.records())
    assert ledger.extent() == (6, 6)
    tail = ledger.verify(4, records[2].hash)
    assert (tail.ok, tail.count, tail.head) == (True, 3, records[5].hash)
    wrong_link = ledger.verify(4, records[1].hash)
    assert (wrong_link.ok, wrong_link.first_bad_seq) == (False, 4)
    assert [(seq, json.loads(text)["seq"]) for seq, text in ledger.stored([5, 2, 9, 2])] == [(2, 2), (5, 5)]
    ledger.close()
    texts = stored_texts(backend)
    rewrite(backend, [*texts[:2], *texts[3:]], head_text=texts[-1])  # a record removed by hand
    gapless = backend.open()
    assert gapless.extent() == (5, 5)  # renumbered storage: the gap shows in the chain, not the extent
    assert not gapless.verify(3, records[1].hash).ok
    gapless.close()
