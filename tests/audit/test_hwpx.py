"""The SOP's forms and the audit report as HWPX (한글): written by `--hwpx`, opened again with python-hwpx
and as the OWPML XML inside the zip, validated by python-hwpx's schema check; samples kept in
test-artifacts/."""

from __future__ import annotations

import json
import shutil
import sys
import zipfile
from dataclasses import dataclass
from pathlib import Path

import pytest
from defusedxml import ElementTree

from gatekeeper.checks.audit import ITEMS
from gatekeeper.domain.catalogue import KPI_CATALOGUE
from tests.audit.conftest import AUDIT_AT, AuditRepo
from tests.helpers import run_cli

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"


@dataclass
class Hwpx:
    paragraphs: list[str]  # the body's own paragraphs (not those inside tables)
    tables: list[list[list[str]]]
    xml: str  # Contents/section0.xml as written

    def fields(self) -> dict[str, str]:
        """Label -> value of every two-column field table."""
        return {row[0]: row[1] for table in self.tables for row in table if len(row) == 2}


def read_hwpx(path: Path) -> Hwpx:
    """The document as python-hwpx reads it back, after its validator accepted it."""
    from hwpx import HwpxDocument

    with zipfile.ZipFile(path) as archive:
        assert archive.namelist()[0] == "mimetype"
        assert archive.read("mimetype") == b"application/hwp+zip"
        xml = archive.read("Contents/section0.xml").decode("utf-8")
    ElementTree.fromstring(xml.encode("utf-8"))  # well-formed OWPML
    doc = HwpxDocument.open(path)
    report = doc.validate()
    assert report.ok and not report.errors, report.issues
    tables = [[[cell.text for cell in row.cells] for row in table.rows] for table in doc.tables]
    return Hwpx([p.text for p in doc.paragraphs], tables, xml)


def _head(repo: AuditRepo) -> str:
    return str(json.loads(run_cli(["--format", "json", "ledger", "head"], cwd=repo.path).stdout)["anchor"])


def _form(repo: AuditRepo, kind: str, ident: str, lang: str) -> Hwpx:
    name = f"{kind}.{lang}.hwpx"
    args = ["--lang", lang, "report", "form", kind, ident, "--hwpx", "-o", name]
    result = run_cli(args, cwd=repo.path, now=AUDIT_AT)
    assert result.code == 0, result.stdout + result.stderr
    ARTIFACTS.mkdir(exist_ok=True)
    shutil.copy(repo.path / name, ARTIFACTS / name)
    return read_hwpx(repo.path / name)


# kind, id, title, subtitle, 결재란 (role, name), fields the form must hold
FORMS_KO = [
    (
        "change-request",
        "RFC-2026-0002",
        "변경요청서 / 변경계획서",
        "RFC-2026-0002 — 민원 신청 화면 개선",
        [("검토", "kim"), ("변경관리위원회", "jung"), ("승인", "park")],
        {
            "변경요청ID": "RFC-2026-0002",
            "제목": "민원 신청 화면 개선",
            "변경 유형": "일반변경",
            "작업자": "choi",
        },
    ),
    (
        "release-plan",
        "RFC-2026-0004",
        "배포계획서",
        "RFC-2026-0004 — 민원 신청 화면 개선",
        [("1차 승인", "choi"), ("2차 승인", "lee")],
        {"변경요청ID": "RFC-2026-0004", "배포 계획": "야간 배포, 무중단 롤링 배포로 진행한다"},
    ),
    (
        "deployment-result",
        "r035",
        "배포결과서",
        "r035 (RFC-2026-0004)",
        [("작업자", "choi"), ("검증자", "lee")],
        {"배포ID": "r035", "결과": "실패", "오류 내용": "health check failed", "환경": "production"},
    ),
    (
        "incident-report",
        "r018",
        "장애보고서",
        "r020 — deployment D2 failed",
        [],
        {"장애ID": "r020", "장애 등급": "1", "관련 배포": "r018", "서비스 중단시간(분)": "1459분"},
    ),
]


@pytest.mark.parametrize(("kind", "ident", "title", "subtitle", "signoff", "fields"), FORMS_KO)
def test_every_form_is_an_hwpx_document_with_its_content_signoff_and_ledger_head(
    audit_repo: AuditRepo,
    kind: str,
    ident: str,
    title: str,
    subtitle: str,
    signoff: list[tuple[str, str]],
    fields: dict[str, str],
) -> None:
    doc = _form(audit_repo, kind, ident, "ko")
    assert doc.paragraphs[1:3] == [title, subtitle]
    assert "시스템: 민원포털 (minwon-portal), 1등급" in doc.paragraphs
    assert doc.fields().items() >= fields.items(), doc.fields()
    if signoff:
        box = doc.tables[0]  # the 결재란 comes first, as a table: 결재 | roles / names / dates
        assert box[0] == ["결재", *(role for role, _ in signoff)]
        assert box[1] == [name for _, name in signoff]
        assert all(at.endswith("KST") for at in box[2])
    else:
        assert "결재" not in [row[0] for table in doc.tables for row in table]
    assert doc.paragraphs[-1].endswith(f"원장 기준 {_head(audit_repo)}")
    assert f"원장 기준 {_head(audit_repo)}" in doc.xml


