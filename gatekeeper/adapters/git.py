"""git access: one streaming `git log` per range, range resolution, and small lookups.

Nothing runs at import time. Every call is an argument list (no shell); failures become `GitError` with
the fix in the hint.

Range resolution (what a pipeline must check, `resolve_range`):
- base known and an ancestor of head: `base..head`.
- base known but not an ancestor (a forced push rewrote history): every commit since the point where the
  old and new history diverge, `merge-base(base, head)..head`. Commits that survived the rewrite were
  checked when they were first pushed; everything rewritten is checked again.
- base unknown (new branch or tag: before = 000…0; manual runs), or its object is not in the clone (the
  old tip of a forced push is usually not fetched): every commit reachable from head and from no other
  branch — remote-tracking branches when the clone has any, local branches otherwise. For a new branch
  cut from the default branch that is exactly the branch's own commits.
- shallow clones: the walk would stop at the shallow boundary and look complete. If a remote exists,
  the history is fetched (`git fetch --unshallow`); otherwise the command fails with a GitError telling
  the user to set `fetch-depth: 0` (GitHub) or `GIT_DEPTH: 0` (GitLab).
"""

from __future__ import annotations

import io
import re
import subprocess
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import NamedTuple, cast

from gatekeeper.errors import GitError
from gatekeeper.messages import msg

# sha, parents, tree, author name, author email, committer name, committer email, raw body; -z ends records.
LOG_FORMAT = "--format=%H%x00%P%x00%T%x00%an%x00%ae%x00%cn%x00%ce%x00%B"
_FIELDS = 8
_SHA = re.compile(r"^(?:[0-9a-f]{40}|[0-9a-f]{64})$")
_CO_AUTHOR = re.compile(r"^co-authored-by:[ \t]*(.*?)[ \t]*<([^<>\n]*)>[ \t]*$", re.IGNORECASE | re.MULTILINE)
_NOREPLY = re.compile(
    r"^(?:\d+\+)?([A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)@users\.noreply\.github\.com$", re.IGNORECASE
)
_NOT_ON_OTHERS = "checked every commit not on another branch"
SHALLOW_HINT = msg(
    "fetch the whole history: `fetch-depth: 0` on actions/checkout (GitHub), `GIT_DEPTH: 0` in the job's "
    "variables (GitLab), or `git fetch --unshallow` locally"
)


def _no_git() -> GitError:
    return GitError(msg("git is not installed or not on PATH"), hint=msg("install git"))


class Commit(NamedTuple):
    """One commit as `git log` gives it (a NamedTuple: ranges of 20,000 commits are built in a blink)."""

    sha: str
    parents: tuple[str, ...]
    tree: str
    author_name: str
    author_email: str
    committer_name: str
    committer_email: str
    message: str

    @property
    def subject(self) -> str:
        return self.message.split("\n", 1)[0].strip()

    @property
    def short(self) -> str:
        return self.sha[:10]

    @property
    def is_merge(self) -> bool:
        return len(self.parents) > 1

    @property
    def co_authors(self) -> tuple[tuple[str, str], ...]:
        """(name, email) of every `Co-authored-by:` trailer, however it is capitalised."""
        if "authored-by:" not in self.message.lower():
            return ()
        return tuple((m.group(1), m.group(2)) for m in _CO_AUTHOR.finditer(self.message))


@dataclass(frozen=True, slots=True)
class CommitRange:
    """What `git log` walks: `revisions` are passed as-is (`A..B`, or `B --not refs...`)."""

    head: str
    base: str | None
    revisions: tuple[str, ...]
    note: str = ""

    @property
    def label(self) -> str:
        if self.base:
            return f"{self.base[:10]}..{self.head[:10]}"
        return f"{self.head[:10]} (not on another branch)"


# ------------------------------------------------------------------------------------------- basics


def git(root: Path, *args: str, check: bool = True) -> str:
    """Run git and return its stdout; a failure is a GitError naming the command and git's message."""
    try:
        result = subprocess.run(
            ["git", *args], cwd=root, capture_output=True, text=True, encoding="utf-8", errors="replace"
        )
    except FileNotFoundError:
        raise _no_git() from None
    except NotADirectoryError:
        raise GitError(msg("{root} is not a folder", root=root)) from None
    if check and result.returncode != 0:
        message = result.stderr.strip().splitlines()
        reason = message[-1] if message else f"exit status {result.returncode}"
        if "not a git repository" in result.stderr:
            raise GitError(
                msg("{root} is not inside a git repository", root=root),
                hint=msg("run gatekeeper in your repository"),
            )
        command = " ".join(args)
        raise GitError(msg("`git {command}` failed: {reason}", command=command, reason=reason))
    return result.stdout


