"""`gatekeeper check-commits` on real temporary repositories: ranges, CI contexts, output, golden files.

Regenerate the golden files with UPDATE_GOLDEN=1 after an intended change of wording.
"""

from __future__ import annotations

import json
import os
import re
from pathlib import Path

import pytest

from tests.helpers import GitRepo, git, run_cli

GOLDEN = Path(__file__).resolve().parent / "golden"


def _history(repo: GitRepo) -> str:
    repo.add_rfc("RFC-2026-0001")
    repo.add_rfc("RFC-2026-0002", status="closed")
    base = repo.commit("RFC-2026-0001 Add the configuration and the RFC files")
    repo.commit("RFC-2026-0001 Validate the applicant's phone number")
    repo.commit("fix typo <b>@team</b> ::warning::x")
    repo.commit("RFC-2026-0009 Add the postcode lookup")
    repo.commit("RFC-2026-0002 Change under a closed RFC")
    repo.commit("RFC-2026-0001")
    return base


def _normalise(text: str) -> str:
    return re.sub(r"\b[0-9a-f]{10}\b", "<sha>", text)


@pytest.mark.parametrize(("fmt", "name"), [("text", "check-commits.txt"), ("markdown", "check-commits.md")])
def test_golden_output(repo: GitRepo, fmt: str, name: str) -> None:
    base = _history(repo)
    result = run_cli(["--format", fmt, "check-commits", "--range", f"{base}..HEAD"], cwd=repo.path)
    assert result.code == 1
    actual = _normalise(result.stdout)
    golden = GOLDEN / name
    if os.environ.get("UPDATE_GOLDEN"):
        golden.parent.mkdir(exist_ok=True)
        golden.write_text(actual, encoding="utf-8")
    assert actual == golden.read_text(encoding="utf-8")


def test_json_findings_and_exit_codes(repo: GitRepo) -> None:
    base = _history(repo)
    result = run_cli(["--format", "json", "check-commits", "--range", f"{base}..HEAD"], cwd=repo.path)
    body = json.loads(result.stdout)
    assert result.code == 1 and body["ok"] is False and body["decision"] == "block"
    assert body["commits"] == 5
    rules = sorted(f["rule"] for f in body["findings"])
    assert rules == sorted(
        ["commit.rfc-missing", "commit.reason-missing", "commit.rfc-unknown", "commit.rfc-inactive"]
    )
    assert body["rfcs"] == ["RFC-2026-0001", "RFC-2026-0002", "RFC-2026-0009"]
    good = run_cli(["check-commits", "--range", f"{base}..HEAD~4"], cwd=repo.path)
    assert good.code == 0 and "ALLOWED" in good.stdout


def test_grade_three_turns_errors_into_warnings(repo: GitRepo) -> None:
    config = (repo.path / ".gatekeeper.yml").read_text().replace("grade: 1", "grade: 3")
    repo.write(".gatekeeper.yml", config)
    base = _history(repo)
    result = run_cli(["check-commits", "--range", f"{base}..HEAD"], cwd=repo.path)
    assert result.code == 0 and "warning" in result.stdout and "ALLOWED" in result.stdout


def test_korean_output(repo: GitRepo) -> None:
    base = _history(repo)
    result = run_cli(["--lang", "ko", "check-commits", "--range", f"{base}..HEAD"], cwd=repo.path)
    assert result.code == 1 and "차단" in result.stdout and "변경요청ID가 없습니다" in result.stdout


def test_message_file_ignores_comments_and_scissors(repo: GitRepo) -> None:
    repo.add_rfc("RFC-2026-0001")
    message = (
        "Validate the applicant's phone number\n"
        "# Refs: RFC-2026-0001\n"
        "# ------------------------ >8 ------------------------\n"
        "Refs: RFC-2026-0001\n"
    )
    repo.write("MSG", message)
    result = run_cli(["check-commits", "--message-file", "MSG"], cwd=repo.path)
    assert result.code == 1 and "commit.rfc-missing" in result.stdout
    repo.write("MSG", "Validate the applicant's phone number\n\nRefs: RFC-2026-0001\n# Please enter...\n")
    assert run_cli(["check-commits", "--message-file", "MSG"], cwd=repo.path).code == 0


@pytest.mark.parametrize(
    ("content", "expected"),
    [(b"RFC-2026-0001 ok\xff\xfe", "not UTF-8"), (b"RFC-2026-0001 a\0b", "NUL byte"), (None, "cannot read")],
)
def test_bad_message_files_are_input_errors(repo: GitRepo, content: bytes | None, expected: str) -> None:
    if content is not None:
        (repo.path / "MSG").write_bytes(content)
    result = run_cli(["check-commits", "--message-file", "MSG"], cwd=repo.path)
    assert result.code == 2 and expected in result.stderr and "MSG" in result.stderr


def test_bad_range_is_a_usage_or_git_error(repo: GitRepo) -> None:
    repo.commit("RFC-2026-0001 first commit with a reason")
    assert run_cli(["check-commits", "--range", "HEAD"], cwd=repo.path).code == 2
    result = run_cli(["check-commits", "--range", "nope..HEAD"], cwd=repo.path)
    assert result.code == 2 and "unknown revision 'nope'" in result.stderr


def _push_event(tmp: Path, before: str, after: str, ref: str = "refs/heads/main") -> dict[str, str]:
    path = tmp / "event.json"
    path.write_text(json.dumps({"ref": ref, "before": before, "after": after, "sender": {"login": "kim"}}))
    return {
        "GITHUB_ACTIONS": "true",
        "GITHUB_EVENT_NAME": "push",
        "GITHUB_EVENT_PATH": str(path),
        "GITHUB_ACTOR": "kim",
    }


