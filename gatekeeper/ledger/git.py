"""The git ledger (default): records on an orphan branch, pushed with retry, no server needed.

Layout of the branch tip (append cost stays flat as the ledger grows):

    HEAD.json                        the last record (canonical JSON), read without walking the tree
    records/000100/000100001.json    the open shard: one record per file, 1,000 per shard, seq order
    records/000099                   a sealed (full) shard: a gitlink to the last commit that held
                                     records/000099/ as a tree; that commit is an ancestor of the tip

Why sealed shards are gitlinks: a push's connectivity check on the receiving side (GitHub, GitLab or a bare
remote: `rev-list --objects ... --not <refs>`) marks the whole tree of the remote's old tip as known before
walking the new objects, so a tip tree holding every record made each push cost grow with the ledger.
Gitlinks are not walked, so the tip tree is one open shard plus one entry per sealed shard; the sealed
records stay reachable (fetched, pushed, kept by gc) through history. The append that starts a new shard
seals the previous one; the first append to a ledger written in the older layout (every shard a tree)
seals all its full shards the same way. Readers take either form.

Commits are written with plumbing (hash-object, mktree, commit-tree) into the object store only: the
user's working tree, index and branches are never touched. An append fetches the remote tip, checks the
precondition against it, chains the record onto it and pushes; a push rejected because another pipeline
appended first is retried on the new tip after a jittered, bounded backoff. Without a remote the branch
is moved with a compare-and-swap `update-ref`. Tokens go to git through GIT_CONFIG_* environment
variables (never the command line) and are scrubbed from every message.
"""

from __future__ import annotations

import base64
import contextlib
import os
import random
import re
import subprocess
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from urllib.parse import urlsplit

from gatekeeper.errors import LedgerError, LedgerIntegrityError
from gatekeeper.ledger import (
    GENESIS,
    Draft,
    Precondition,
    Record,
    VerifyResult,
    parse_stored,
    record_matches,
    verify_stored,
)

SHARD_SIZE = 1000
HEAD_FILE = "HEAD.json"
GITLINK_MODE = "160000"
PRIVATE_REF = "refs/gatekeeper/ledger"
_MAX_SEQ = 10**9 - 1
_REJECTED = re.compile(
    r"\[rejected\]|non-fast-forward|fetch first|stale info|cannot lock ref|failed to update ref|"
    r"incorrect old value|\[remote rejected\].*(?:lock|failed to update)",
    re.IGNORECASE,
)
_URL_CREDENTIALS = re.compile(r"(https?://)[^/@\s]+@")
_COMMITTER = {
    "GIT_AUTHOR_NAME": "gatekeeper",
    "GIT_AUTHOR_EMAIL": "gatekeeper@ledger.invalid",
    "GIT_COMMITTER_NAME": "gatekeeper",
    "GIT_COMMITTER_EMAIL": "gatekeeper@ledger.invalid",
}


def record_path(seq: int) -> str:
    if not 1 <= seq <= _MAX_SEQ:
        raise LedgerError(f"ledger seq {seq} is outside the git layout's range (1..{_MAX_SEQ})")
    return f"records/{seq // SHARD_SIZE:06d}/{seq:09d}.json"


class _GitFailed(Exception):
    def __init__(self, args: list[str], stderr: str) -> None:
        super().__init__(stderr)
        self.command = args
        self.stderr = stderr