def _ok(root: Path, *args: str) -> bool:
    return subprocess.run(["git", *args], cwd=root, capture_output=True).returncode == 0


def head_sha(root: Path) -> str:
    out = git(root, "rev-parse", "--verify", "--quiet", "HEAD^{commit}", check=False).strip()
    if not out:
        raise GitError(
            msg("{root}: the repository has no commits yet", root=root), hint=msg("make a first commit")
        )
    return out


def current_branch(root: Path) -> str | None:
    """The checked-out branch name, or None on a detached HEAD."""
    out = git(root, "symbolic-ref", "--quiet", "--short", "HEAD", check=False).strip()
    return out or None


def upstream_sha(root: Path) -> str | None:
    """The commit of the current branch's upstream (`@{upstream}`), or None when there is none."""
    out = git(root, "rev-parse", "--verify", "--quiet", "@{upstream}^{commit}", check=False).strip()
    return out or None


def config_value(root: Path, key: str) -> str | None:
    out = git(root, "config", "--get", key, check=False).strip()
    return out or None


def rev_parse(root: Path, revision: str) -> str:
    """The full SHA of a commit-ish; an unknown revision is a GitError that says so."""
    if revision.startswith("-"):
        raise GitError(
            msg("{revision!r} is not a revision", revision=revision),
            hint=msg("give a commit ID, a branch or a tag name"),
        )
    out = git(
        root, "rev-parse", "--verify", "--quiet", "--end-of-options", f"{revision}^{{commit}}", check=False
    )
    sha = out.strip()
    if not sha:
        shallow = is_shallow(root)
        hint = SHALLOW_HINT if shallow else msg("check the revision name; `git fetch` if it is on the remote")
        raise GitError(
            msg("unknown revision {revision!r} in {root}", revision=revision, root=root),
            hint=hint.en,
            hint_ko=hint.ko,
        )
    return sha


def is_shallow(root: Path) -> bool:
    return git(root, "rev-parse", "--is-shallow-repository", check=False).strip() == "true"


def has_commit(root: Path, sha: str) -> bool:
    return _ok(root, "cat-file", "-e", f"{sha}^{{commit}}")


def is_ancestor(root: Path, ancestor: str, descendant: str) -> bool:
    return _ok(root, "merge-base", "--is-ancestor", ancestor, descendant)


def remotes(root: Path) -> list[str]:
    return git(root, "remote", check=False).split()


def unshallow(root: Path) -> None:
    """Fetch the missing history of a shallow clone, or fail telling the user how to get a full clone."""
    names = remotes(root)
    if not names:
        raise GitError(
            msg("{root} is a shallow clone without a remote to fetch the history from", root=root),
            hint=SHALLOW_HINT.en,
            hint_ko=SHALLOW_HINT.ko,
        )
    remote = "origin" if "origin" in names else names[0]
    result = subprocess.run(
        ["git", "fetch", "--quiet", "--unshallow", remote], cwd=root, capture_output=True, text=True
    )
    if result.returncode != 0 and is_shallow(root):
        reason = (result.stderr.strip().splitlines() or ["unknown error"])[-1]
        raise GitError(
            msg(
                "{root} is a shallow clone and `git fetch --unshallow {remote}` failed: {reason}",
                root=root,
                remote=remote,
                reason=reason,
            ),
            hint=SHALLOW_HINT.en,
            hint_ko=SHALLOW_HINT.ko,
        )


# ------------------------------------------------------------------------------------------- ranges


