"""The adoption point: history from before gatekeeper is exempt from the commit rules and the audit's commit
items, by ancestry (never by date), and says so; everything after it is governed. What a developer does to
get around it (backdating, an old branch, a missing adoption commit) is in
tests/adversarial/test_forgery.py."""

from __future__ import annotations

import io
import json
from datetime import datetime
from pathlib import Path

import pytest

from gatekeeper.adapters.git import iter_commits
from gatekeeper.commands import Context
from gatekeeper.commands.audit import commits_of_period
from gatekeeper.config.models import AdoptionConfig
from gatekeeper.facts.adoption import before_adoption, exempt_count, governed_revisions
from gatekeeper.runtime import Runtime
from tests.helpers import BASE_CONFIG, GitRepo, git, run_cli

RFC = "RFC-2026-0042"
AT = "2026-11-20T10:00:00+09:00"
AT_TIME = datetime.fromisoformat(AT)


def _history(tmp_path: Path) -> tuple[GitRepo, list[str]]:
    """Three commits without RFC IDs."""
    repo = GitRepo.create(tmp_path / "repo", config=None)
    old = [repo.commit("Initial import"), repo.commit("fix the login page"), repo.commit("tune the cache")]
    return repo, old


def _adopt(repo: GitRepo, commit: str) -> None:
    repo.write(".gatekeeper.yml", BASE_CONFIG + f"adoption: {{commit: '{commit}', at: '{AT}'}}\n")
    repo.add_rfc(RFC)
    repo.commit(f"{RFC} adopt gatekeeper for change governance")


def test_check_commits_exempts_history_before_adoption_and_says_so(tmp_path: Path) -> None:
    repo, old = _history(tmp_path)
    _adopt(repo, old[-1])
    result = run_cli(["check-commits", "--range", "..HEAD"], cwd=repo.path)
    assert result.code == 0, result.stdout + result.stderr
    assert f"3 commit(s) from before the adoption point {old[-1][:10]}" in result.stderr
    as_json = run_cli(["--format", "json", "check-commits", "--range", "..HEAD"], cwd=repo.path)
    data = json.loads(as_json.stdout)
    assert data["commits"] == 1
    assert data["before_adoption"] == {"commit": old[-1], "at": AT, "commits": 3}
    korean = run_cli(["--lang", "ko", "check-commits", "--range", "..HEAD"], cwd=repo.path)
    assert "도입 시점" in korean.stderr and "3건" in korean.stderr


def test_commits_after_adoption_are_governed_even_from_a_branch_started_before(tmp_path: Path) -> None:
    repo, old = _history(tmp_path)
    git(repo.path, "branch", "old-feature", old[1])
    _adopt(repo, old[-1])
    git(repo.path, "checkout", "-q", "old-feature")
    late = repo.commit("quick hack on the old branch")  # made on a pre-adoption branch, merged after
    git(repo.path, "checkout", "-q", "main")
    git(repo.path, "merge", "-q", "--no-ff", "-m", f"{RFC} merge the old feature branch", "old-feature")
    git(repo.path, "branch", "-q", "-D", "old-feature")
    result = run_cli(["--format", "json", "check-commits", "--range", "..HEAD"], cwd=repo.path)
    assert result.code == 1
    subjects = {f["subject"] for f in json.loads(result.stdout)["findings"]}
    assert late[:10] in subjects
    assert not {c[:10] for c in old} & subjects


@pytest.mark.parametrize(
    ("value", "problem"),
    [
        ("{commit: abc1234, at: '2026-11-20T10:00:00+09:00'}", "a full commit id"),
        ("{commit: " + "A" * 40 + ", at: '2026-11-20T10:00:00+09:00'}", "a full commit id"),
        ("{commit: " + "a" * 40 + ", at: '2026-11-20T10:00:00'}", "needs an offset"),
        ("{commit: " + "a" * 40 + "}", "adoption.at"),
        ("{commit: " + "a" * 40 + ", at: '2026-11-20T10:00:00Z', by: kim}", "adoption.by"),
        ("[" + "a" * 40 + "]", "adoption"),
    ],
)
def test_the_adoption_key_is_validated_strictly(tmp_path: Path, value: str, problem: str) -> None:
    repo = GitRepo.create(tmp_path / "repo", config=BASE_CONFIG + f"adoption: {value}\n")
    repo.commit("first")
    result = run_cli(["check-commits", "--range", "..HEAD"], cwd=repo.path)
    assert result.code == 2, result.stdout + result.stderr
    assert ".gatekeeper.yml" in result.stderr and problem in result.stderr


def test_the_root_commit_fix_hint_rebases_from_the_root(tmp_path: Path) -> None:
    repo = GitRepo.create(tmp_path / "repo")
    repo.add_rfc(RFC)
    root = repo.commit("Initial import")
    second = repo.commit("second change")
    result = run_cli(["--format", "json", "check-commits", "--range", "..HEAD"], cwd=repo.path)
    fixes = {f["subject"]: f["remediation"] for f in json.loads(result.stdout)["findings"]}
    assert "git rebase -i --root" in fixes[root[:10]] and "~1" not in fixes[root[:10]]
    assert f"git rebase -i {second[:10]}~1" in fixes[second[:10]]


def test_one_judgement_for_single_commits_and_for_walks(tmp_path: Path) -> None:
    repo, old = _history(tmp_path)
    git(repo.path, "branch", "old-feature", old[1])
    _adopt(repo, old[1])  # "tune the cache" (old[2]) comes after the adoption point
    adoption = AdoptionConfig.model_validate({"commit": old[1], "at": AT})
    everything = [c.sha for c in iter_commits(repo.path, ["HEAD", "old-feature"])]
    walked = {c.sha for c in iter_commits(repo.path, governed_revisions(adoption, ["HEAD", "old-feature"]))}
    for sha in everything:
        assert before_adoption(repo.path, adoption, sha) is (sha not in walked)
    assert [before_adoption(repo.path, adoption, sha) for sha in old] == [True, True, False]
    assert exempt_count(repo.path, adoption, ["HEAD"]) == 2
    assert before_adoption(repo.path, None, old[0]) is False
    # The audit's commit walk leaves out the same commits.
    runtime = Runtime(
        env={}, cwd=repo.path, stdout=io.StringIO(), stderr=io.StringIO(), clock=lambda: AT_TIME
    )
    audited = [c.sha for c in commits_of_period(Context(runtime=runtime, command="audit"), None, None)]
    assert set(audited) == {c.sha for c in iter_commits(repo.path, governed_revisions(adoption, ["HEAD"]))}
    assert old[2] in audited and old[0] not in audited and old[1] not in audited
