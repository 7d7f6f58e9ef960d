"""What people read: the HTML audit report and the SOP forms, checked against golden files, for escaping of
untrusted text, and for being one self-contained file.

Regenerate the golden files after an intended change with `GATEKEEPER_UPDATE_GOLDEN=1`.
"""

from __future__ import annotations

import json
import os
import re
from pathlib import Path

import pytest

from gatekeeper.checks.audit import ITEMS
from gatekeeper.domain.catalogue import KPI_CATALOGUE
from gatekeeper.reporters.charts import bar_chart
from tests.audit.conftest import AUDIT_AT, AuditRepo
from tests.helpers import run_cli

GOLDEN = Path(__file__).resolve().parent / "golden"
UPDATE = os.environ.get("GATEKEEPER_UPDATE_GOLDEN") == "1"


def _golden(name: str, text: str) -> None:
    path = GOLDEN / name
    if UPDATE:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    assert path.is_file(), f"{name} is missing; run with GATEKEEPER_UPDATE_GOLDEN=1"
    assert text == path.read_text(encoding="utf-8"), f"{name} changed; rerun with GATEKEEPER_UPDATE_GOLDEN=1"


def write_report(repo: AuditRepo, lang: str, name: str = "report.html") -> str:
    result = run_cli(
        ["--lang", lang, "audit", "--since", "2026-10-01", "--until", "2026-11-30", "--html", name],
        cwd=repo.path,
        now=AUDIT_AT,
    )
    assert result.code == 1, result.stderr
    return (repo.path / name).read_text(encoding="utf-8")


@pytest.mark.parametrize("lang", ["ko", "en"])
def test_audit_html_golden(audit_repo: AuditRepo, lang: str) -> None:
    _golden(f"audit.{lang}.html", write_report(audit_repo, lang))


def test_audit_html_is_self_contained_and_complete(audit_repo: AuditRepo) -> None:
    html = write_report(audit_repo, "ko")
    assert "<script" not in html.lower()
    assert not re.search(r"""(src|href)\s*=\s*["']?(https?:|//)""", html), "external asset"
    assert "@import" not in html and "url(" not in html
    assert "@page{size:A4" in html and "@media print" in html
    assert html.count('class="item"') == len(ITEMS)
    assert html.count('data-result="nonconform"') == 12
    assert html.count('class="kpi"') == len(KPI_CATALOGUE)
    assert html.count("<svg") == 3 and html.count('class="bar"') == 6  # two months, three charts
    assert html.count('class="deployment"') == 6
    assert 'class="baseline-change drift"' in html and "db/schema.sql" in html
    assert "부적합" in html and "적합" in html


def test_untrusted_text_is_escaped(audit_repo: AuditRepo) -> None:
    rfc = audit_repo.path / "changes" / "RFC-2026-0002.yml"
    text = rfc.read_text(encoding="utf-8").replace(
        "title: 민원 신청 화면 개선", 'title: "<img src=x onerror=alert(1)> | **bold** @team"'
    )
    rfc.write_text(text, encoding="utf-8")
    audit_repo.repo.commit("RFC-2026-0002 <script>alert('x')</script> title", files={"app/x.py": "y\n"})
    html = write_report(audit_repo, "en")
    assert "<script>alert" not in html and "&lt;script&gt;alert" in html
    form = run_cli(
        ["report", "form", "change-request", "RFC-2026-0002", "--html"], cwd=audit_repo.path, now=AUDIT_AT
    )
    assert "<img" not in form.stdout and "&lt;img src=x onerror=alert(1)&gt;" in form.stdout
    md = run_cli(["report", "form", "change-request", "RFC-2026-0002"], cwd=audit_repo.path, now=AUDIT_AT)
    assert "<img" not in md.stdout and "&#64;team" in md.stdout and "\\*\\*bold\\*\\*" in md.stdout
    assert "\\|" in md.stdout  # a pipe cannot break the table