def test_github_push_range_from_the_event(repo: GitRepo, tmp_path: Path) -> None:
    repo.add_rfc("RFC-2026-0001")
    before = repo.commit("no id in this old commit")  # before the pushed range: not checked
    repo.commit("RFC-2026-0001 Validate the applicant's phone number")
    after = repo.commit("sneaky commit pushed with --no-verify")
    result = run_cli(
        ["--format", "json", "check-commits"], cwd=repo.path, env=_push_event(tmp_path, before, after)
    )
    body = json.loads(result.stdout)
    assert result.code == 1 and body["commits"] == 2
    assert [f["subject"] for f in body["findings"] if f["rule"] == "commit.rfc-missing"] == [after[:10]]


def test_github_new_branch_checks_only_the_branch_commits(repo: GitRepo, tmp_path: Path) -> None:
    repo.add_rfc("RFC-2026-0001")
    repo.commit("old commit on main without an id")
    git(repo.path, "checkout", "-q", "-b", "feature")
    repo.commit("RFC-2026-0001 Validate the applicant's phone number")
    head = repo.commit("RFC-2026-0001 Show the validation error in Korean")
    env = _push_event(tmp_path, "0" * 40, head, ref="refs/heads/feature")
    result = run_cli(["--format", "json", "check-commits"], cwd=repo.path, env=env)
    body = json.loads(result.stdout)
    assert result.code == 0 and body["commits"] == 2, body


def test_forced_push_checks_everything_since_the_histories_diverged(repo: GitRepo, tmp_path: Path) -> None:
    repo.add_rfc("RFC-2026-0001")
    fork = repo.commit("RFC-2026-0001 Add the configuration and the RFC file")
    old_tip = repo.commit("RFC-2026-0001 Validate the applicant's phone number")
    git(repo.path, "reset", "-q", "--hard", fork)
    repo.commit("rewritten without an id")
    new_tip = repo.commit("RFC-2026-0001 Validate the applicant's phone number again")
    git(repo.path, "branch", "-q", "old", old_tip)
    result = run_cli(
        ["--format", "json", "check-commits"], cwd=repo.path, env=_push_event(tmp_path, old_tip, new_tip)
    )
    body = json.loads(result.stdout)
    assert body["commits"] == 2 and "forced push" in body["note"] and result.code == 1


def test_gitlab_merge_request_range(repo: GitRepo) -> None:
    repo.add_rfc("RFC-2026-0001")
    base = repo.commit("base commit without an id")
    head = repo.commit("RFC-2026-0001 Validate the applicant's phone number")
    env = {
        "GITLAB_CI": "true",
        "CI_COMMIT_SHA": head,
        "GITLAB_USER_LOGIN": "park",
        "CI_MERGE_REQUEST_IID": "3",
        "CI_PIPELINE_SOURCE": "merge_request_event",
        "CI_MERGE_REQUEST_DIFF_BASE_SHA": base,
        "CI_COMMIT_BEFORE_SHA": "0" * 40,
    }
    result = run_cli(["--format", "json", "check-commits"], cwd=repo.path, env=env)
    assert result.code == 0 and json.loads(result.stdout)["commits"] == 1


def test_shallow_clone_without_remote_tells_how_to_fix(tmp_path: Path) -> None:
    origin = GitRepo.create(tmp_path / "origin")
    origin.add_rfc("RFC-2026-0001")
    first = origin.commit("RFC-2026-0001 Add the configuration and the RFC file")
    for n in range(3):
        origin.commit(f"RFC-2026-0001 Step {n} of the phone number validation")
    git(tmp_path, "clone", "-q", "--depth", "1", f"file://{origin.path}", "shallow")
    clone = tmp_path / "shallow"
    env = _push_event(tmp_path, first, origin.head())
    # With its remote, the clone is deepened and the range is checked.
    result = run_cli(["--format", "json", "check-commits"], cwd=clone, env=env)
    assert result.code == 0 and json.loads(result.stdout)["commits"] == 3
    git(tmp_path, "clone", "-q", "--depth", "1", f"file://{origin.path}", "cut")
    git(tmp_path / "cut", "remote", "remove", "origin")
    result = run_cli(["check-commits"], cwd=tmp_path / "cut", env=env)
    assert result.code == 2 and "fetch-depth: 0" in result.stderr and "GIT_DEPTH: 0" in result.stderr


def test_clean_merge_is_exempt_and_evil_merge_is_checked(repo: GitRepo) -> None:
    repo.add_rfc("RFC-2026-0001")
    base = repo.commit("RFC-2026-0001 Add the configuration and the RFC file", files={"a.txt": "a\n"})
    git(repo.path, "checkout", "-q", "-b", "topic")
    repo.commit("RFC-2026-0001 Change b on the topic branch", files={"b.txt": "b\n"})
    git(repo.path, "checkout", "-q", "main")
    repo.commit("RFC-2026-0001 Change c on main", files={"c.txt": "c\n"})
    git(repo.path, "merge", "-q", "--no-ff", "--no-edit", "topic")
    clean = run_cli(["--format", "json", "check-commits", "--range", f"{base}..HEAD"], cwd=repo.path)
    assert clean.code == 0, clean.stdout
    # An "evil" merge: edits that neither parent has.
    git(repo.path, "reset", "-q", "--hard", "HEAD~1")
    git(repo.path, "merge", "-q", "--no-ff", "--no-commit", "topic")
    repo.write("evil.txt", "unreviewed\n")
    git(repo.path, "add", "evil.txt")
    git(repo.path, "commit", "-q", "--no-verify", "--no-edit")
    evil = run_cli(["--format", "json", "check-commits", "--range", f"{base}..HEAD"], cwd=repo.path)
    rules = [f["rule"] for f in json.loads(evil.stdout)["findings"]]
    assert evil.code == 1 and "commit.rfc-missing" in rules