def _other_branches(root: Path, head: str, ref: str) -> list[str]:
    """Branches a new branch or tag is measured against: every other remote-tracking branch, else local."""
    own = ref.removeprefix("refs/heads/") if ref.startswith("refs/heads/") else None
    listing = git(root, "for-each-ref", "--format=%(refname)", "refs/remotes/", "refs/heads/").split()
    remote_refs = [r for r in listing if r.startswith("refs/remotes/") and not r.endswith("/HEAD")]
    local_refs = [r for r in listing if r.startswith("refs/heads/")]

    def other(name: str, prefix_len: int) -> bool:
        short = name.split("/", prefix_len)[-1]
        return own is None or short != own

    chosen = (
        [r for r in remote_refs if other(r, 3)] if remote_refs else [r for r in local_refs if other(r, 2)]
    )
    # A branch pointing exactly at head would hide every commit (e.g. `main` when checking main itself).
    return [r for r in chosen if git(root, "rev-parse", r, check=False).strip() != head]


def resolve_range(root: Path, base: str | None, head: str, *, ref: str = "") -> CommitRange:
    """The commits a pipeline must check, from the CI context's base and head (see the module docstring)."""
    shallow = is_shallow(root)
    if shallow and not has_commit(root, head):
        unshallow(root)
        shallow = False
    head = rev_parse(root, head)
    if base is not None and not has_commit(root, base) and shallow:
        unshallow(root)
        shallow = False
    if base is not None and has_commit(root, base):
        base = rev_parse(root, base)
        if is_ancestor(root, base, head):
            return CommitRange(head, base, (f"{base}..{head}",))
        if shallow:
            # In a shallow clone "not an ancestor" may only mean the path is cut off; get the history first.
            unshallow(root)
            return resolve_range(root, base, head, ref=ref)
        fork = git(root, "merge-base", base, head, check=False).strip()
        if fork:
            return CommitRange(
                head,
                fork,
                (f"{fork}..{head}",),
                note=f"forced push: {base[:10]} is not an ancestor of {head[:10]}; checked every commit "
                f"since the histories diverged at {fork[:10]}",
            )
        note = f"forced push: {base[:10]} shares no history with {head[:10]}; {_NOT_ON_OTHERS}"
    elif base is not None:
        note = f"{base[:10]} is not in this clone (a forced push?); {_NOT_ON_OTHERS}"
    else:
        note = ""
    if shallow:
        unshallow(root)
    others = _other_branches(root, head, ref)
    revisions = (head, "--not", *others) if others else (head,)
    return CommitRange(head, None, revisions, note=note)


# ------------------------------------------------------------------------------------------- log


def _parse(fields: list[str]) -> Commit:
    sha = fields[0]
    if not _SHA.match(sha):
        raise GitError(
            msg("unexpected `git log` output near {sha!r}", sha=sha[:40]),
            hint=msg("a commit message contains a NUL byte?"),
        )
    return Commit(
        sha, tuple(fields[1].split()), fields[2], fields[3], fields[4], fields[5], fields[6], fields[7]
    )