FORMS = [
    ("change-request", "RFC-2026-0002"),
    ("release-plan", "RFC-2026-0004"),
    ("deployment-result", "r035"),
    ("incident-report", "r018"),  # opened by D2's failure: by the deployment id
]


@pytest.mark.parametrize(("kind", "ident"), FORMS)
@pytest.mark.parametrize("lang", ["ko", "en"])
@pytest.mark.parametrize("html", [False, True])
def test_forms_golden(audit_repo: AuditRepo, kind: str, ident: str, lang: str, html: bool) -> None:
    args = ["--lang", lang, "report", "form", kind, ident] + (["--html"] if html else [])
    result = run_cli(args, cwd=audit_repo.path, now=AUDIT_AT)
    assert result.code == 0, result.stderr
    # The ledger head the form was made from: record ids (and so hashes) differ from run to run.
    head = run_cli(["--format", "json", "ledger", "head"], cwd=audit_repo.path).stdout
    anchor = json.loads(head)["anchor"]
    assert anchor in result.stdout
    _golden(f"forms/{kind}.{lang}.{'html' if html else 'md'}", result.stdout.replace(anchor, "<SEQ:HASH>"))


def test_form_content_comes_from_rfc_and_ledger(audit_repo: AuditRepo) -> None:
    release = run_cli(
        ["--lang", "ko", "report", "form", "release-plan", "RFC-2026-0004"], cwd=audit_repo.path, now=AUDIT_AT
    )
    assert "# 배포계획서" in release.stdout
    assert "| integration | 4444444444 | 12 | 10 | 2 |" in release.stdout
    assert "| 배포 1차 승인 | 승인 |" in release.stdout and "변경 검토" not in release.stdout
    result = run_cli(["report", "form", "deployment-result", "r035"], cwd=audit_repo.path, now=AUDIT_AT)
    assert (
        "| **Result** | failure |" in result.stdout
        and "| **Errors** | health check failed |" in result.stdout
    )
    incident = run_cli(
        ["--lang", "ko", "report", "form", "incident-report", "r018"], cwd=audit_repo.path, now=AUDIT_AT
    )
    assert "# 장애보고서" in incident.stdout and "| **장애 등급** | 1 |" in incident.stdout


def test_form_output_file_and_errors(audit_repo: AuditRepo) -> None:
    result = run_cli(
        ["report", "form", "change-request", "RFC-2026-0001", "--html", "-o", "rfc.html"],
        cwd=audit_repo.path,
        now=AUDIT_AT,
    )
    assert result.code == 0 and (audit_repo.path / "rfc.html").read_text(encoding="utf-8").startswith(
        "<!DOCTYPE html>"
    )
    assert run_cli(["report", "form", "change-request", "RFC-2026-0099"], cwd=audit_repo.path).code == 2
    assert run_cli(["report", "form", "deployment-result", "nope"], cwd=audit_repo.path).code == 2
    assert run_cli(["report", "form", "nonsense", "x"], cwd=audit_repo.path).code == 2


def test_bar_chart_geometry() -> None:
    chart = bar_chart("t", [("26.10", 1.0), ("26.11", 5.0), ("26.12", None)])
    heights = [b.height for b in chart.bars]
    assert heights[1] == chart.bottom - chart.top and heights[0] == pytest.approx(heights[1] / 5, abs=0.1)
    assert heights[2] == 0 and chart.bars[2].value == "–"
    assert all(b.width <= 36 for b in chart.bars)


