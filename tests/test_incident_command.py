"""`gatekeeper incident open | update | close | list` and `problem open` through the CLI, on the acceptance
world's real repository and ledger: the records, the grade at close, the gate's incident findings, and the
장애보고서 they feed."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from typing import Any

import tests.acceptance as cases
from tests.helpers import GitRepo, pipeline_job, run_cli


def _run(repo: GitRepo, at: datetime, *args: str, login: str = "han") -> Any:
    result = run_cli(["--format", "json", *args], cwd=repo.path, env=pipeline_job(repo, login), now=at)
    assert result.code == 0, result.stderr
    return json.loads(result.stdout)


def _gate_rules(repo: GitRepo, at: datetime) -> dict[str, str]:
    _, body = cases.gate(repo, at)
    return {f["rule"]: f["severity"] for f in body["findings"]}


def test_an_incident_from_opening_to_its_report(repo: GitRepo) -> None:
    evening, _ = cases.build(repo, {})
    occurred = evening - timedelta(hours=2)  # Tuesday 18:00 KST: after service hours (internal)
    opened = _run(
        repo,
        occurred + timedelta(minutes=5),
        "incident",
        "open",
        "--id",
        "INC-2026-0031",
        "--title",
        "민원 조회 지연",
        "--type",
        "service-delay",
        "--occurred-at",
        occurred.isoformat(),
        "--symptom",
        "조회 응답 20초 이상",
        "--scope",
        "전국",
        "--impact",
        "조회 지연",
    )
    assert opened["record"]["data"]["grade"] == 1  # unresolved: the system's grade
    # 40 minutes without an intermediate report: the next planned change waits for it
    at = occurred + timedelta(minutes=40)
    assert _gate_rules(repo, at).get("incident.report-missing") == "error"
    _run(repo, at, "incident", "update", "INC-2026-0031", "--note", "디지털안전상황실 중간보고", "--report")
    assert "incident.report-missing" not in _gate_rules(repo, at)
    closed = _run(
        repo,
        occurred + timedelta(minutes=70),
        "incident",
        "close",
        "INC-2026-0031",
        "--resolved-at",
        (occurred + timedelta(minutes=65)).isoformat(),
        "--cause-type",
        "unknown",
        "--action",
        "캐시 재기동 (임시조치)",
        "--follow-up",
        "원인 분석 후 재발방지 대책 수립",
    )
    assert closed["record"]["data"]["grade"] == 2  # after hours, fixed before the next opening
    assert _gate_rules(repo, evening).get("incident.problem-missing") == "error"
    _run(repo, evening, "problem", "open", "--incident", "INC-2026-0031", "--title", "조회 지연 근본원인")
    assert _gate_rules(repo, evening) == {}
    listed = _run(repo, evening, "incident", "list")["incidents"]
    assert [(i["id"], i["grade"], i["minutes"], i["reports"], i["problems"]) for i in listed] == [
        ("INC-2026-0031", 2, 65.0, 1, 1)
    ]
    form = run_cli(
        ["--lang", "ko", "report", "form", "incident-report", "INC-2026-0031"], cwd=repo.path, now=evening
    )
    assert form.code == 0, form.stderr
    for text in (
        "조회 응답 20초 이상",
        "| **서비스 중단시간(분)** | 65분 |",
        "원인 불명",
        "중간보고 \\(중간보고\\)",  # the report, marked in the timeline (Markdown-escaped)
        "캐시 재기동",
    ):
        assert text in form.stdout, text
