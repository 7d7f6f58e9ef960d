"""The adoption point: where governance starts in a repository that had history before gatekeeper.

`gatekeeper init` records the repository's last commit as `adoption.commit` in `.gatekeeper.yml`. That
commit and every commit it descends from are *before adoption*: they were made before any RFC existed,
so the commit rules (check-commits) and the audit's commit items leave them out and say how many they left
out. Every other commit is governed, including commits of a branch that was started before adoption and
merged after it: what enters the governed history after adoption is checked.

The judgement rests on ancestry, never on commit dates, which whoever commits can set. `adoption.at` is
kept for the record (when governance started); it exempts nothing. `.gatekeeper.yml` needs code-owner
review like the workflow files, since moving the adoption point would exempt history (README, trust model).
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from gatekeeper.config.models import AdoptionConfig
from gatekeeper.errors import ConfigError
from gatekeeper.messages import msg


def before_adoption(root: Path, adoption: AdoptionConfig | None, sha: str) -> bool:
    """True when commit `sha` is the adoption commit or one of its ancestors (history before governance).

    One question to git per commit; a walk over many commits asks `governed_revisions` instead, which
    gives the same answer for every commit of the walk in the one `git log`.
    """
    from gatekeeper.adapters import git

    if adoption is None:
        return False
    return git.is_ancestor(root, sha, known_adoption_commit(root, adoption))


def governed_revisions(adoption: AdoptionConfig | None, revisions: Iterable[str]) -> tuple[str, ...]:
    """`git log` revisions that walk `revisions` without the history before adoption.

    The exclusion comes first: after a `--not` in `revisions` a `^` would be read the other way round.
    """
    chosen = tuple(revisions)
    return chosen if adoption is None else (f"^{adoption.commit}", *chosen)


def known_adoption_commit(root: Path, adoption: AdoptionConfig) -> str:
    """The adoption commit, or a ConfigError when this clone does not have it (a typo, rewritten history).

    Failing here keeps a wrong adoption point from exempting nothing or everything without a word.
    """
    from gatekeeper.adapters import git

    if not git.has_commit(root, adoption.commit) and git.is_shallow(root):
        git.unshallow(root)  # the commit may lie beyond the shallow boundary
    if not git.has_commit(root, adoption.commit):
        raise ConfigError(
            msg(
                ".gatekeeper.yml: adoption.commit: {commit} is not a commit of this repository\n  "
                ".gatekeeper.yml: adoption.commit: {commit}은(는) 이 저장소의 커밋이 아닙니다",
                commit=adoption.commit,
            ),
            hint=msg(
                "set it to the last commit before gatekeeper was adopted (`git log --reverse` "
                "shows the history; a shallow clone needs `fetch-depth: 0` / `GIT_DEPTH: 0`) / "
                "도입 직전 커밋의 전체 ID로 고치세요"
            ),
        )
    return adoption.commit


def exempt_count(root: Path, adoption: AdoptionConfig | None, revisions: Iterable[str]) -> int:
    """How many commits of `revisions` are before adoption (what check-commits says it left out)."""
    from gatekeeper.adapters import git

    if adoption is None:
        return 0
    chosen = tuple(revisions)
    known_adoption_commit(root, adoption)
    every = git.git(root, "rev-list", "--count", *chosen, "--")
    governed = git.git(root, "rev-list", "--count", *governed_revisions(adoption, chosen), "--")
    return int(every.strip() or 0) - int(governed.strip() or 0)