def test_artefacts_deployed_since_the_baseline_are_in_the_checklist_and_the_report(
    audit_repo: AuditRepo,
) -> None:
    """A deployment after baseline 1.0 that names an RFC explains its artefact; one that names none is
    drift: the checklist's baseline item is nonconform for it and the report marks the row."""
    from datetime import timedelta

    from gatekeeper.ledger import Draft
    from gatekeeper.ledger.sqlite import SqliteLedger
    from tests.platform.oidc import sign

    ledger = SqliteLedger(audit_repo.path / ".gatekeeper" / "ledger.db")
    commit = "a" * 40
    moment = AUDIT_AT - timedelta(hours=1)
    try:
        for name, rfcs in (("app.whl", ("RFC-2026-0002",)), ("hotfix.jar", ())):
            # As the deploying job records it (grade 1): its start and its result, signed by the job.
            start = {"environment": "production", "commit": commit}
            ledger.append(
                sign(
                    Draft(
                        "deployment.started",
                        "minwon-portal",
                        "ci",
                        "github-actions",
                        moment,
                        start,
                        rfcs,
                        id=f"dep-{name}",
                    )
                )
            )
            ledger.append(
                sign(
                    Draft(
                        "deployment.finished",
                        "minwon-portal",
                        "ci",
                        "github-actions",
                        moment,
                        {
                            "started": f"dep-{name}",
                            "result": "success",
                            "environment": "production",
                            "artifacts": {name: "sha256:" + "a" * 64},
                        },
                        rfcs,
                        id=f"dep-{name}-end",
                    ),
                    sha=commit,
                )
            )
    finally:
        ledger.close()
    result = run_cli(["--format", "json", "audit", "--no-record"], cwd=audit_repo.path, now=AUDIT_AT)
    item = {i["id"]: i for i in json.loads(result.stdout)["items"]}["configuration.baseline"]
    assert item["result"] == "nonconform"
    assert "artifact:production:hotfix.jar" in item["evidence"]
    assert "artifact:production:app.whl" not in item["evidence"]  # explained: only failures are listed
    html = write_report(audit_repo, "en")
    assert '<tr class="artifact-change drift"><td class="evidence">production:hotfix.jar</td>' in html
    assert '<tr class="artifact-change"><td class="evidence">production:app.whl</td>' in html
    assert "dep-app.whl (seq:" in html


def test_pdf_output_needs_a_file_and_a_chromium(audit_repo: AuditRepo) -> None:
    base = ["--lang", "ko", "report", "form", "change-request", "RFC-2026-0001", "--pdf"]
    no_file = run_cli(base, cwd=audit_repo.path, now=AUDIT_AT)
    assert no_file.code == 2 and "--output" in no_file.stderr, no_file.stderr
    missing = run_cli(
        [*base, "-o", "rfc.pdf"],
        cwd=audit_repo.path,
        now=AUDIT_AT,
        env={"GATEKEEPER_CHROMIUM": "/nonexistent"},
    )
    assert missing.code == 2 and "Chromium" in missing.stderr and "GATEKEEPER_CHROMIUM" in missing.stderr
    assert "Traceback" not in missing.stderr and not (audit_repo.path / "rfc.pdf").exists()


def test_the_registers_are_a_workbook_read_back_as_written(audit_repo: AuditRepo) -> None:
    """`report register`: 변경이력·배포·장애 관리대장 of November, opened again with openpyxl."""
    from gatekeeper.reporters.register import read_workbook

    args = ["--lang", "ko", "report", "register", "--since", "2026-11-01", "--until", "2026-12-01"]
    result = run_cli([*args, "-o", "registers.xlsx"], cwd=audit_repo.path, now=AUDIT_AT)
    assert result.code == 0, result.stdout + result.stderr
    book = read_workbook(audit_repo.path / "registers.xlsx")
    assert list(book) == ["변경이력 관리대장", "배포 관리대장", "장애 관리대장"]
    changes, deployments, incidents = book.values()
    assert [row[0] for row in changes[1:]] == [
        "RFC-2026-0001",
        "RFC-2026-0002",
        "RFC-2026-0003",
        "RFC-2026-0004",
    ]
    assert changes[0][:3] == ("변경요청ID", "제목", "변경유형")
    assert all(str(cell).endswith("KST") for cell in (row[4] for row in changes[1:]) if cell)
    # The seed's example register (002:1377), column for column.
    assert incidents[0] == (
        "장애ID", "장애유형", "장애시스템", "제목(장애명)", "현재단계(상태)", "장애인지일시",
        "장애발생일시", "조치완료일시", "장애시간(분)", "장애등급", "업무담당자", "처리자",
        "장애원인", "조치내용", "향후대책", "비고",
    )  # fmt: skip
    assert len(incidents) > 1 and all(row[2] == "민원포털 (minwon-portal)" for row in incidents[1:])
    # Enum values in Korean too: 일반변경/진행, 성공/원상복구, 처리 중 — never normal/active/rolled-back.
    assert len(deployments) > 1 and {row[6] for row in deployments[1:]} <= {
        "성공",
        "실패",
        "원상복구",
        "중단",
        "진행 중",
    }
    assert {row[2] for row in changes[1:]} <= {"일반변경", "단순변경", "긴급변경"}
    assert {row[6] for row in changes[1:]} <= {"작성 중", "진행", "종료", "취소"}
    steps = ("변경 검토", "변경관리위원회", "변경 승인")
    assert changes[0][7:10] == tuple(f"{step} (승인자·일시)" for step in steps)
    english = {"normal", "active", "success", "failure", "rolled-back", "open", "resolved"}
    for sheet in (changes, deployments, incidents):
        assert not {cell for row in sheet for cell in row} & english, sheet
    counts = f"변경 {len(changes) - 1}건, 배포 {len(deployments) - 1}건, 장애 {len(incidents) - 1}건"
    assert counts in result.stdout


