"""The checklist is the same whichever backend holds the ledger: SQLite and PostgreSQL answer it from what
their database extracts (`gatekeeper.ledger.sql_read`), the git backend by reading every record; all
three must
give the same items, evidence and notes. The history is the hand-checked one plus records that exercise
the corners of the reduced reading: several RFCs on one record, a PIR naming two RFCs, decisions that are
not strings, one approver giving two steps, a workstation's decision that does not count, notices (one
another system's), deployments in and out of business hours, a CAB approval later rejected, an emergency
change reviewed after the fact (approve, then reject, then approve), counts under `counts` or only as a
total, booleans where numbers belong, evidence found through its commit only, and members of `data` that
are not strings."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from gatekeeper.checks.audit import AuditBuilder, checklist, feed_from_database
from gatekeeper.config import Rfc, load_policy
from gatekeeper.domain import Grade
from gatekeeper.domain.calendar import BusinessCalendar
from gatekeeper.ledger import Draft, Record
from gatekeeper.ledger.sqlite import SqliteLedger
from gatekeeper.resources import policies_dir
from tests.audit.conftest import rfc_models
from tests.audit.history import KST, SYSTEM, at, drafts, placed

NOW = datetime(2026, 12, 20, 12, 0, tzinfo=KST)
PERIODS = [
    (None, None),
    (datetime(2026, 11, 1, tzinfo=KST), datetime(2026, 12, 1, tzinfo=KST)),
    (datetime(2026, 11, 4, tzinfo=KST), None),
    (None, datetime(2026, 11, 25, tzinfo=KST)),
]
R1, R2, R3, R5, R6, R7 = (f"RFC-2026-000{n}" for n in (1, 2, 3, 5, 6, 7))


def _extra() -> list[Draft]:
    """Records appended after the hand-checked history (fixed ids, so runs compare)."""
    out: list[Draft] = []

    def add(
        kind: str,
        when: datetime,
        rfcs: tuple[str, ...],
        data: dict[str, Any],
        system: str = SYSTEM,
        actor: str = "ci",
        source: str = "github-actions",
    ) -> str:
        ident = f"x{len(out) + 1:03d}"
        out.append(Draft(kind, system, actor, source, when, data, rfcs, id=ident))
        return ident

    def approve(
        rfcs: tuple[str, ...],
        step: object,
        decision: object,
        when: datetime,
        actor: str = "",
        source: str = "",
    ) -> None:
        data = {"step": step, "decision": decision, "digest": "sha256:x"}
        add("approval", when, rfcs, data, actor=actor or f"approver-{len(out)}", source=source or "gitlab-ci")

    # Two RFCs deployed together, approved on one record; a CAB approval later rejected.
    for i, step in enumerate(["change-review", "cab", "change-approval", "release-first", "release-second"]):
        approve((R1, R5), step, "approve", at(11, 21, 9 + i), actor="Kim" if i in (0, 4) else "")
    approve((R5,), "release-first", "reject", at(11, 21, 14, 30), actor="han", source="local")  # not counted
    approve((R5,), "cab", "reject", at(11, 21, 15))
    approve((R5,), "release-second", 7, at(11, 21, 16))  # not a string: ignored
    approve((R5,), None, "approve", at(11, 21, 16, 30))  # not a string: ignored
    add(
        "test.evidence",
        at(11, 21, 17),
        (R1, R5),
        {"kind": "unit", "commit": "ABCDEF0123456789", "counts": {"passed": 9, "failed": 0, "errors": 1}},
    )
    add(
        "test.evidence",
        at(11, 21, 17, 5),
        (),  # found through the deployment's commit only
        {"kind": "integration", "commit": "abcdef0999", "totals": {"total": 5, "skipped": 1}},
    )
    add("test.evidence", at(11, 21, 17, 10), (R5,), {"kind": 3, "commit": "abc", "passed": True})
    add("test.evidence", at(11, 21, 17, 20), (R5,), {"kind": "smoke", "counts": {"total": None, "tests": 4}})
    started = add(
        "deployment.started",
        at(11, 22, 20),
        (R1, R5),
        {"change_type": "normal", "commit": "abcdef0", "environment": "production"},
    )
    add(
        "deployment.finished",
        at(11, 22, 20, 30),
        (R1, R5),
        {"deployment_id": started, "environment": "production", "result": "success", "change_type": 5},
    )
    add("pir", at(11, 23, 10), (R5, R2), {"result": "achieved"})
    add("pir", at(11, 23, 11), (R5,), {"result": "achieved"})
    # An emergency change: deployed unapproved, reviewed after the fact with a change of mind.
    started = add(
        "deployment.started",
        at(11, 24, 2),
        (R6,),
        {"change_type": "emergency", "commit": 1234567, "environment": "production"},
    )
    add(
        "deployment.finished",
        at(11, 24, 2, 30),
        (R6,),
        {"deployment_id": started, "environment": "production", "result": "rolled-back"},
    )
    add("incident.opened", at(11, 24, 2, 31), (R6,), {"deployment_id": True, "type": "deployment-failure"})
    approve((R6,), "change-review", "approve", at(11, 24, 9), actor="Lee")
    approve(
        (R6,), "change-approval", "approve", at(11, 24, 9, 30), actor="park", source="local"
    )  # not counted
    approve((R6,), "change-approval", "approve", at(11, 24, 10), actor="@lee")  # the reviewer again
    approve((R6,), "change-approval", "reject", at(11, 24, 11))
    approve((R6,), "change-approval", "approve", at(11, 26, 11))
    # A decision carrying an attestation: the SQL readers hand it over whole (its token is bound to the
    # record as written, its own time included), not as members.
    add(
        "approval",
        datetime(2026, 11, 26, 11, 30, tzinfo=timezone(timedelta(hours=9))),
        (R6,),
        {"step": "cab", "decision": "approve", "rfc_digest": "sha256:x", "attestation": {"token": "t"}},
        actor="choi",
    )
    started = add("deployment.started", at(11, 26, 20), (R6, R3), {"change_type": "emergency"})
    add("deployment.finished", at(11, 26, 20, 5), (R6, R3), {"deployment_id": started, "result": "success"})
    # Another system's records are not this audit's.
    add("deployment.started", at(11, 27, 20), (R1,), {"change_type": "normal"}, system="other-system")
    # A deployment still open and one whose finish carries no deployment id.
    add("deployment.started", at(11, 28, 20), (), {"change_type": "standard", "commit": ""})
    add("deployment.finished", at(11, 28, 21), (R2,), {"result": "failure", "deployment_id": ""})
    add("deployment.started", at(12, 19, 20), (R2,), {"change_type": None})
    # RFC-2026-0007 affects a linked system: noticed after its first deployment (in business hours, on a
    # weekday) and before its second (on a Sunday).
    started = add("deployment.started", at(12, 1, 10), (R7,), {"change_type": "normal"})
    add("deployment.finished", at(12, 1, 10, 20), (R7,), {"deployment_id": started, "result": "success"})
    add("notice", at(12, 2, 9), (R7,), {"to": ["linked-agency"], "note": "release on 12-06"})
    add("notice", at(12, 2, 9, 5), (R7,), {"to": ["linked-agency"]}, system="other-system")
    add("deployment.started", at(12, 6, 11), (R7,), {"change_type": "normal"})
    return out


def _history() -> list[Draft]:
    return [*drafts(), *_extra()]


def _policy():  # type: ignore[no-untyped-def]
    return load_policy("kr-ap-sop", relative_to=policies_dir())


def _builder(since: datetime | None, until: datetime | None, lang: str = "en") -> AuditBuilder:
    rfcs: dict[str, Rfc | None] = {**rfc_models(), R5: None}  # R5's file does not validate; R6 unknown
    linked = rfcs["RFC-2026-0002"]
    assert linked is not None
    impact = linked.impact.model_copy(update={"systems": (SYSTEM, "linked-system")})
    rfcs[R7] = linked.model_copy(update={"id": R7, "impact": impact})
    policy = _policy()
    calendar = BusinessCalendar(policy=policy)
    return AuditBuilder(policy, Grade(1), NOW, rfcs, since, until, lang, calendar=calendar, system=SYSTEM)


def _answers(builder: AuditBuilder) -> list[tuple[Any, ...]]:
    result = checklist(builder, system=SYSTEM)
    return [(i.id, i.result, i.evidence, i.notes) for i in result.items]


def _expected(records: list[Record], since: datetime | None, until: datetime | None) -> list[tuple[Any, ...]]:
    mine = [r for r in records if r.system == SYSTEM]
    return _answers(_builder(since, until).feed(mine))


def _compare(ledger: object) -> None:
    records = placed(_history())
    for since, until in PERIODS:
        builder = _builder(since, until)
        assert feed_from_database(builder, ledger, SYSTEM)
        assert _answers(builder) == _expected(records, since, until), (since, until)


def test_the_history_exercises_what_it_claims() -> None:
    answers = {a[0]: a for a in _expected(placed(_history()), None, None)}
    assert answers["change.emergency-review"][1] == "nonconform"
    assert "rfc:RFC-2026-0006" not in answers["change.emergency-review"][2]  # reviewed in the end
    assert answers["change.approvals"][1] == "nonconform"
    assert answers["test.recorded"][1] == "nonconform"
    assert answers["change.business-hours"][1] == "nonconform"
    notes = " ".join(answers["change.approvals"][3])
    assert "Kim gave both change-review and release-second of RFC RFC-2026-0001" in notes
    assert "no release-first approval (" not in notes  # the workstation's reject did not count
    # Records no pipeline writes (a decision of 7, a finish naming no deployment, ...) are nonconform.
    assert answers["configuration.ledger-integrity"][1] == "nonconform"
    assert answers["release.notice"][1] == "nonconform"
    assert len(answers["release.notice"][2]) == 1  # the second deployment followed the notice


def test_sqlite_answers_like_the_record_stream(tmp_path: Path) -> None:
    ledger = SqliteLedger(tmp_path / "ledger.db")
    try:
        for draft in _history():
            ledger.append(draft)
        _compare(ledger)
    finally:
        ledger.close()


def test_sqlite_kpis_like_the_record_stream(tmp_path: Path) -> None:
    """The KPIs of the corner-case history (finishes naming `deployment_id`, evidence counted under
    `counts` or at the top, members that are not strings) read alike from SQLite and from whole records."""
    from zoneinfo import ZoneInfo

    from gatekeeper.checks.kpi import sql_tallies, tallies_from_records
    from gatekeeper.config.models import AuditPlan

    zone = ZoneInfo("Asia/Seoul")
    facts: dict[str, Any] = {
        "due": {R1: at(11, 21, 10), R5: at(11, 22, 10), R6: at(11, 2, 10)},
        "planned": {R1: {"unit": 8, "integration": 4}, R5: {"acceptance": 3}},
        "now": NOW,
        "audit_plan": AuditPlan(per="month", count=1),
    }
    ledger = SqliteLedger(tmp_path / "ledger.db")
    try:
        for draft in _history():
            ledger.append(draft)
        mine = [r for r in placed(_history()) if r.system == SYSTEM]
        for since, until in PERIODS:
            expected = tallies_from_records(mine, zone, since=since, until=until, system=SYSTEM, **facts)
            got = sql_tallies(ledger, zone, system=SYSTEM, since=since, until=until, **facts)
            _same_tallies(got or {}, expected)
        whole = tallies_from_records(mine, zone, system=SYSTEM, **facts)
        assert sum(t.cases_planned for t in whole.values()) == 15  # R1 and R5 were deployed
        assert sum(t.changes_due for t in whole.values()) == 3
    finally:
        ledger.close()


@pytest.mark.parametrize("size", [1, 4, 7])
def test_sqlite_read_in_ranges_answers_the_same(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, size: int
) -> None:
    """A large ledger is read a range of seqs at a time, on two connections in turn: tiny ranges make the
    hand-checked history cross many range boundaries (a deployment and its finish, approvals and the
    deployment they precede, in different ranges)."""
    from gatekeeper.ledger import sql_read

    monkeypatch.setattr(sql_read, "SQLITE_RANGE", size)
    ledger = SqliteLedger(tmp_path / "ledger.db")
    try:
        for draft in _history():
            ledger.append(draft)
        assert len(_history()) > 3 * size
        _compare(ledger)
    finally:
        ledger.close()


@pytest.mark.postgres
def test_postgres_answers_like_the_record_stream(pg_dsn: str) -> None:
    from gatekeeper.ledger.postgres import PostgresLedger

    ledger = PostgresLedger(pg_dsn, "audit_" + uuid.uuid4().hex[:10])
    try:
        for draft in _history():
            ledger.append(draft)
        _compare(ledger)
        # The ledger still appends afterwards (no transaction left open).
        ledger.append(Draft("audit.run", SYSTEM, "ci", "local", NOW, {}))
    finally:
        ledger.close()


def test_a_backend_without_sql_is_read_record_by_record() -> None:
    assert feed_from_database(_builder(None, None), object(), SYSTEM) is False


@pytest.mark.postgres
def test_a_version_1_postgres_ledger_is_migrated_and_read_right(
    pg_dsn: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A ledger created by the previous schema (no `data` column) gains it on first open, for the records
    already there; a row whose body jsonb cannot hold keeps a NULL `data` and readers parse records."""
    import psycopg

    from gatekeeper.checks.kpi import sql_tallies, tallies_from_records
    from gatekeeper.ledger import postgres
    from tests.ledger.pgcluster import record_columns
    from tests.ledger.tamper import insert_as_written_before_version_4

    schema = "v1_" + uuid.uuid4().hex[:10]
    monkeypatch.setattr(postgres, "SCHEMA_VERSION", 1)
    postgres.PostgresLedger(pg_dsn, schema).close()
    insert_as_written_before_version_4(pg_dsn, schema, placed(_history()))
    assert "data" not in record_columns(pg_dsn, schema)
    monkeypatch.setattr(postgres, "SCHEMA_VERSION", 2)
    ledger = postgres.PostgresLedger(pg_dsn, schema)
    try:
        with psycopg.connect(pg_dsn) as db:
            version = db.execute(f"SELECT max(version) FROM {schema}.schema_version").fetchone()
            filled = db.execute(f"SELECT count(*) FROM {schema}.records WHERE data IS NOT NULL").fetchone()
        assert version == (2,)
        assert filled == (len(_history()),)
        _compare(ledger)
        from zoneinfo import ZoneInfo

        zone = ZoneInfo("Asia/Seoul")
        expected = tallies_from_records([r for r in placed(_history()) if r.system == SYSTEM], zone)
        got = sql_tallies(ledger, zone, system=SYSTEM)
        assert got is not None
        _same_tallies(got, expected)
        # A hand-written row that is not JSON: stored with a NULL data; the SQL readers step aside.
        with psycopg.connect(pg_dsn) as db:
            db.execute(
                f"INSERT INTO {schema}.records (seq, id, kind, system, rfcs, at, hash, body)"
                " VALUES (1000, 'forged', 'approval', %s, '{}', now(), '', '{not json')",
                (SYSTEM,),
            )
        assert sql_tallies(ledger, zone, system=SYSTEM) is None
        assert feed_from_database(_builder(None, None), ledger, SYSTEM) is False
    finally:
        ledger.close()


