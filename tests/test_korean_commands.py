"""Under `--lang ko` the commands that scaffold and write files — `rfc new` / `rfc show`, `hook install`,
`init` and `report register` — print their lines, errors and fixes in Korean (issue 18 item 6); with
GATEKEEPER_LANG=en (the test harness's) English. `init`'s output is compared with a golden file
(`GATEKEEPER_UPDATE_GOLDEN=1` rewrites it after an intended change of wording)."""

from __future__ import annotations

import os
import re
from pathlib import Path

from tests.helpers import GitRepo, git, run_cli

GOLDEN = Path(__file__).resolve().parent / "golden"
UPDATE = os.environ.get("GATEKEEPER_UPDATE_GOLDEN") == "1"
HANGUL = re.compile(r"[가-힣]")
ENGLISH_LINES = ("wrote ", "installed ", "kept ", "already ", "no RFC ", "the previous hook")


def _korean(text: str) -> None:
    """Every line says something in Korean, and none is one of the English sentences."""
    for line in text.strip().splitlines():
        assert not line.strip().startswith(ENGLISH_LINES), line
    assert HANGUL.search(text), text


def test_rfc_new_and_show_speak_korean(repo: GitRepo) -> None:
    written = run_cli(["--lang", "ko", "rfc", "new", "--title", "민원 신청 화면 개선"], cwd=repo.path)
    assert written.code == 0, written.stderr
    assert written.stdout == "작성함: changes/RFC-2026-0001.yml\n"
    english = run_cli(["rfc", "new", "--title", "next"], cwd=repo.path)
    assert english.stdout == "wrote changes/RFC-2026-0002.yml\n"  # GATEKEEPER_LANG=en, as the harness sets

    repo.add_rfc("RFC-2026-0042", status="draft")
    shown = run_cli(["--lang", "ko", "rfc", "show", "RFC-2026-0042"], cwd=repo.path)
    assert shown.code == 0, shown.stderr
    assert "  유형: 일반변경   상태: 작성 중   요청자: lee" in shown.stdout
    for label in ("대상 시스템: minwon-portal", "변경 사유:", "다이제스트: sha256:", "파일: /"):
        assert label in shown.stdout, label
    assert "type:" not in shown.stdout and "normal" not in shown.stdout and "draft" not in shown.stdout


def test_rfc_errors_in_korean(repo: GitRepo) -> None:
    repo.add_rfc("RFC-2026-0003")
    taken = run_cli(["--lang", "ko", "rfc", "new", "--id", "RFC-2026-0003", "--title", "x"], cwd=repo.path)
    assert taken.code == 2
    assert "RFC-2026-0003.yml이(가) 이미 있습니다" in taken.stderr
    assert "조치: 다른 --id를 지정하거나" in taken.stderr and "already exists" not in taken.stderr
    for args in (["rfc", "show", "RFC-2026-0009"], ["rfc", "validate", "RFC-2026-0009"]):
        missing = run_cli(["--lang", "ko", *args], cwd=repo.path)
        assert missing.code == 2, missing.stdout + missing.stderr
        assert "files 저장소에 변경요청 RFC-2026-0009이(가) 없습니다" in missing.stderr
        assert "Traceback" not in missing.stderr
    english = run_cli(["rfc", "show", "RFC-2026-0009"], cwd=repo.path)
    assert "no RFC RFC-2026-0009 in the files store" in english.stderr


def test_hook_install_speaks_korean(repo: GitRepo) -> None:
    hooks = repo.path / ".git" / "hooks"
    hooks.mkdir(parents=True, exist_ok=True)
    (hooks / "commit-msg").write_text("#!/bin/sh\nexit 0\n", encoding="utf-8")
    refused = run_cli(["--lang", "ko", "hook", "install"], cwd=repo.path)
    assert refused.code == 2
    assert "gatekeeper가 쓴 훅이 아닙니다" in refused.stderr
    assert "조치: 직접 합치거나 `gatekeeper hook install --force`" in refused.stderr
    forced = run_cli(["--lang", "ko", "hook", "install", "--force"], cwd=repo.path)
    assert forced.code == 0, forced.stderr
    assert forced.stdout.splitlines() == [
        f"commit-msg 훅을 설치했습니다: {hooks / 'commit-msg'}",
        f"이전 훅은 {hooks / 'commit-msg.local'}(으)로 보관했으며 더는 실행되지 않습니다",
    ]
    _korean(forced.stdout)
    again = run_cli(["hook", "install"], cwd=repo.path)
    assert again.stdout.startswith("installed the commit-msg hook in ")