def test_an_english_form_is_english(audit_repo: AuditRepo) -> None:
    doc = _form(audit_repo, "release-plan", "RFC-2026-0004", "en")
    assert doc.paragraphs[1] == "Release plan"
    assert doc.tables[0][0] == ["Sign-off", "First approval", "Second approval"]
    assert doc.paragraphs[-1].endswith(f"ledger head {_head(audit_repo)}")


@pytest.mark.parametrize("lang", ["ko", "en"])
def test_the_audit_report_is_an_hwpx_document(audit_repo: AuditRepo, lang: str) -> None:
    name = f"audit-report.{lang}.hwpx"
    args = ["--lang", lang, "audit", "--since", "2026-10-01", "--until", "2026-11-30", "--hwpx", name]
    result = run_cli(args, cwd=audit_repo.path, now=AUDIT_AT)
    assert result.code == 1, result.stderr  # the history holds nonconformities: the audit says so
    ARTIFACTS.mkdir(exist_ok=True)
    shutil.copy(audit_repo.path / name, ARTIFACTS / name)
    doc = read_hwpx(audit_repo.path / name)
    ko = lang == "ko"
    assert doc.paragraphs[1] == ("SOP 점검 보고서" if ko else "SOP audit report")
    overview, checklist, kpis, ledger, baseline, files, *_artifacts = doc.tables
    assert overview[-1][1].startswith("부적합 — " if ko else "Nonconform — ")
    header = ["영역", "점검 항목", "결과", "근거"] if ko else ["Area", "Question", "Result", "Evidence"]
    assert checklist[0] == header
    assert len(checklist) == 1 + len(ITEMS) and len(kpis) == 1 + len(KPI_CATALOGUE)
    nonconform = "부적합" if ko else "Nonconform"
    assert sum(row[2] == nonconform for row in checklist[1:]) == 12
    assert len(ledger) == 1 + 6  # the six deployments of the period
    assert baseline[0][1].startswith("베이스라인 1.0" if ko else "Baseline 1.0")
    assert ["db-schema", "db/schema.sql"] in [row[:2] for row in files]
    # the audit.run this audit recorded is in the head the report names
    assert doc.paragraphs[-1].endswith(f"{'원장 기준' if ko else 'ledger head'} {_head(audit_repo)}")


def test_hwpx_needs_a_file_and_one_format(audit_repo: AuditRepo) -> None:
    base = ["--lang", "ko", "report", "form", "change-request", "RFC-2026-0001", "--hwpx"]
    no_file = run_cli(base, cwd=audit_repo.path, now=AUDIT_AT)
    assert no_file.code == 2 and "--output" in no_file.stderr and "파일" in no_file.stderr, no_file.stderr
    for other in ("--html", "--pdf"):
        both = run_cli([*base, other, "-o", "x.hwpx"], cwd=audit_repo.path, now=AUDIT_AT)
        assert both.code == 2 and "하나만" in both.stderr and "Traceback" not in both.stderr, both.stderr
        english = run_cli([*base[2:], other, "-o", "x.hwpx"], cwd=audit_repo.path, now=AUDIT_AT)
        assert english.code == 2 and "choose one format" in english.stderr
    assert not (audit_repo.path / "x.hwpx").exists()
    portfolio = run_cli(["audit", "--system", "all", "--hwpx", "a.hwpx"], cwd=audit_repo.path, now=AUDIT_AT)
    assert portfolio.code == 2 and "--system" in portfolio.stderr and "Traceback" not in portfolio.stderr
    nowhere = run_cli(
        ["report", "form", "change-request", "RFC-2026-0001", "--hwpx", "-o", "no/such/dir/x.hwpx"],
        cwd=audit_repo.path,
        now=AUDIT_AT,
    )
    assert nowhere.code == 2 and "cannot write" in nowhere.stderr and "Traceback" not in nowhere.stderr


@pytest.mark.parametrize(
    "command",
    [
        ["report", "form", "change-request", "RFC-2026-0001", "--hwpx", "-o", "x.hwpx"],
        ["audit", "--hwpx", "x.hwpx"],
    ],
)
@pytest.mark.parametrize("lang", ["ko", "en"])
def test_a_missing_hwpx_extra_is_a_setup_error_naming_it(
    audit_repo: AuditRepo, monkeypatch: pytest.MonkeyPatch, command: list[str], lang: str
) -> None:
    head = _head(audit_repo)
    monkeypatch.setitem(sys.modules, "hwpx", None)  # `import hwpx` now fails as if not installed
    result = run_cli(["--lang", lang, *command], cwd=audit_repo.path, now=AUDIT_AT)
    text = result.stdout + result.stderr
    assert result.code == 2, text
    assert "Traceback" not in text and "internal error" not in text
    assert "sop-gatekeeper[hwpx]" in text
    assert ("설치" in text) if lang == "ko" else ("install sop-gatekeeper[hwpx]" in text)
    assert not (audit_repo.path / "x.hwpx").exists()
    assert _head(audit_repo) == head  # stopped before the audit recorded its run