def _same_tallies(got: dict[Any, Any], expected: dict[Any, Any]) -> None:
    mine = {k: v for k, v in got.items() if k[0] == SYSTEM}
    assert sorted(mine) == sorted(expected)
    for key, tally in expected.items():
        for name, value in vars(tally).items():
            assert getattr(mine[key], name) == pytest.approx(value, abs=1e-6), (key, name)


@pytest.mark.parametrize("backend", ["sqlite", "postgres"])
def test_an_attested_approval_comes_whole_with_its_time_as_written(
    tmp_path: Path, request: pytest.FixtureRequest, backend: str
) -> None:
    """Its token is bound to the record as written (time and offset included): the SQL readers hand over
    the whole record, not the members of a bare approval."""
    from gatekeeper.checks.audit import KINDS
    from gatekeeper.domain.records import Approval, Entry
    from gatekeeper.ledger.sql_read import read_database

    if backend == "sqlite":
        ledger: Any = SqliteLedger(tmp_path / "ledger.db")
    else:
        from gatekeeper.ledger.postgres import PostgresLedger

        ledger = PostgresLedger(request.getfixturevalue("pg_dsn"), "att_" + uuid.uuid4().hex[:10])
    seen: list[Any] = []
    try:
        for draft in _history():
            ledger.append(draft)
        assert read_database(ledger, seen.extend, system=SYSTEM, kinds=KINDS, until=None)
    finally:
        ledger.close()
    whole = [e for e in seen if isinstance(e, Entry) and isinstance(e.payload, Approval)]
    assert all(e.payload.attestation for e in whole)  # the bare ones came as members
    (attested,) = [e for e in whole if e.payload.attestation == {"token": "t"}]
    assert attested.payload.attestation == {"token": "t"}
    assert (attested.actor, attested.actor_source) == ("choi", "github-actions")
    assert attested.moment.isoformat() == "2026-11-26T11:30:00+09:00"
    assert all(
        isinstance(e, tuple) for e in seen if not isinstance(e, Entry) and type(e).__name__ != "Malformed"
    )


