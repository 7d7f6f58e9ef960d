"""Incidents and emergency changes, attacked as a developer with write access would: a self-declared
emergency, an incident they open (through the CLI, or written straight into the ledger), a second emergency
while the first one's review is overdue, and hostile or impossible values in the incident commands."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from typing import Any

import pytest

import tests.acceptance as cases
from gatekeeper.config import load_config
from gatekeeper.ledger.backends import open_ledger
from tests.adversarial.conftest import Recorder
from tests.helpers import GitRepo, pipeline_job, run_cli
from tests.platform.oidc import gitlab_job

EMERGENCY = {"rfc": {"type": "emergency", "incident": "INC-2026-0007"}, "approvals": [], "evidence": {}}
TUESDAY_10 = "2026-11-24T10:00:00+09:00"


def _cli(repo: GitRepo, at: datetime, login: str, *args: str) -> Any:
    """`args` run by `login` in a pipeline job whose ID token signs what it records."""
    return run_cli(["--format", "json", *args], cwd=repo.path, env=gitlab_job(repo.head(), login, at), now=at)


def _records(repo: GitRepo, kind: str) -> list[Any]:
    config = load_config(repo.path / ".gatekeeper.yml")
    ledger = open_ledger(config, repo.path, {})
    try:
        return list(ledger.find(kind=kind))
    finally:
        ledger.close()


def _gate(repo: GitRepo, at: datetime) -> tuple[int, list[str]]:
    code, body = cases.gate(repo, at)
    return code, [f["rule"] for f in body["findings"] if f["severity"] == "error"]


def test_a_self_declared_emergency_is_blocked(repo: GitRepo, reliability: Recorder) -> None:
    at, _ = cases.build(repo, {**EMERGENCY, "at": TUESDAY_10})
    code, errors = _gate(repo, at)
    assert code == 1 and "emergency.incident-unknown" in errors
    reliability.row(
        "emergency RFC naming an incident recorded nowhere; no approvals, no tests; Tuesday 10:00 KST",
        "forgery",
        "block: emergency.incident-unknown",
    )


def test_a_developer_cannot_open_the_incident_that_unlocks_an_emergency(
    repo: GitRepo, reliability: Recorder
) -> None:
    at, _ = cases.build(repo, {**EMERGENCY, "at": TUESDAY_10})
    opened = _cli(repo, at, "dev", "incident", "open", "--id", "INC-2026-0007", "--title", "fake")
    assert opened.code == 2 and "incidents" not in opened.stdout
    assert "none of the roles" in opened.stderr
    korean = run_cli(
        ["--lang", "ko", "incident", "open", "--id", "INC-2026-0007", "--title", "fake"],
        cwd=repo.path,
        env=pipeline_job(repo, "dev"),
        now=at,
    )
    assert korean.code == 2 and "역할" in korean.stderr and "Traceback" not in korean.stderr
    assert _records(repo, "incident.opened") == []
    assert _gate(repo, at)[0] == 1
    reliability.row(
        "`incident open` by the change's developer (no incident role)", "forgery", "exit 2, nothing written"
    )


def test_an_incident_record_written_into_the_ledger_by_the_developer_unlocks_nothing(
    repo: GitRepo, reliability: Recorder
) -> None:
    forged = {
        "kind": "incident.opened",
        "actor": "dev",
        "rfcs": [],
        "data": {"incident_id": "INC-2026-0007", "type": "service-outage", "title": "fake", "grade": 1},
    }
    at, _ = cases.build(repo, {**EMERGENCY, "at": TUESDAY_10, "records": [forged]})
    code, errors = _gate(repo, at)
    assert code == 1 and "emergency.incident-unknown" in errors
    reliability.row("incident.opened appended to the ledger by the developer", "forgery", "block")


def test_the_operator_opens_the_incident_and_the_fix_deploys(repo: GitRepo, reliability: Recorder) -> None:
    at, _ = cases.build(repo, {**EMERGENCY, "at": TUESDAY_10, "evidence": {"unit": {}}})
    opened = _cli(
        repo,
        at - timedelta(minutes=20),
        "han",
        "incident",
        "open",
        "--id",
        "INC-2026-0007",
        "--title",
        "신청 화면 오류",
        "--symptom",
        "신청 버튼 500 오류",
        "--scope",
        "전국 민원인",
        "--impact",
        "민원 신청 불가",
    )
    assert opened.code == 0, opened.stderr
    record = json.loads(opened.stdout)["record"]
    assert record["data"]["incident_id"] == "INC-2026-0007" and record["data"]["grade"] == 1
    code, errors = _gate(repo, at)
    assert code == 0, errors
    again = _cli(repo, at, "kim", "incident", "open", "--id", "INC-2026-0007", "--title", "again")
    assert again.code == 2 and "exists already" in again.stderr
    reliability.row("`incident open` by the operator manager in the pipeline", "none", "allow (the control)")
    reliability.row("a second `incident open` with the same ID", "duplicate", "exit 2, nothing written")


def test_a_second_emergency_waits_for_the_first_ones_review(repo: GitRepo, reliability: Recorder) -> None:
    week_ago = [
        {
            "kind": "deployment.started",
            "hours_ago": 168,
            "change_type": "emergency",
            "rfcs": ["RFC-2026-0040"],
            "data": {"incident": "INC-2026-0001"},
        },
        {
            "kind": "deployment.finished",
            "hours_ago": 167,
            "closes": 0,
            "rfcs": ["RFC-2026-0040"],
            "data": {"result": "success"},
        },
        {
            "kind": "incident.opened",
            "actor": "han",
            "hours_ago": 0.2,
            "rfcs": [],
            "data": {"incident_id": "INC-2026-0007", "type": "service-outage", "title": "t", "grade": 1},
        },
    ]
    at, _ = cases.build(repo, {**EMERGENCY, "at": TUESDAY_10, "records": week_ago})
    code, errors = _gate(repo, at)
    assert code == 1 and errors == ["deploy.retro-review-overdue"]
    reliability.row(
        "a second emergency a week later while the first one's after-the-fact review is overdue",
        "debt evasion",
        "block: deploy.retro-review-overdue",
    )


@pytest.mark.parametrize(
    "args",
    [
        ["incident", "open", "--title", "t", "--occurred-at", "2099-01-01T00:00:00+09:00"],
        ["incident", "open", "--title", "t", "--occurred-at", "2026-11-24T09:00:00"],
        ["incident", "open", "--title", "t", "--occurred-at", "0001-01-01T00:00:00+00:00"],
        ["incident", "open", "--title", "t", "--id", "INC 1"],
        ["incident", "open", "--title", "t", "--service-priority", "0"],
        ["incident", "update", "INC-none", "--note", "n"],
        ["incident", "close", "INC-none", "--cause-type", "software", "--action", "a"],
        ["incident", "close", "INC-1", "--cause-type", "sabotage", "--action", "a"],
        [
            "incident",
            "close",
            "INC-1",
            "--cause-type",
            "software",
            "--action",
            "a",
            "--resolved-at",
            "2026-11-20T00:00:00+09:00",
        ],
        ["problem", "open", "--title", "t", "--incident", "INC-none"],
    ],
)
def test_impossible_values_are_input_errors(repo: GitRepo, args: list[str], reliability: Recorder) -> None:
    at, _ = cases.build(repo, {})
    assert _cli(repo, at, "han", "incident", "open", "--id", "INC-1", "--title", "t").code == 0
    result = _cli(repo, at, "han", *args)
    assert result.code == 2, (result.stdout, result.stderr)
    assert "Traceback" not in result.stderr
    assert len(_records(repo, "incident.opened")) == 1 and _records(repo, "incident.closed") == []
    reliability.row(" ".join(args), "impossible value", "exit 2, nothing written")


def test_hostile_text_is_stored_as_given_and_printed_defused(repo: GitRepo, reliability: Recorder) -> None:
    at, _ = cases.build(repo, {})
    hostile = "::add-mask::x\n##[error]fake\r\x1b[31m 장애"
    assert _cli(repo, at, "han", "incident", "open", "--id", "INC-1", "--title", hostile).code == 0
    stored = _records(repo, "incident.opened")[0]
    assert stored.data["title"] == hostile
    listed = run_cli(["incident", "list"], cwd=repo.path, env=pipeline_job(repo, "han"), now=at)
    assert listed.code == 0
    assert not any(line.lstrip().startswith(("::", "##[")) for line in listed.stdout.splitlines())
    assert "\x1b" not in listed.stdout
    reliability.row(
        "workflow commands, newlines and escapes in an incident title",
        "hostile string",
        "stored; listed defused",
    )