def test_a_register_cell_that_looks_like_a_formula_is_stored_as_text(tmp_path: Path) -> None:
    from gatekeeper.reporters.register import Sheet, read_workbook, write_workbook

    hostile = ('=HYPERLINK("http://evil.example","click")', "+1+1", "-2", "@SUM(A1)", "평문")
    write_workbook([Sheet("x", ("a",) * 5, (hostile,))], tmp_path / "x.xlsx", title="t", head="1:" + "0" * 64)
    (_header, row) = read_workbook(tmp_path / "x.xlsx")["x"]
    assert row == hostile  # read back as the text written, not as formulas
    from openpyxl import load_workbook

    cells = load_workbook(tmp_path / "x.xlsx")["x"][2]
    assert [c.data_type for c in cells] == ["s"] * 5


def test_a_register_needs_a_writable_file(audit_repo: AuditRepo) -> None:
    result = run_cli(["report", "register", "-o", "no/such/dir/r.xlsx"], cwd=audit_repo.path, now=AUDIT_AT)
    assert (
        result.code == 2 and "cannot write the workbook" in result.stderr and "Traceback" not in result.stderr
    )
    assert run_cli(["report", "register"], cwd=audit_repo.path).code == 2  # --output is required


def test_a_cab_decisions_conditions_and_minutes_reach_the_change_request_form(tmp_path: Path) -> None:
    from tests.helpers import GitRepo, run_cli

    repo = GitRepo.create(tmp_path / "repo")
    config = repo.path / ".gatekeeper.yml"
    config.write_text(config.read_text(encoding="utf-8").replace("grade: 1", "grade: 3"), encoding="utf-8")
    repo.add_rfc("RFC-2026-0001")
    repo.commit("RFC-2026-0001 add the RFC")
    git_email = ["config", "user.email", "choi@example.org"]  # a CAB member decides
    from tests.helpers import git

    git(repo.path, *git_email)
    decided = run_cli(
        [
            "approve", "RFC-2026-0001", "--step", "cab", "--decision", "approve",
            "--conditions", "야간 배포 | 롤백 리허설 후\n## 끝", "--minutes", "CAB-2026-11 회의록 3쪽",
        ],
        cwd=repo.path,
    )  # fmt: skip
    assert decided.code == 0, decided.stdout + decided.stderr
    form = run_cli(["--lang", "ko", "report", "form", "change-request", "RFC-2026-0001"], cwd=repo.path)
    assert form.code == 0, form.stderr
    assert (
        "조건: 야간 배포 \\| 롤백 리허설 후" in form.stdout
        and "회의록: CAB\\-2026\\-11 회의록 3쪽" in form.stdout
    )
    assert "\n## 끝" not in form.stdout