@pytest.mark.parametrize("backend", ["sqlite", "postgres"])
def test_every_record_comes_with_its_writer_and_time(
    tmp_path: Path, request: pytest.FixtureRequest, backend: str
) -> None:
    """A PIR, a closure record, test evidence, a notice or an incident counts only when its signature shows
    its actor wrote it, and the role checks read that actor: every record the SQL readers hand over whole
    carries the actor, actor source and time it was written with (PostgreSQL once handed over the actor of
    approvals, deployments and delegations only, so the audit on PostgreSQL counted no signed PIR)."""
    from gatekeeper.checks.audit import KINDS
    from gatekeeper.domain.records import Entry
    from gatekeeper.ledger.sql_read import read_database

    if backend == "sqlite":
        ledger: Any = SqliteLedger(tmp_path / "ledger.db")
    else:
        from gatekeeper.ledger.postgres import PostgresLedger

        ledger = PostgresLedger(request.getfixturevalue("pg_dsn"), "who_" + uuid.uuid4().hex[:10])
    history = _history()
    history.append(Draft("pir", SYSTEM, "kim", "gitlab-ci", at(11, 27, 23, 5), {"result": "achieved"}, (R1,)))
    seen: list[Any] = []
    try:
        for draft in history:
            ledger.append(draft)
        assert read_database(ledger, seen.extend, system=SYSTEM, kinds=KINDS, until=None)
    finally:
        ledger.close()
    written = {r.seq: r for r in placed(history)}
    whole = [e for e in seen if isinstance(e, Entry)]
    assert {e.kind for e in whole} >= {"pir", "test.evidence", "deployment.finished", "notice"}
    for entry in whole:
        record = written[entry.seq]
        assert (entry.actor, entry.actor_source) == (record.actor, record.actor_source), entry.kind
        assert entry.moment == datetime.fromisoformat(record.at), entry.kind
    (pir,) = [e for e in whole if e.seq == max(written)]
    assert (pir.actor, pir.actor_source) == ("kim", "gitlab-ci")