def _repo(path: Path) -> Path:
    path.mkdir(parents=True)
    git(path, "init", "-q", "-b", "main")
    git(path, "config", "user.name", "Kim Officer")
    git(path, "config", "user.email", "kim.officer@agency.example")
    return path


def test_init_speaks_korean_golden(tmp_path: Path) -> None:
    root = _repo(tmp_path / "minwon-portal")
    result = run_cli(["--lang", "ko", "init", "--ci", "github"], cwd=root)
    assert result.code == 0, result.stderr
    actual = result.stdout.replace(str(root), "<repo>")
    _korean(actual)
    golden = GOLDEN / "init.ko.txt"
    if UPDATE:
        golden.write_text(actual, encoding="utf-8", newline="\n")
    assert actual == golden.read_text(encoding="utf-8")


def test_init_errors_in_korean(tmp_path: Path) -> None:
    outside = tmp_path / "not-a-repo"
    outside.mkdir()
    result = run_cli(["--lang", "ko", "init"], cwd=outside)
    assert result.code == 2, result.stderr
    assert "git 저장소 안이 아닙니다" in result.stderr and "조치: 먼저 `git init`" in result.stderr

    root = _repo(tmp_path / "portal")
    bad_ref = run_cli(["--lang", "ko", "init", "--ci", "github", "--action-ref", "no-tag"], cwd=root)
    assert bad_ref.code == 2
    assert "OWNER/REPO@TAG 형식이 아닙니다" in bad_ref.stderr and "조치: 예: --action-ref" in bad_ref.stderr

    assert run_cli(["init", "--ci", "gitlab", "--no-hook"], cwd=root).code == 0
    again = run_cli(["--lang", "ko", "init", "--ci", "gitlab", "--no-hook"], cwd=root)
    assert again.code == 2
    assert "이미 있는 파일: .gitlab" in again.stderr and "--force를 지정하십시오" in again.stderr
    forced = run_cli(["--lang", "ko", "init", "--ci", "gitlab", "--no-hook", "--force"], cwd=root)
    assert forced.code == 0, forced.stderr
    assert "기존 .gitlab-ci.yml을 .gitlab-ci.yml.bak으로 보관함" in forced.stdout
    assert "작성함: .gatekeeper.yml" in forced.stdout
    _korean(forced.stdout)


def test_report_register_errors_in_korean(repo: GitRepo) -> None:
    result = run_cli(["--lang", "ko", "report", "register", "-o", "no/such/dir/r.xlsx"], cwd=repo.path)
    assert result.code == 2
    assert "통합문서를 쓸 수 없습니다" in result.stderr and "cannot write" not in result.stderr


def test_hook_install_outside_a_repository_in_korean(tmp_path: Path) -> None:
    from gatekeeper.errors import GitError

    assert GitError("x", ko="y").render("ko") == "y"
    (tmp_path / ".gatekeeper.yml").write_text("", encoding="utf-8")
    result = run_cli(["--lang", "ko", "hook", "install"], cwd=tmp_path)
    assert result.code == 2, result.stdout + result.stderr
    assert "git 저장소 안이 아닙니다" in result.stderr and "조치: 저장소 안에서" in result.stderr
    assert "Traceback" not in result.stderr


def test_report_form_of_an_unknown_rfc_in_korean(repo: GitRepo) -> None:
    result = run_cli(["--lang", "ko", "report", "form", "change-request", "RFC-2026-0099"], cwd=repo.path)
    assert result.code == 2, result.stdout + result.stderr
    assert "변경요청 저장소에 'RFC-2026-0099'이(가) 없습니다" in result.stderr
    assert "no RFC" not in result.stderr