@dataclass
class GitRunner:
    """Runs git against one object store with a controlled environment; never prints secrets."""

    git_dir: Path
    env: dict[str, str]
    secrets: tuple[str, ...] = ()

    def __call__(self, *args: str, input: str | None = None) -> str:
        command = ["git", f"--git-dir={self.git_dir}", *args]
        result = subprocess.run(
            command, input=input, capture_output=True, text=True, env=self.env, encoding="utf-8", check=False
        )
        if result.returncode != 0:
            # push --porcelain reports a rejected ref on stdout, the summary on stderr: keep both.
            said = "\n".join(part.strip() for part in (result.stdout, result.stderr) if part.strip())
            raise _GitFailed(list(args), self.scrub(said or f"git exited {result.returncode}"))
        return result.stdout

    def scrub(self, text: str) -> str:
        for secret in self.secrets:
            if secret:
                text = text.replace(secret, "***")
        return _URL_CREDENTIALS.sub(r"\1***@", text)

    def cat_batch(self, names: list[str]) -> Iterator[str]:
        """Blob contents for `names` (rev:path or sha) through one `cat-file --batch`, streamed."""
        for name, (kind, body) in zip(names, self.cat_objects(names), strict=True):
            if kind == "missing":
                raise LedgerIntegrityError(f"the git ledger has no object for {name}")
            yield body.decode("utf-8", "replace")

    def cat_objects(self, names: list[str]) -> Iterator[tuple[str, bytes]]:
        """(type, raw content) of each of `names` through one `cat-file --batch`, streamed; the type is
        "missing" for a name that resolves to no object."""
        if not names:
            return
        process = subprocess.Popen(
            ["git", f"--git-dir={self.git_dir}", "cat-file", "--batch"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            env=self.env,
        )
        assert process.stdin is not None and process.stdout is not None

        def feed() -> None:
            assert process.stdin is not None
            try:
                for name in names:
                    process.stdin.write(name.encode("utf-8") + b"\n")
                process.stdin.close()
            except BrokenPipeError:
                pass

        writer = threading.Thread(target=feed, daemon=True)
        writer.start()
        try:
            for _name in names:
                header = process.stdout.readline().decode("utf-8", "replace").split()
                if len(header) != 3 or not header[2].isdigit():
                    yield "missing", b""
                    continue
                body = process.stdout.read(int(header[2]))
                process.stdout.read(1)
                yield header[1], body
        finally:
            process.stdout.close()
            process.kill()
            process.wait()
            writer.join()


def _auth_config(env: Mapping[str, str], url: str) -> list[tuple[str, str]]:
    """An http extraheader for the CI job token, scoped to the remote's host (https remotes only)."""
    parts = urlsplit(url)
    if parts.scheme not in {"http", "https"} or not parts.hostname:
        return []
    if env.get("GATEKEEPER_LEDGER_TOKEN"):
        user, token = env.get("GATEKEEPER_LEDGER_TOKEN_USER", "oauth2"), env["GATEKEEPER_LEDGER_TOKEN"]
    elif env.get("GITHUB_ACTIONS") == "true" and env.get("GITHUB_TOKEN"):
        user, token = "x-access-token", env["GITHUB_TOKEN"]
    elif env.get("GITLAB_CI") == "true" and env.get("CI_JOB_TOKEN"):
        user, token = "gitlab-ci-token", env["CI_JOB_TOKEN"]
    else:
        return []
    basic = base64.b64encode(f"{user}:{token}".encode()).decode("ascii")
    origin = f"{parts.scheme}://{parts.netloc.rpartition('@')[2]}/"
    return [(f"http.{origin}.extraheader", f"AUTHORIZATION: basic {basic}")]


def _git_env(env: Mapping[str, str], extra_config: list[tuple[str, str]]) -> dict[str, str]:
    # Never inherit a caller's index, work tree or git dir: the ledger writes objects and refs only.
    clean = {k: v for k, v in env.items() if k not in {"GIT_DIR", "GIT_WORK_TREE", "GIT_INDEX_FILE"}}
    clean.update(_COMMITTER)
    clean["GIT_TERMINAL_PROMPT"] = "0"
    clean.setdefault("GIT_SSH_COMMAND", "ssh -o BatchMode=yes")
    count = int(clean.get("GIT_CONFIG_COUNT", "0") or 0)
    for key, value in extra_config:
        clean[f"GIT_CONFIG_KEY_{count}"] = key
        clean[f"GIT_CONFIG_VALUE_{count}"] = value
        count += 1
    if count:
        clean["GIT_CONFIG_COUNT"] = str(count)
    return clean


class _Snapshot:
    """The ledger as of one commit (None: empty): what reads and preconditions see."""

    def __init__(self, git: GitRunner, commit: str | None) -> None:
        self.git = git
        self.commit = commit

    def head(self) -> Record | None:
        if self.commit is None:
            return None
        text = self._show(HEAD_FILE)
        return _parse(text, HEAD_FILE)

    def _show(self, path: str) -> str:
        try:
            return self.git("cat-file", "blob", f"{self.commit}:{path}")
        except _GitFailed as exc:
            raise LedgerIntegrityError(
                f"the git ledger at {self.commit} has no readable {path}: {exc.stderr}",
                hint="run `gatekeeper ledger verify`; the branch was changed outside gatekeeper",
            ) from None

    def located(self, start_seq: int = 1) -> list[tuple[int, str]]:
        """(seq, `rev:path`) of every record file from `start_seq` on, in seq order, in open and sealed
        shards alike (tree order is seq order: shard and file names are fixed-width numbers)."""
        if self.commit is None:
            return []
        try:
            listing = self.git("ls-tree", "-r", "-z", self.commit, "records/")
        except _GitFailed as exc:
            raise LedgerError(f"cannot list the git ledger: {exc.stderr}") from None
        # In tree order, each entry is a record file (seq, name) or a sealed shard (gitlink commit, path).
        entries: list[tuple[int, str] | tuple[str, str]] = []
        for entry in listing.split("\0"):
            if not entry:
                continue
            meta, path = entry.split("\t", 1)
            mode, _kind, sha = meta.split(" ")
            if mode == GITLINK_MODE:
                shard = path.rsplit("/", 1)[-1]
                if not shard.isdigit() or (int(shard) + 1) * SHARD_SIZE > start_seq:
                    entries.append((sha, path))
            elif _seq_of(path) >= start_seq:
                entries.append((_seq_of(path), f"{self.commit}:{path}"))
        sealed = [(commit, path) for commit, path in entries if isinstance(commit, str)]
        shard_files = iter(self._sealed_files(sealed))
        located: list[tuple[int, str]] = []
        for seq_or_commit, name_or_path in entries:
            if isinstance(seq_or_commit, int):
                located.append((seq_or_commit, name_or_path))
                continue
            for file in next(shard_files):
                if _seq_of(file) >= start_seq:
                    located.append((_seq_of(file), f"{seq_or_commit}:{name_or_path}/{file}"))
        return located

    def _sealed_files(self, sealed: list[tuple[str, str]]) -> list[list[str]]:
        """The file names of each sealed shard: the shard's tree in the commit its gitlink names."""
        objects = self.git.cat_objects([f"{commit}:{path}" for commit, path in sealed])
        listings: list[list[str]] = []
        for (commit, path), (kind, body) in zip(sealed, objects, strict=True):
            if kind != "tree":
                raise LedgerIntegrityError(
                    f"the git ledger's sealed shard {path} names commit {commit}, which "
                    + ("is not in this repository" if kind == "missing" else f"holds a {kind} there"),
                    hint="run `gatekeeper ledger verify`; the branch was changed outside gatekeeper",
                )
            listings.append(_tree_names(body, len(commit) // 2))
        return listings

    def texts(self, start_seq: int = 1) -> Iterator[str]:
        yield from self.git.cat_batch([name for _seq, name in self.located(start_seq)])

    def records(self, start_seq: int = 1) -> Iterator[Record]:
        for text in self.texts(start_seq):
            yield _parse(text, "a record file")

    def find(
        self,
        *,
        kind: str | None = None,
        system: str | None = None,
        rfc: str | None = None,
        since: datetime | None = None,
        until: datetime | None = None,
    ) -> Iterator[Record]:
        needles = [f'"kind":"{kind}"' if kind else "", f'"system":"{system}"' if system else ""]
        for text in self.texts():
            # A cheap substring test first: a scan of a large ledger parses only candidate records.
            if all(n in text for n in needles if n):
                record = _parse(text, "a record file")
                if record_matches(record, kind=kind, system=system, rfc=rfc, since=since, until=until):
                    yield record

    def extent(self) -> tuple[int, int]:
        seqs = [seq for seq, _name in self.located()]
        return len(seqs), max(seqs, default=0)

    def stored(self, seqs: Iterable[int]) -> Iterator[tuple[int, str]]:
        wanted = set(seqs)
        located = [(seq, name) for seq, name in self.located(min(wanted, default=1)) if seq in wanted]
        yield from zip(
            (seq for seq, _name in located), self.git.cat_batch([name for _seq, name in located]), strict=True
        )

    def verify(self, start_seq: int = 1, prev: str = GENESIS) -> VerifyResult:
        result = verify_stored(self.texts(start_seq), start_seq, prev)
        if not result.ok or self.commit is None:
            return result
        last = start_seq - 1 + result.count
        head_text = self._show(HEAD_FILE)
        try:
            head = _parse(head_text, HEAD_FILE)
        except LedgerIntegrityError as exc:
            return VerifyResult(False, result.count, last + 1, exc.message, result.head)
        if head.hash != result.head or head.seq != last:
            return VerifyResult(
                False,
                result.count,
                min(head.seq, last + 1) if head.seq > 0 else 1,
                f"the head file names seq {head.seq} but the records end at seq {last}",
                result.head,
            )
        return result


def _tree_names(body: bytes, hash_size: int) -> list[str]:
    """Names of the blobs in a raw tree object (entries: `<mode> <name>\\0<binary object id>`)."""
    names: list[str] = []
    at = 0
    while at < len(body):
        space = body.index(b" ", at)
        nul = body.index(b"\0", space)
        if body[at:space].startswith(b"100"):
            names.append(body[space + 1 : nul].decode("utf-8", "replace"))
        at = nul + 1 + hash_size
    return names


def _seq_of(path: str) -> int:
    name = path.rsplit("/", 1)[-1].removesuffix(".json")
    return int(name) if name.isdigit() else 0


def _parse(text: str, where: str) -> Record:
    return parse_stored(
        text,
        what=f"the git ledger's {where}",
        hint="run `gatekeeper ledger verify`; restore the branch from a good commit",
    )


class GitLedger:
    """A ledger on branch `branch` of the object store `git_dir`, shared through `remote` when given."""

    def __init__(
        self,
        git_dir: Path,
        *,
        branch: str = "gatekeeper/ledger",
        remote: str | None = None,
        retries: int = 8,
        env: Mapping[str, str] | None = None,
        sleep: Callable[[float], None] = time.sleep,
        rng: random.Random | None = None,
    ) -> None:
        environment = dict(os.environ if env is None else env)
        remote_url = remote or ""
        secrets = tuple(
            environment[name]
            for name in ("GITHUB_TOKEN", "CI_JOB_TOKEN", "GATEKEEPER_LEDGER_TOKEN")
            if environment.get(name)
        )
        self.git = GitRunner(git_dir, _git_env(environment, []), secrets)
        if remote and not _looks_like_url(remote):
            try:
                remote_url = self.git("remote", "get-url", remote).strip()
            except _GitFailed:
                remote_url = ""
        has_own_header = bool(remote_url) and self._has_extraheader()
        extra = [] if has_own_header else _auth_config(environment, remote_url)
        self.git = GitRunner(git_dir, _git_env(environment, extra), secrets)
        self.branch = branch
        self.remote = remote
        self.remote_label = self.git.scrub(remote_url or (remote or ""))
        self.retries = retries
        self.sleep = sleep
        self.rng = rng or random.Random()  # noqa: S311 - jitter, not secrecy
        self._tip: str | None = None
        self._synced = False
        self.attempts = 0  # pushes tried by the last append (for tests and benchmarks)

    def _has_extraheader(self) -> bool:
        try:
            return bool(self.git("config", "--get-regexp", r"^http\..*extraheader$").strip())
        except _GitFailed:
            return False

    # -- syncing --------------------------------------------------------------------------------------

    def _fetch_tip(self) -> str | None:
        """The current tip of the shared ledger, fetched into a private ref; None for an empty ledger."""
        ref = f"refs/heads/{self.branch}"
        if self.remote is None:
            return self._local_tip(ref)
        try:
            listing = self.git("ls-remote", "--", self.remote, ref)
        except _GitFailed as exc:
            raise LedgerError(
                f"cannot reach the ledger remote {self.remote_label}: {_short(exc.stderr)}",
                hint="check the remote URL, the network and the job token's read access; nothing was stored",
            ) from None
        tip = next((line.split()[0] for line in listing.splitlines() if line.endswith("\t" + ref)), None)
        if tip is None:
            return None
        if not self._has_commit(tip):
            try:
                self.git(
                    "fetch",
                    "--quiet",
                    "--no-tags",
                    "--no-write-fetch-head",
                    self.remote,
                    f"+{ref}:{PRIVATE_REF}",
                )
            except _GitFailed as exc:
                raise LedgerError(
                    f"cannot fetch the ledger branch {self.branch} from {self.remote_label}: "
                    f"{_short(exc.stderr)}",
                    hint="check the network and the job token's read access; nothing was stored",
                ) from None
            if not self._has_commit(tip):
                # The branch moved between ls-remote and fetch: build on what was fetched instead.
                tip = self.git("rev-parse", "--verify", PRIVATE_REF).strip()
        return tip

    def _local_tip(self, ref: str) -> str | None:
        try:
            return self.git("rev-parse", "--verify", "--quiet", f"{ref}^{{commit}}").strip() or None
        except _GitFailed:
            return None

    def _has_commit(self, sha: str) -> bool:
        try:
            self.git("cat-file", "-e", f"{sha}^{{commit}}")
            return True
        except _GitFailed:
            return False

    def snapshot(self) -> _Snapshot:
        if not self._synced:
            self._tip = self._fetch_tip()
            self._synced = True
        return _Snapshot(self.git, self._tip)

    # -- reading --------------------------------------------------------------------------------------

    def head(self) -> Record | None:
        return self.snapshot().head()

    def records(self, start_seq: int = 1) -> Iterator[Record]:
        return self.snapshot().records(start_seq)

    def find(
        self,
        *,
        kind: str | None = None,
        system: str | None = None,
        rfc: str | None = None,
        since: datetime | None = None,
        until: datetime | None = None,
    ) -> Iterator[Record]:
        return self.snapshot().find(kind=kind, system=system, rfc=rfc, since=since, until=until)

    def verify(self, start_seq: int = 1, prev: str = GENESIS) -> VerifyResult:
        return self.snapshot().verify(start_seq, prev)

    def extent(self) -> tuple[int, int]:
        return self.snapshot().extent()

    def stored(self, seqs: Iterable[int]) -> Iterator[tuple[int, str]]:
        return self.snapshot().stored(seqs)

    # -- writing --------------------------------------------------------------------------------------

    def append(self, draft: Draft, precondition: Precondition | None = None) -> Record:
        self.attempts = 0
        for attempt in range(self.retries + 1):
            self.attempts = attempt + 1
            tip = self._fetch_tip()
            snapshot = _Snapshot(self.git, tip)
            head = snapshot.head()
            if head is not None and head.id == draft.id:
                return head  # an earlier attempt did land (its answer was lost): store it once only
            if precondition is not None:
                precondition(snapshot)
            record = draft.place_after(head)
            commit = self._commit(tip, record)
            if self._publish(tip, commit):
                self._tip, self._synced = commit, True
                return record
            if attempt < self.retries:
                # Full jitter: pipelines that collided spread out instead of colliding again.
                self.sleep(self.rng.uniform(0, min(2.0, 0.05 * 2**attempt)))
        raise LedgerError(
            f"could not append to the git ledger on {self.remote_label or self.branch}: "
            f"{self.retries + 1} pushes were rejected because other pipelines appended at the same time",
            hint="re-run the job (nothing was stored), or raise ledger.push_retries in .gatekeeper.yml",
        )

    def _commit(self, tip: str | None, record: Record) -> str:
        path = record_path(record.seq)
        _records, shard_name, file_name = path.split("/")
        text = record.to_json()
        try:
            blob = self.git("hash-object", "-w", "--stdin", input=text).strip()
            shard = self._tree_lines(tip, f"records/{shard_name}")
            shard[file_name] = f"100644 blob {blob}\t{file_name}"
            shard_tree = self.git("mktree", input="".join(v + "\n" for v in shard.values())).strip()
            shards = self._tree_lines(tip, "records")
            for name, line in shards.items():
                if name < shard_name and line.startswith("040000 "):
                    # Seal the full shard: point at the parent commit, which holds it as a tree.
                    shards[name] = f"{GITLINK_MODE} commit {tip}\t{name}"
            shards[shard_name] = f"040000 tree {shard_tree}\t{shard_name}"
            records_tree = self.git("mktree", input="".join(v + "\n" for v in shards.values())).strip()
            head_blob = self.git("hash-object", "-w", "--stdin", input=text).strip()
            root = self.git(
                "mktree", input=f"100644 blob {head_blob}\t{HEAD_FILE}\n040000 tree {records_tree}\trecords\n"
            ).strip()
            parent = ["-p", tip] if tip else []
            message = f"ledger {record.seq}: {record.kind} {record.system}\n\nid: {record.id}\n"
            return self.git("commit-tree", root, *parent, "-m", message).strip()
        except _GitFailed as exc:
            raise LedgerError(
                f"cannot write the git ledger's objects in {self.git.git_dir}: {_short(exc.stderr)}",
                hint="check disk space and permissions of the repository; nothing was stored",
            ) from None

    def _tree_lines(self, tip: str | None, path: str) -> dict[str, str]:
        if tip is None:
            return {}
        try:
            listing = self.git("ls-tree", "-z", f"{tip}:{path}")
        except _GitFailed:
            return {}  # the shard does not exist yet
        return {entry.split("\t", 1)[1]: entry for entry in listing.split("\0") if entry}

    def _publish(self, tip: str | None, commit: str) -> bool:
        """Move the shared branch from `tip` to `commit`; False when someone else moved it first."""
        ref = f"refs/heads/{self.branch}"
        if self.remote is None:
            try:
                self.git("update-ref", "-m", "gatekeeper ledger append", ref, commit, tip or "0" * 40)
                return True
            except _GitFailed as exc:
                if _REJECTED.search(exc.stderr) or "but expected" in exc.stderr:
                    return False
                raise LedgerError(
                    f"cannot update the ledger branch {self.branch}: {_short(exc.stderr)}"
                ) from None
        try:
            self.git("push", "--quiet", "--porcelain", "--", self.remote, f"{commit}:{ref}")
        except _GitFailed as exc:
            if _REJECTED.search(exc.stderr) and "hook declined" not in exc.stderr:
                return False
            raise LedgerError(
                f"the ledger remote {self.remote_label} refused the push: {_short(exc.stderr)}",
                hint="the job token needs write access to the ledger branch (GitHub: `permissions: contents: "
                "write`; GitLab: a project token with write_repository); nothing was stored",
            ) from None
        with contextlib.suppress(_GitFailed):  # only a cache of the remote tip; the next fetch repairs it
            self.git("update-ref", PRIVATE_REF, commit)
        return True

    def close(self) -> None:
        return None

    def __enter__(self) -> GitLedger:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _short(stderr: str) -> str:
    lines = [line.strip() for line in stderr.splitlines() if line.strip() and not line.startswith("hint:")]
    return "; ".join(lines[-3:]) if lines else "git failed"


def _looks_like_url(value: str) -> bool:
    return "://" in value or value.startswith(("/", "./", "../", "git@")) or value.endswith(".git")


def open_git(
    root: Path,
    *,
    branch: str,
    remote: str,
    repository: str | None,
    retries: int,
    env: Mapping[str, str],
) -> GitLedger:
    """The ledger of the repository at `root` (remote `remote` when it has one), or of `repository`."""
    environment = dict(env)
    environment.setdefault("PATH", os.defpath)
    git_dir = _git_dir(root, environment)
    if repository is None:
        if git_dir is None:
            raise LedgerError(
                f"the git ledger needs a git repository, and {root} is not one",
                hint="run gatekeeper inside the repository, or set ledger.repository / another backend",
            )
        runner = GitRunner(git_dir, _git_env(environment, []))
        try:
            runner("remote", "get-url", remote)
            chosen: str | None = remote
        except _GitFailed:
            chosen = None  # no remote: the branch lives in this repository only
        return GitLedger(git_dir, branch=branch, remote=chosen, retries=retries, env=environment)
    target = repository
    if not _looks_like_url(repository) or repository.startswith(("./", "../")):
        target = str((root / repository).resolve())
    cache = (git_dir / "gatekeeper-ledger.git") if git_dir else (root / ".gatekeeper" / "ledger.git")
    if not (cache / "HEAD").is_file():
        try:
            cache.parent.mkdir(parents=True, exist_ok=True)
            GitRunner(cache, _git_env(environment, []))("init", "--quiet", "--bare", str(cache))
        except (OSError, _GitFailed) as exc:
            raise LedgerError(f"cannot create the ledger cache {cache}: {exc}") from None
    return GitLedger(cache, branch=branch, remote=target, retries=retries, env=environment)


def _git_dir(root: Path, env: dict[str, str]) -> Path | None:
    clean = _git_env(env, [])
    result = subprocess.run(
        ["git", "-C", str(root), "rev-parse", "--absolute-git-dir"],
        capture_output=True,
        text=True,
        env=clean,
        check=False,
    )
    return Path(result.stdout.strip()) if result.returncode == 0 else None