# ------------------------------------------------------------------------------------------ generated


GEN_RFCS = (R1, R2, R3)
GEN_STEPS = ("change-review", "cab", "change-approval", "release-first", "release-second")
_record = st.one_of(
    st.builds(
        lambda rfc, step, who, decision, source: (
            "approval",
            (rfc,),
            {"step": step, "decision": decision, "rfc_digest": "sha256:x"},
            who,
            source,
        ),
        st.sampled_from(GEN_RFCS),
        st.sampled_from((*GEN_STEPS, "no-such-step")),
        st.sampled_from(("kim", "park", "choi", "han", "lee")),
        st.sampled_from(("approve", "approve", "reject", 7)),
        st.sampled_from(("github-actions", "gitlab-ci", "local")),
    ),
    st.builds(
        lambda kind, commit, tests, failed, rfcs, under: (
            "test.evidence",
            rfcs,
            {
                "kind": kind,
                "commit": commit,
                # as `evidence add` writes them (SQLite hands over the members the KPIs read), under
                # `counts`, or at the top (the whole record comes), or with a `totals` that is no object
                **(
                    {under: {"tests": tests, "passed": tests - failed, "failed": failed}}
                    if under in ("totals", "counts")
                    else {"totals": under, "passed": tests - failed, "failed": failed}
                ),
            },
            "ci",
            "github-actions",
        ),
        st.sampled_from(("unit", "integration", "acceptance", "smoke")),
        st.sampled_from(("a" * 40, "b" * 40, "abc")),
        st.integers(1, 20),
        st.integers(0, 1),
        st.sampled_from(((), (R1,), (R2, R3))),
        st.sampled_from(("totals", "totals", "counts", None, 5)),
    ),
    st.builds(
        lambda items, changed, errors: (
            "audit.run",
            (),
            {
                "ok": True,
                "configuration": {
                    "items": items,
                    "intact": items - errors,
                    "changed": changed,
                    "errors": errors,
                },
            },
            "ci",
            "github-actions",
        ),
        st.integers(3, 5),
        st.integers(1, 3),
        st.integers(0, 1),
    ),
    st.builds(
        lambda rfc, kind, commit: (
            "deployment.started",
            (rfc,),
            {"change_type": kind, "commit": commit, "environment": "production"},
            "ci",
            "github-actions",
        ),
        st.sampled_from(GEN_RFCS),
        st.sampled_from(("normal", "normal", "emergency", "standard")),
        st.sampled_from(("a" * 40, "b" * 40)),
    ),
    st.builds(
        lambda result: ("finish", (), {"result": result}, "ci", "github-actions"),
        st.sampled_from(("success", "failure", "rolled-back", "aborted")),
    ),
    st.builds(
        lambda rfc: ("pir", (rfc,), {"result": "achieved"}, "kim", "github-actions"),
        st.sampled_from(GEN_RFCS),
    ),
    st.builds(
        lambda rfc: ("incident", (rfc,), {"type": "defect"}, "ci", "github-actions"),
        st.sampled_from(GEN_RFCS),
    ),
)
# What the KPIs read beside the ledger (the RFCs' requested dates and planned tests, the audit plan).
GEN_DUE = {R1: datetime(2026, 11, 3, 10, 0, tzinfo=KST), R2: datetime(2026, 11, 20, 10, 0, tzinfo=KST)}
GEN_PLANNED = {R1: {"integration": 5, "acceptance": 2}, R3: {"unit": 10}}


