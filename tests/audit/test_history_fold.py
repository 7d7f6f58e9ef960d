"""The history fold's indexes and caches change nothing: on generated histories, a `History` that keeps
its per-RFC answers (approved steps, PIR state) and its per-environment index of deployments gives, at
every moment, the very facts a `History` that recomputes everything gives (`cache=False`).

The generated histories are those the caches are hardest on: approvals and rejections of every step by
people who hold the roles and people who do not, PIRs that count and PIRs that do not (from a
workstation, by someone without the role, not achieved without a follow-up), deployments to two
environments (one under an alias) that fail, succeed or never finish, and checks asked for by different
role holders at times that fall inside and past the year the debts are looked for in.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from gatekeeper.config import load_policy
from gatekeeper.config.models import Rfc
from gatekeeper.domain import Grade, Role
from gatekeeper.domain.records import read
from gatekeeper.domain.rfc import RfcEntry
from gatekeeper.facts.history import History
from gatekeeper.ledger import Draft
from gatekeeper.resources import policies_dir
from gatekeeper.rules.deploy import pir_refusal
from tests.acceptance import RFC

POLICY = load_policy("kr-ap-sop", relative_to=policies_dir())
SYSTEM = "minwon-portal"
START = datetime(2026, 3, 2, 11, 0, tzinfo=UTC)
RFCS = ("RFC-2026-0001", "RFC-2026-0002", "RFC-2026-0003")
PEOPLE = ("kim", "park", "choi", "han", "lee", "dev")
STEPS = ("change-review", "cab", "change-approval", "release-first", "release-second")
ENVIRONMENTS = ("production", "Production ", "staging")  # the second is the first, as recorded by hand
HOLDERS = (
    None,
    {
        Role.AGENCY_MANAGER: frozenset({"park"}),
        Role.AGENCY_OFFICER: frozenset({"kim", "lee"}),
        Role.OPERATOR_MANAGER: frozenset({"han"}),
        Role.CAB: frozenset({"kim", "park", "choi"}),
    },
    {  # the roles changed hands
        Role.AGENCY_MANAGER: frozenset({"choi"}),
        Role.AGENCY_OFFICER: frozenset({"dev"}),
        Role.OPERATOR_MANAGER: frozenset({"han"}),
        Role.CAB: frozenset({"lee", "park"}),
    },
)


def _entry(rfc_id: str, change_type: str) -> RfcEntry:
    body = {**RFC, "id": rfc_id, "type": change_type}
    if change_type == "emergency":
        body["incident"] = "INC-2026-0001"
    return RfcEntry(rfc_id, f"changes/{rfc_id}.yml", Rfc.model_validate(body, strict=False))


ENTRIES = {rfc: _entry(rfc, kind) for rfc, kind in zip(RFCS, ("normal", "emergency", "normal"), strict=True)}
people = st.sampled_from(PEOPLE)
sources = st.sampled_from(("github-actions", "github-actions", "local"))
events = st.one_of(
    st.tuples(
        st.just("approval"),
        st.sampled_from(RFCS),
        st.sampled_from(STEPS),
        people,
        st.sampled_from(("approve", "approve", "reject")),
        sources,
    ),
    st.tuples(st.just("chain"), st.sampled_from(RFCS)),
    # A whole normal change: approved, deployed, finished, and reviewed by the agency officer.
    st.tuples(st.just("cycle"), st.sampled_from(RFCS), st.sampled_from(ENVIRONMENTS), st.booleans()),
    st.tuples(
        st.just("deploy"),
        st.lists(st.sampled_from(RFCS), min_size=1, max_size=2, unique=True),
        st.sampled_from(ENVIRONMENTS),
        st.sampled_from(("normal", "emergency")),
    ),
    st.tuples(st.just("finish"), st.integers(0, 3), st.sampled_from(("success", "failure", "aborted"))),
    # A start recorded again under an id the history already holds (what no pipeline writes).
    st.tuples(st.just("again"), st.integers(0, 3), st.sampled_from(ENVIRONMENTS)),
    st.tuples(
        st.just("pir"),
        st.sampled_from(RFCS),
        st.sampled_from(("kim", "kim", "dev")),  # few people: the same one's PIRs often follow each other
        # One to three PIRs in a row by the same person from the same place: result, with a follow-up.
        st.lists(
            st.tuples(st.sampled_from(("achieved", "not-achieved")), st.booleans()), min_size=1, max_size=3
        ),
        sources,
    ),
    st.tuples(st.just("check"), st.sampled_from(ENVIRONMENTS), st.integers(0, len(HOLDERS) - 1)),
)
# Minutes between events: mostly hours, sometimes days, sometimes past the year debts are looked for in.
gaps = st.one_of(
    st.integers(1, 60 * 30), st.integers(60 * 24, 60 * 24 * 30), st.integers(60 * 24 * 200, 60 * 24 * 400)
)


def _expanded(steps: list[tuple[tuple[Any, ...], int]]) -> list[tuple[tuple[Any, ...], int]]:
    out: list[tuple[tuple[Any, ...], int]] = []
    for event, minutes in steps:
        if event[0] != "cycle":
            out.append((event, minutes))
            continue
        _, rfc, environment, failed = event
        out += [(("chain", rfc), minutes), (("deploy", [rfc], environment, "normal"), 5)]
        out += [(("finish", 0, "failure" if failed else "success"), 10)]
        review = ("not-achieved" if failed else "achieved", True)
        out += [(("pir", rfc, "kim", [review], "github-actions"), 60)]
        out += [(("check", environment, 1), 1)]
    return out


def _canonical(name: str) -> str:
    return name.strip().lower()


def _facts(history: History, at: datetime, environment: str, holders: int, rfcs: list[str]) -> Any:
    members = HOLDERS[holders]
    ledger = history.facts_at(
        at,
        environment=_canonical(environment),
        rfcs=tuple(ENTRIES[r] for r in rfcs),
        head="a" * 40,
        members=members,
    )
    return (
        ledger,
        [d.id for d in history.deployments(_canonical(environment))],
        [d.id for d in history.deployments()],
        {r: history.approved_steps(r, members) for r in RFCS},
        history.pir_state(RFCS, members),
    )


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    steps=st.lists(st.tuples(events, gaps), min_size=1, max_size=60),
    fold_members=st.integers(0, len(HOLDERS) - 1),
)
def test_the_indexed_and_cached_fold_gives_the_plain_folds_facts(
    steps: list[tuple[tuple[Any, ...], int]], fold_members: int
) -> None:
    def history(cache: bool) -> History:
        return History(
            POLICY,
            Grade(1),
            SYSTEM,
            environment_name=_canonical,
            members=HOLDERS[fold_members],
            cache=cache,
        )

    cached, plain = history(True), history(False)
    moment, head = START, None
    started: list[str] = []
    pirs: dict[str, list[Any]] = {}  # every PIR record, per RFC: what the fold keeps only the latest of

    def append(draft: Draft) -> None:
        nonlocal head
        head = draft.place_after(head)
        entry = read(head)
        cached.add(entry)
        plain.add(entry)
        if draft.kind == "pir":
            for rfc in entry.rfcs:
                pirs.setdefault(rfc, []).append(entry)

    def every_pir_read(holders: int) -> None:
        """The PIR state read from every PIR record, as the fold read it before it kept only the latest
        of each kind: an RFC is done when one of its PIRs counts, else its latest PIR says why not."""
        members = HOLDERS[holders] if HOLDERS[holders] is not None else HOLDERS[fold_members]
        done, refused = set(), {}
        for rfc in RFCS:
            for entry in pirs.get(rfc, ()):
                reason = pir_refusal(
                    POLICY, Grade(1), members, entry.actor, entry.actor_source, entry.payload
                )
                if reason is None:
                    done.add(rfc)
                    refused.pop(rfc, None)
                    break
                refused[rfc] = reason
        assert cached.pir_state(RFCS, HOLDERS[holders]) == (frozenset(done), refused)

    for event, minutes in _expanded(steps):
        moment += timedelta(minutes=minutes)
        kind = event[0]
        if kind == "approval":
            _, rfc, step, who, decision, source = event
            data = {"step": step, "decision": decision, "rfc_digest": ENTRIES[rfc].digest}
            append(Draft("approval", SYSTEM, who, source, moment, data, (rfc,)))
        elif kind == "chain":
            for step, who in zip(STEPS, ("kim", "choi", "park", "han", "lee"), strict=True):
                data = {"step": step, "decision": "approve", "rfc_digest": ENTRIES[event[1]].digest}
                append(Draft("approval", SYSTEM, who, "github-actions", moment, data, (event[1],)))
        elif kind == "deploy":
            _, rfcs, environment, change_type = event
            # What the audit asks at a deployment's start, before the record joins the history.
            assert _facts(cached, moment, environment, fold_members, rfcs) == _facts(
                plain, moment, environment, fold_members, rfcs
            )
            data = {"change_type": change_type, "commit": "a" * 40, "environment": environment}
            draft = Draft("deployment.started", SYSTEM, "ci", "github-actions", moment, data, tuple(rfcs))
            append(draft)
            started.append(draft.id)
        elif kind == "again" and started:
            _, back, environment = event
            data = {"change_type": "normal", "commit": "b" * 40, "environment": environment}
            again = started[-1 - back % len(started)]
            append(Draft("deployment.started", SYSTEM, "ci", "github-actions", moment, data, RFCS[:1], again))
        elif kind == "finish" and started:
            _, back, result = event
            data = {"started": started[-1 - back % len(started)], "result": result}
            append(Draft("deployment.finished", SYSTEM, "ci", "github-actions", moment, data))
        elif kind == "pir":
            _, rfc, who, reviews, source = event
            for n, (result, follow_up) in enumerate(reviews):
                data = {"result": result, "follow_up": "RFC-2026-0009: 재발 방지" if follow_up else ""}
                append(Draft("pir", SYSTEM, who, source, moment + timedelta(seconds=n), data, (rfc,)))
                every_pir_read(fold_members)
        elif kind == "check":
            _, environment, holders = event
            every_pir_read(holders)
            assert _facts(cached, moment, environment, holders, list(RFCS)) == _facts(
                plain, moment, environment, holders, list(RFCS)
            )
    for environment in ENVIRONMENTS:
        for holders in range(len(HOLDERS)):
            assert _facts(cached, moment, environment, holders, list(RFCS)) == _facts(
                plain, moment, environment, holders, list(RFCS)
            )
