"""The git adapter on real repositories: streaming log, co-authors, identities, ranges, shallow clones."""

from __future__ import annotations

from pathlib import Path

import pytest

from gatekeeper.adapters import git as adapter
from gatekeeper.errors import GitError
from tests.helpers import GitRepo, git


def test_log_streams_every_field(repo: GitRepo) -> None:
    first = repo.commit("RFC-2026-0001 first\n\nbody line\n\nCo-authored-by: Lee Kim <lee@agency.go.kr>")
    second = repo.commit(
        "RFC-2026-0001 second 한글 제목\n\nco-authored-by: octo <583231+octocat@users.noreply.github.com>",
        author="Park Author <park@example.org>",
        committer=("Choi Committer", "choi@example.org"),
    )
    commits = list(adapter.iter_commits(repo.path, ["HEAD"]))
    assert [c.sha for c in commits] == [second, first]
    newest = commits[0]
    assert newest.parents == (first,)
    assert (newest.author_name, newest.author_email) == ("Park Author", "park@example.org")
    assert (newest.committer_name, newest.committer_email) == ("Choi Committer", "choi@example.org")
    assert newest.subject == "RFC-2026-0001 second 한글 제목"
    assert newest.co_authors == (("octo", "583231+octocat@users.noreply.github.com"),)
    assert commits[1].co_authors == (("Lee Kim", "lee@agency.go.kr"),)
    assert commits[1].parents == ()


def test_log_handles_many_commits_across_read_chunks(repo: GitRepo) -> None:
    long_body = "x" * 70_000
    for n in range(30):
        repo.commit(f"RFC-2026-0001 commit {n}\n\n{long_body if n % 10 == 0 else 'short'}")
    commits = list(adapter.iter_commits(repo.path, ["HEAD"]))
    assert len(commits) == 30 and commits[-1].subject == "RFC-2026-0001 commit 0"
    assert long_body in commits[0].message or long_body in commits[-1].message


def test_commit_identities(repo: GitRepo) -> None:
    base = repo.commit("base")
    repo.commit(
        "RFC-2026-0001 x\n\nCo-authored-by: Octo Cat <583231+octocat@users.noreply.github.com>",
        author="Park Author <park.author@example.org>",
        committer=("Choi", "choi@example.org"),
    )
    people = adapter.commit_identities(repo.path, f"{base}..HEAD")
    assert {
        "park author",
        "park.author@example.org",
        "park.author",
        "choi",
        "choi@example.org",
        "octocat",
        "octo cat",
    } <= people
    assert "dev@example.org" not in people  # the base commit is outside the range


def test_unknown_revision_and_not_a_repository(repo: GitRepo, tmp_path: Path) -> None:
    repo.commit("one")
    with pytest.raises(GitError, match="unknown revision"):
        adapter.rev_parse(repo.path, "does-not-exist")
    with pytest.raises(GitError):
        adapter.rev_parse(repo.path, "--output=x")
    with pytest.raises(GitError, match="not inside a git repository"):
        adapter.git(tmp_path, "status")
    with pytest.raises(GitError, match="failed"):
        list(adapter.iter_commits(repo.path, ["nope..HEAD"]))


def test_head_branch_and_upstream(repo: GitRepo) -> None:
    with pytest.raises(GitError, match="no commits yet"):
        adapter.head_sha(repo.path)
    sha = repo.commit("one")
    assert adapter.head_sha(repo.path) == sha and adapter.current_branch(repo.path) == "main"
    assert adapter.upstream_sha(repo.path) is None
    git(repo.path, "checkout", "-q", "--detach")
    assert adapter.current_branch(repo.path) is None


def test_new_branch_range_excludes_other_branches(repo: GitRepo) -> None:
    repo.commit("on main")
    git(repo.path, "checkout", "-q", "-b", "feature")
    own = repo.commit("on feature")
    commit_range = adapter.resolve_range(repo.path, None, own, ref="refs/heads/feature")
    assert [c.sha for c in adapter.iter_commits(repo.path, commit_range.revisions)] == [own]
    assert commit_range.base is None and "not on another branch" in commit_range.label


def test_base_missing_from_clone_falls_back(repo: GitRepo) -> None:
    repo.commit("on main")
    git(repo.path, "checkout", "-q", "-b", "feature")
    own = repo.commit("on feature")
    commit_range = adapter.resolve_range(repo.path, "1" * 40, own, ref="refs/heads/feature")
    assert "not in this clone" in commit_range.note
    assert [c.sha for c in adapter.iter_commits(repo.path, commit_range.revisions)] == [own]


def test_shallow_clone_is_deepened_from_its_remote(tmp_path: Path) -> None:
    origin = GitRepo.create(tmp_path / "origin")
    base = origin.commit("one")
    origin.commit("two")
    head = origin.commit("three")
    git(tmp_path, "clone", "-q", "--depth", "1", f"file://{origin.path}", "clone")
    clone = tmp_path / "clone"
    assert adapter.is_shallow(clone)
    commit_range = adapter.resolve_range(clone, base, head)
    assert not adapter.is_shallow(clone)
    assert len(list(adapter.iter_commits(clone, commit_range.revisions))) == 2
