"""`gatekeeper rfc new | validate | show` on real temporary repositories."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest

from gatekeeper.config import load_rfc
from gatekeeper.domain.rfcid import next_id
from gatekeeper.errors import UsageError
from tests.helpers import BASE_CONFIG, VALID_RFC, GitRepo, run_cli


def _filled(path: Path) -> Path:
    text = path.read_text(encoding="utf-8").replace('reason: ""', "reason: 신청 화면 검증 강화", 1)
    path.write_text(text, encoding="utf-8")
    return path


def test_rfc_new_korean_by_default_for_kr_ap_sop(repo: GitRepo) -> None:
    result = run_cli(
        ["rfc", "new", "--title", "민원 신청 화면 개선"], cwd=repo.path, env={"GITHUB_ACTOR": "lee"}
    )
    assert result.code == 0, result.stderr
    assert result.stdout == "wrote changes/RFC-2026-0001.yml\n"
    text = (repo.path / "changes/RFC-2026-0001.yml").read_text(encoding="utf-8")
    assert "# 변경요청서 (RFC)" in text
    assert "원상복구계획" in text
    assert "requested_at: 2026-11-24T20:00:00+09:00" in text  # the injected clock, in the system's zone
    # The scaffold is deliberately incomplete: validation names what to fill in.
    scaffold = run_cli(["--format", "json", "rfc", "validate"], cwd=repo.path)
    assert scaffold.code == 1
    assert "reason" in json.loads(scaffold.stdout)["findings"][0]["message"]
    rfc = load_rfc(_filled(repo.path / "changes/RFC-2026-0001.yml"))
    assert (rfc.id, rfc.title, rfc.type, rfc.requester, rfc.systems) == (
        "RFC-2026-0001",
        "민원 신청 화면 개선",
        "normal",
        "lee",
        ("minwon-portal",),
    )


@pytest.mark.parametrize("change_type", ["normal", "standard", "emergency"])
def test_rfc_new_english_for_every_type(repo: GitRepo, change_type: str) -> None:
    args = ["rfc", "new", "--lang", "en", "--type", change_type, "--title", 'Fix "quotes": and # hashes']
    result = run_cli([*args, "--requester", "kim"], cwd=repo.path)
    assert result.code == 0, result.stderr
    path = repo.path / "changes/RFC-2026-0001.yml"
    text = path.read_text(encoding="utf-8")
    assert "# Request for change (RFC)" in text
    assert ("standard_template:" in text) is (change_type == "standard")
    assert ("incident:" in text) is (change_type == "emergency")
    if change_type == "normal":
        rfc = load_rfc(_filled(path))
        assert rfc.title == 'Fix "quotes": and # hashes'
        assert rfc.requester == "kim"


def test_rfc_new_chooses_the_next_free_id(repo: GitRepo) -> None:
    repo.add_rfc("RFC-2026-0001")
    repo.add_rfc("RFC-2026-0007")
    repo.add_rfc("RFC-2025-0042")
    result = run_cli(["rfc", "new", "--title", "다음 변경"], cwd=repo.path)
    assert result.stdout == "wrote changes/RFC-2026-0008.yml\n"
    next_year = run_cli(["rfc", "new", "--title", "x"], cwd=repo.path, now=datetime(2027, 1, 2, tzinfo=UTC))
    assert next_year.stdout == "wrote changes/RFC-2027-0001.yml\n"


def test_next_id_for_other_patterns() -> None:
    assert next_id(r"CHG-\d{6}", ["CHG-000041"], 2026) == "CHG-000042"
    assert next_id(r"RFC-[0-9]{3}", [], 2026) == "RFC-001"
    with pytest.raises(UsageError) as caught:
        next_id(r"(?:RFC|CR)-\d+", [], 2026)
    assert "pass the ID with --id" in caught.value.render()


def test_rfc_new_refuses_to_overwrite(repo: GitRepo) -> None:
    original = repo.add_rfc("RFC-2026-0003").read_text(encoding="utf-8")
    result = run_cli(["rfc", "new", "--id", "RFC-2026-0003", "--title", "x"], cwd=repo.path)
    assert result.code == 2
    assert "already exists" in result.stderr
    assert (repo.path / "changes/RFC-2026-0003.yml").read_text(encoding="utf-8") == original


@pytest.mark.parametrize(
    "rfc_id",
    [
        "../../etc/passwd",
        "RFC-2026-0001/../../x",
        "..",
        "/tmp/RFC-2026-0001",
        "RFC-2026-0001\n",
        "RFC-2026-1",
    ],
)
def test_ids_that_are_not_ids_never_become_paths(repo: GitRepo, rfc_id: str) -> None:
    before = sorted(p.relative_to(repo.path.parent) for p in repo.path.parent.rglob("*"))
    for args in (
        ["rfc", "new", "--id", rfc_id, "--title", "x"],
        ["rfc", "show", rfc_id],
        ["rfc", "validate", rfc_id],
    ):
        result = run_cli(args, cwd=repo.path)
        assert result.code == 2, (args, result)
        assert "Traceback" not in result.stderr
    assert sorted(p.relative_to(repo.path.parent) for p in repo.path.parent.rglob("*")) == before


def test_rfc_new_with_a_non_file_store(tmp_path: Path) -> None:
    repo = GitRepo.create(tmp_path / "r", config=BASE_CONFIG.replace("store: files", "store: github"))
    result = run_cli(["rfc", "new", "--title", "x"], cwd=repo.path)
    assert result.code == 2
    assert "github issues" in result.stderr


def test_validate_passes_a_complete_rfc(repo: GitRepo) -> None:
    repo.add_rfc("RFC-2026-0001")
    result = run_cli(["--format", "json", "rfc", "validate"], cwd=repo.path)
    assert result.code == 0, result.stdout + result.stderr
    body = json.loads(result.stdout)
    assert body["ok"] is True
    assert body["rfcs"] == ["RFC-2026-0001"]
    assert body["findings"] == []


def _rules(stdout: str) -> list[tuple[str, str, str]]:
    return [(f["rule"], f["severity"], f["subject"]) for f in json.loads(stdout)["findings"]]


def test_validate_reports_an_invalid_rfc(repo: GitRepo) -> None:
    repo.write("changes/RFC-2026-0002.yml", "id: RFC-2026-0002\ntitle: x\ntype: urgent\n")
    result = run_cli(["--format", "json", "rfc", "validate"], cwd=repo.path)
    assert result.code == 1
    assert _rules(result.stdout) == [("rfc.invalid", "error", "RFC-2026-0002")]
    finding = json.loads(result.stdout)["findings"][0]
    assert finding["sop"] == "CHG-PLAN"
    assert "type" in finding["message"] and "urgent" in finding["message"]


@pytest.mark.parametrize(
    ("field", "value", "rule"),
    [
        ("rollback_plan", "없음", "rfc.rollback-plan-missing"),
        ("rollback_plan", "N/A", "rfc.rollback-plan-missing"),
        ("test_plan", "TBD", "rfc.test-plan-missing"),
        ("test_plan", "짧음", "rfc.test-plan-missing"),
    ],
)
def test_validate_reports_missing_plans(repo: GitRepo, field: str, value: str, rule: str) -> None:
    text = VALID_RFC.format(id="RFC-2026-0005", type="normal", requester="lee", status="active")
    lines = [f"{field}: {value}" if line.startswith(f"{field}:") else line for line in text.splitlines()]
    repo.write("changes/RFC-2026-0005.yml", "\n".join(lines) + "\n")
    result = run_cli(["--format", "json", "rfc", "validate", "RFC-2026-0005"], cwd=repo.path)
    assert result.code == 1
    assert _rules(result.stdout) == [(rule, "error", "RFC-2026-0005")]
    grade3 = repo.path / ".gatekeeper.yml"
    grade3.write_text(grade3.read_text(encoding="utf-8").replace("grade: 1", "grade: 3"), encoding="utf-8")
    warned = run_cli(["--format", "json", "rfc", "validate", "RFC-2026-0005"], cwd=repo.path)
    assert warned.code == 0  # a warning never changes the exit code
    assert _rules(warned.stdout) == [(rule, "warning", "RFC-2026-0005")]


def test_validate_in_korean_text(repo: GitRepo) -> None:
    repo.write("changes/RFC-2026-0002.yml", "id: RFC-2026-0002\ntitle: x\ntype: urgent\n")
    result = run_cli(["--lang", "ko", "rfc", "validate"], cwd=repo.path)
    assert result.code == 1
    assert "차단" in result.stdout
    assert "변경요청서 RFC-2026-0002 형식 오류" in result.stdout


def test_validate_unknown_id(repo: GitRepo) -> None:
    result = run_cli(["rfc", "validate", "RFC-2026-0099"], cwd=repo.path)
    assert result.code == 2
    assert "no RFC RFC-2026-0099" in result.stderr


def test_show_text_and_json(repo: GitRepo) -> None:
    repo.add_rfc("RFC-2026-0001")
    text = run_cli(["rfc", "show", "RFC-2026-0001"], cwd=repo.path)
    assert text.code == 0
    lines = text.stdout.splitlines()
    assert lines[0] == "RFC-2026-0001  민원 신청 화면 개선"
    assert "  type: normal   status: active   requester: lee" in lines
    assert any(line.startswith("  digest: ") and len(line.split()[-1]) >= 32 for line in lines)
    as_json = run_cli(["--format", "json", "rfc", "show", "RFC-2026-0001"], cwd=repo.path)
    body = json.loads(as_json.stdout)
    assert body["rfc"]["id"] == "RFC-2026-0001"
    assert body["rfc"]["systems"] == ["minwon-portal"]
    assert body["digest"] in text.stdout


def test_show_neutralises_hostile_titles(repo: GitRepo) -> None:
    text = VALID_RFC.format(id="RFC-2026-0001", type="normal", requester="lee", status="active")
    text = text.replace("title: 민원 신청 화면 개선", 'title: "x\\n::set-output name=ok::true\\u001b[31m"')
    repo.write("changes/RFC-2026-0001.yml", text)
    result = run_cli(["rfc", "show", "RFC-2026-0001"], cwd=repo.path)
    assert result.code == 0
    assert "\x1b" not in result.stdout
    assert not any(
        line.lstrip(" ").startswith("::") and not line.startswith(" ") for line in result.stdout.splitlines()
    )
    assert "\n::" not in result.stdout


def test_show_an_invalid_rfc_is_an_input_error(repo: GitRepo) -> None:
    repo.write("changes/RFC-2026-0002.yml", "id: RFC-2026-0002\n")
    result = run_cli(["rfc", "show", "RFC-2026-0002"], cwd=repo.path)
    assert result.code == 2
    assert "RFC-2026-0002.yml" in result.stderr
    assert "required key is missing" in result.stderr


def test_the_request_fields_of_seed_003_validate_and_reach_the_form(repo: GitRepo) -> None:
    """Seed 003 변경 요청서: the requester's organisation and the request date, the urgency, the documents
    with their revision; CHG-PLAN: the worker. A field with a value outside its kind is rfc.invalid."""
    body = repo.add_rfc("RFC-2026-0001").read_text(encoding="utf-8")
    extra = (
        "requester_org: 민원과\nrequest_date: 2026-11-18\nurgency: high\n"
        "documents: [{name: '화면 설계서 | <b>x</b>', revision: v1.3}, {name: 요구사항 정의서}]\n"
    )
    repo.write("changes/RFC-2026-0001.yml", body + extra)
    repo.commit("RFC-2026-0001 add the RFC")
    assert run_cli(["rfc", "validate"], cwd=repo.path).code == 0
    form = run_cli(["--lang", "ko", "report", "form", "change-request", "RFC-2026-0001"], cwd=repo.path)
    assert form.code == 0, form.stderr
    for shown in ("민원과", "2026\\-11\\-18", "높음", "choi", "v1\\.3", "요구사항 정의서"):
        assert shown in form.stdout, shown
    assert "<b>" not in form.stdout and "화면 설계서 \\| " in form.stdout  # a pipe cannot split the table
    for bad in (
        "urgency: whenever\n",
        "worker: ''\n",
        "request_date: yesterday\n",
        "documents: [{revision: 1}]\n",
    ):
        repo.write("changes/RFC-2026-0001.yml", body + bad)
        result = run_cli(["--format", "json", "rfc", "validate"], cwd=repo.path)
        assert result.code == 1 and _rules(result.stdout) == [("rfc.invalid", "error", "RFC-2026-0001")], bad