def _generated(steps: list[tuple[tuple[Any, ...], int]]) -> list[Draft]:
    out: list[Draft] = []
    moment = datetime(2026, 11, 2, 11, 0, tzinfo=KST)
    started: list[str] = []
    for (kind, rfcs, data, actor, source), minutes in steps:
        moment += timedelta(minutes=minutes)
        ident = f"g{len(out) + 1:03d}"
        if kind == "finish":
            if not started:
                continue
            kind, data = (
                "deployment.finished",
                {**data, "started": started.pop(0), "environment": "production"},
            )
        elif kind == "incident":
            kind = "incident.opened"
            data = {**data, "deployment_id": started[0]} if started else data
        out.append(Draft(kind, SYSTEM, actor, source, moment, data, rfcs, id=ident))
        if kind == "deployment.started":
            started.append(ident)
    return out


@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(
    st.lists(st.tuples(_record, st.integers(1, 60 * 48)), min_size=1, max_size=30),
    st.sampled_from((None, "month", "quarter")),
)
def test_generated_histories_read_alike_from_every_backend(
    tmp_path_factory: pytest.TempPathFactory,
    request: pytest.FixtureRequest,
    steps: list[Any],
    plan: str | None,
) -> None:
    """The checklist and the KPIs of generated histories, from whole records and from each SQL backend:
    every KPI, those that read the RFCs' plans and the audit plan too."""
    from zoneinfo import ZoneInfo

    from gatekeeper.checks.kpi import sql_tallies, tallies_from_records
    from gatekeeper.config.models import AuditPlan
    from gatekeeper.ledger.postgres import PostgresLedger

    drafts_ = _generated(steps)
    records = placed(drafts_)
    zone = ZoneInfo("Asia/Seoul")
    expected = _answers(_builder(None, None).feed(records))
    facts: dict[str, Any] = {
        "due": GEN_DUE,
        "planned": GEN_PLANNED,
        "now": datetime(2026, 11, 25, tzinfo=KST),
        "audit_plan": AuditPlan(per=plan, count=2) if plan else None,
    }
    expected_kpis = tallies_from_records(records, zone, system=SYSTEM, **facts)
    folder = tmp_path_factory.mktemp("ledger")
    ledgers: list[Any] = [SqliteLedger(folder / "ledger.db")]
    dsn = request.getfixturevalue("pg_dsn")
    ledgers.append(PostgresLedger(dsn, "gen_" + uuid.uuid4().hex[:10]))
    for ledger in ledgers:
        try:
            for draft in drafts_:
                ledger.append(draft)
            builder = _builder(None, None)
            assert feed_from_database(builder, ledger, SYSTEM)
            assert _answers(builder) == expected, type(ledger).__name__
            _same_tallies(sql_tallies(ledger, zone, system=SYSTEM, **facts), expected_kpis)
        finally:
            ledger.close()