def iter_commits(root: Path, revisions: Iterable[str]) -> Iterator[Commit]:
    """Every commit of `revisions`, newest first, read from ONE streaming `git log` process."""
    args = ["git", "log", "-z", "--no-color", "--encoding=UTF-8", LOG_FORMAT, *revisions, "--"]
    try:
        process = subprocess.Popen(args, cwd=root, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    except FileNotFoundError:
        raise _no_git() from None
    assert process.stdout is not None  # Popen with PIPE always sets it
    pending: list[str] = []
    tail = b""
    read = cast(
        "io.BufferedReader", process.stdout
    ).read1  # whatever is ready: parsing overlaps with git producing the rest
    try:
        while chunk := read(1 << 18):
            buffer = tail + chunk
            cut = buffer.rfind(b"\0") + 1
            # Decoding only up to the last NUL never splits a multi-byte character.
            tail = buffer[cut:]
            if not cut:
                continue
            pending.extend(buffer[: cut - 1].decode("utf-8", "replace").split("\0"))
            usable = len(pending) - len(pending) % _FIELDS
            for start in range(0, usable, _FIELDS):
                yield _parse(pending[start : start + _FIELDS])
            del pending[:usable]
        if tail:
            pending.append(tail.decode("utf-8", "replace"))
        if len(pending) == _FIELDS:
            yield _parse(pending)
        elif pending:
            raise GitError(
                msg("`git log` output ended in the middle of a commit"),
                hint=msg("run it again; if it happens again, check the repository with `git fsck`"),
            )
    finally:
        process.stdout.close()
        stderr = process.stderr.read().decode("utf-8", "replace") if process.stderr else ""
        code = process.wait()
        if process.stderr:
            process.stderr.close()
    if code != 0:
        reason = (stderr.strip().splitlines() or [f"exit status {code}"])[-1]
        raise GitError(
            msg(
                "`git log {revisions}` failed: {reason}",
                revisions=" ".join(revisions),
                reason=reason,
            ),
            hint=msg("check the revisions and the state of the repository"),
        )


def clean_merge(root: Path, commit: Commit) -> bool:
    """True when a two-parent merge's tree is exactly what git produces merging its parents.

    Such a merge adds no change of its own. A merge with conflict resolutions or edits ("evil merge"),
    and any octopus merge, is not clean and is checked like every other commit.
    """
    if len(commit.parents) != 2:
        return False
    result = subprocess.run(
        ["git", "merge-tree", "--write-tree", "--no-messages", *commit.parents],
        cwd=root,
        capture_output=True,
        text=True,
    )
    return result.returncode == 0 and result.stdout.split("\n", 1)[0].strip() == commit.tree


# ------------------------------------------------------------------------------------------- people


def person_keys(name: str, email: str) -> set[str]:
    """The ways a person may be named: name, email, email local part and GitHub noreply login, casefolded."""
    keys = {name.strip().casefold()} if name.strip() else set()
    email = email.strip().casefold()
    if email:
        keys.add(email)
        local = email.split("@", 1)[0]
        if local:
            keys.add(local)
        noreply = _NOREPLY.match(email)
        if noreply:
            keys.add(noreply.group(1).casefold())
    return keys


def identities(commits: Iterable[Commit]) -> set[str]:
    people: set[str] = set()
    for commit in commits:
        people |= person_keys(commit.author_name, commit.author_email)
        people |= person_keys(commit.committer_name, commit.committer_email)
        for name, email in commit.co_authors:
            people |= person_keys(name, email)
    return people


def commit_identities(root: Path, commit_range: CommitRange | str) -> set[str]:
    """Everyone who authored, committed or co-authored a commit of the range (see `person_keys`).

    `commit_range` is a resolved CommitRange or a revision range string such as `A..B`.
    """
    revisions = (
        commit_range.revisions if isinstance(commit_range, CommitRange) else tuple(commit_range.split())
    )
    return identities(iter_commits(root, revisions))


def tracked(root: Path, paths: Iterable[str]) -> set[str]:
    """Which of `paths` (relative to `root`) git tracks: one `git ls-files` for all of them."""
    wanted = list(paths)
    if not wanted:
        return set()
    out = git(root, "ls-files", "-z", "--full-name", "--", *wanted)
    prefix = git(root, "rev-parse", "--show-prefix").strip()
    return {name.removeprefix(prefix) for name in out.split("\0") if name}


def checkout_time(root: Path) -> float | None:
    """When the working tree was last checked out (the modification time of HEAD, which a checkout writes
    and a commit, `git status` or a test run leave alone), or None when git cannot say."""
    path = git(root, "rev-parse", "--git-path", "HEAD", check=False).strip()
    if not path:
        return None
    try:
        return (root / path).stat().st_mtime
    except OSError:
        return None


def change_commits(
    root: Path, head: str, rfc_ids: Iterable[str], *, everywhere: bool = False
) -> list[Commit]:
    """Every commit reachable from `head` whose message names one of `rfc_ids`, in any capitalisation: the
    whole change, not only the range a pipeline checks (an author whose commit landed in an earlier push,
    or on a merged feature branch, is still its author). git filters by the IDs' text; a whole-word match
    then drops longer IDs that merely start with one (`RFC-2026-00421`). `everywhere` adds every branch
    of the clone, merged or not (what `approve` looks at before the change is deployed)."""
    wanted = sorted(set(rfc_ids))
    if not wanted:
        return []
    if is_shallow(root):
        unshallow(root)
    exact = re.compile(
        "|".join(rf"(?<![A-Za-z0-9]){re.escape(rfc_id)}(?![A-Za-z0-9])" for rfc_id in wanted), re.IGNORECASE
    )
    greps = [f"--grep={rfc_id}" for rfc_id in wanted]
    heads = (rev_parse(root, head), "--branches", "--remotes") if everywhere else (rev_parse(root, head),)
    found = iter_commits(root, (*heads, "--fixed-strings", "--regexp-ignore-case", *greps))
    return [commit for commit in found if exact.search(commit.message)]
