"""The git ledger (default): records on an orphan branch, pushed with retry, no server needed.

Layout of the branch tip:

    HEAD.json                        the last record (canonical JSON), read without walking the tree
    records/000098.jsonl.gz          a sealed (full) shard: its 1,000 records, one canonical JSON a line, gzip
    records/000098.seal.json         its seal: shard, first and last seq, count, the hash before its first
                                     record (`prev`), its last record's hash and the SHA-256 of its lines
    records/000099/000099001.json    the open shard: one record per file, seq order

What this buys. A fresh CI runner fetches the tip only (`--depth 1`: one commit, three trees, a hundred
compressed blobs for 100,000 records) and streams every record through one `git cat-file --batch`; each
sealed shard is checked with one pass over its bytes (its records' hashes, its digest, its seal's links).
Compressed shards are also what keeps that fetch cheap for the server: text blobs that resemble each
other make a shallow fetch search for deltas among them, which costs seconds at 100,000 records. A push's
connectivity check marks the whole tree of the remote's old tip as known before it walks the new objects,
so the tip tree stays small: two entries per sealed shard plus the open shard.

The append that starts a new shard seals the previous one, after checking its records chain onto the seal
before it. Ledgers written in the older layouts — every shard a tree, or full shards sealed as gitlinks to
an ancestor commit — stay readable (gitlinks need the branch's history, which is then fetched whole), and
their first append seals every full shard in the new form.

Readers copy the records of the tip they read into a temporary file once per process, with an index of the
members `find` filters on, so a gate's handful of look-ups reads only the records they return; another tip
that extends the one loaded adds only its new records.

Commits are written with plumbing (hash-object, mktree, commit-tree) into an object store only: the user's
working tree, index and branches are never touched. With a remote, that object store is a shallow cache
beside the repository's own (`.git/gatekeeper-ledger.git`), so the repository never becomes shallow. An
append fetches the remote tip, checks the precondition against it, chains the record onto it, pushes, and
confirms with the remote that its branch now holds the record; a push rejected because another pipeline
appended first is retried on the new tip after a jittered, bounded backoff. Without a remote — allowed
outside CI only — the branch is moved with a compare-and-swap `update-ref`. Tokens go to git through
GIT_CONFIG_* environment variables (never the command line) and are scrubbed from every message.
"""

from __future__ import annotations

import base64
import bisect
import contextlib
import gzip
import hashlib
import heapq
import itertools
import json
import os
import random
import re
import subprocess
import tempfile
import threading
import time
import weakref
import zlib
from array import array
from collections import OrderedDict
from collections.abc import Callable, Generator, Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from queue import Full, Queue
from urllib.parse import urlsplit

from gatekeeper.adapters.ci import in_ci
from gatekeeper.errors import LedgerError, LedgerIntegrityError
from gatekeeper.ledger import (
    GENESIS,
    Draft,
    Precondition,
    Record,
    StoredChain,
    VerifyResult,
    canonical_json,
    parse_stored,
    record_matches,
)
from gatekeeper.messages import Message, msg

SHARD_SIZE = 1000
HEAD_FILE = "HEAD.json"
GITLINK_MODE = "160000"
PRIVATE_REF = "refs/gatekeeper/ledger"
SEALED_SUFFIX = ".jsonl.gz"
SEAL_SUFFIX = ".seal.json"
CACHE_NAME = "gatekeeper-ledger.git"
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
# Entries of the repository's own configuration that reaching its remote may need (credentials the CI
# checkout left, URL rewrites, an ssh command); the ledger's cache borrows them.
_BORROWED = r"^(http\..*|credential\..*|url\..*|core\.sshcommand)$"
_PATHS = re.compile(
    r"records/(?:(?P<sealed>\d{6})\.jsonl\.gz|(?P<seal>\d{6})\.seal\.json|(?P<shard>\d{6})/(?P<seq>\d{9})\.json"
    r"|(?P<link>\d{6}))"
)
_BROKEN_HINT = msg("run `gatekeeper ledger verify`; the branch was changed outside gatekeeper")


def record_path(seq: int) -> str:
    if not 1 <= seq <= _MAX_SEQ:
        raise LedgerError(
            msg(
                "ledger seq {seq} is outside the git layout's range (1..{max_seq})",
                seq=seq,
                max_seq=_MAX_SEQ,
            ),
            hint=msg("check the ledger with `gatekeeper ledger verify`"),
        )
    return f"records/{seq // SHARD_SIZE:06d}/{seq:09d}.json"


def shard_first(shard: int) -> int:
    """The first seq a shard holds (shard 0 starts at seq 1)."""
    return max(1, shard * SHARD_SIZE)


def shard_last(shard: int) -> int:
    return (shard + 1) * SHARD_SIZE - 1


def sealed_shard(number: int, rows: list[bytes], prev: str, last_hash: str) -> tuple[bytes, bytes]:
    """The two blobs that seal a full shard whose records (`rows`, in seq order) chain from `prev` to
    `last_hash`: its records, one a line, gzip-compressed; and its seal."""
    data = b"".join(row + b"\n" for row in rows)
    seal = {
        "shard": f"{number:06d}",
        "first": shard_first(number),
        "last": shard_last(number),
        "count": len(rows),
        "prev": prev,
        "last_hash": last_hash,
        "digest": "sha256:" + hashlib.sha256(data).hexdigest(),
    }
    return gzip.compress(data, compresslevel=6, mtime=0), canonical_json(seal).encode("utf-8")


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
        result = self._run(list(args), None if input is None else input.encode("utf-8"))
        return result.stdout.decode("utf-8", "replace")

    def write(self, data: bytes) -> str:
        """Store `data` as a blob; returns its object id."""
        return self._run(["hash-object", "-w", "--stdin"], data).stdout.decode("ascii").strip()

    def status(self, *args: str) -> int:
        """The exit status of a git command that answers with it (`merge-base --is-ancestor`)."""
        command = ["git", f"--git-dir={self.git_dir}", *args]
        return subprocess.run(command, capture_output=True, env=self.env, check=False).returncode

    def _run(self, args: list[str], data: bytes | None) -> subprocess.CompletedProcess[bytes]:
        command = ["git", f"--git-dir={self.git_dir}", *args]
        result = subprocess.run(command, input=data, capture_output=True, env=self.env, check=False)
        if result.returncode != 0:
            # push --porcelain reports a rejected ref on stdout, the summary on stderr: keep both.
            parts = (result.stdout.decode("utf-8", "replace"), result.stderr.decode("utf-8", "replace"))
            said = "\n".join(part.strip() for part in parts if part.strip())
            raise _GitFailed(args, self.scrub(said or f"git exited {result.returncode}"))
        return result

    def scrub(self, text: str) -> str:
        for secret in self.secrets:
            if secret:
                text = text.replace(secret, "***")
        return _URL_CREDENTIALS.sub(r"\1***@", text)

    def cat_objects(self, names: list[str]) -> Generator[tuple[str, bytes], None, None]:
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
                process.stdin.write("".join(name + "\n" for name in names).encode("utf-8"))
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


class _TreeWriter:
    """Trees written through one `git mktree --batch` (a tree's id is read back before the next tree,
    which may name it)."""

    def __init__(self, git: GitRunner) -> None:
        self.process = subprocess.Popen(
            ["git", f"--git-dir={git.git_dir}", "mktree", "--batch"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            env=git.env,
        )

    def write(self, lines: Iterable[str]) -> str:
        assert self.process.stdin is not None and self.process.stdout is not None
        try:
            self.process.stdin.write("".join(line + "\n" for line in lines).encode("utf-8") + b"\n")
            self.process.stdin.flush()
        except BrokenPipeError:
            pass
        oid = self.process.stdout.readline().decode("ascii", "replace").strip()
        if not oid:
            said = self.process.stderr.read().decode("utf-8", "replace") if self.process.stderr else ""
            raise _GitFailed(["mktree", "--batch"], said.strip() or "git mktree failed")
        return oid

    def __enter__(self) -> _TreeWriter:
        return self

    def __exit__(self, *exc: object) -> None:
        for stream in (self.process.stdin, self.process.stdout, self.process.stderr):
            if stream is not None:
                stream.close()
        self.process.wait()


def _auth_config(env: Mapping[str, str], url: str) -> list[tuple[str, str]]:
    """An http extraheader for the CI job token, scoped to the remote's host (https remotes only)."""
    parts = urlsplit(url)
    if parts.scheme not in {"http", "https"} or not parts.hostname:
        return []
    if env.get("GATEKEEPER_LEDGER_TOKEN"):
        user, token = env.get("GATEKEEPER_LEDGER_TOKEN_USER", "oauth2"), env["GATEKEEPER_LEDGER_TOKEN"]
    else:
        from gatekeeper.adapters.ci import ci_platform

        variable, user = ci_platform(env).job_token
        token = env.get(variable, "") if variable else ""
        if not token:
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


# ------------------------------------------------------------------------------------ where records are


@dataclass(frozen=True, slots=True)
class _Source:
    """One object holding records: a record file (one record) or a sealed shard (a shard's records)."""

    first: int  # the storage seq of its first record: the file's name, or the shard's first seq
    blob: str
    seal: str = ""  # the seal's object id, for a sealed shard
    shard: int = -1

    @property
    def sealed(self) -> bool:
        return bool(self.seal)


def _tree_blobs(body: bytes, hash_size: int) -> list[tuple[str, str]]:
    """(name, object id) of the blobs in a raw tree object (entries: `<mode> <name>\\0<binary id>`)."""
    blobs: list[tuple[str, str]] = []
    at = 0
    while at < len(body):
        space = body.index(b" ", at)
        nul = body.index(b"\0", space)
        if body[at:space].startswith(b"100"):
            name = body[space + 1 : nul].decode("utf-8", "replace")
            blobs.append((name, body[nul + 1 : nul + 1 + hash_size].hex()))
        at = nul + 1 + hash_size
    return blobs


def _broken(message: Message) -> LedgerIntegrityError:
    return LedgerIntegrityError(message, hint=_BROKEN_HINT)


Entry = tuple[str, str, str, str]  # (mode, type, object id, path) of a tree entry


def _listing(git: GitRunner, commit: str) -> list[Entry]:
    """Everything under `records/` at `commit`, trees included (one `ls-tree`)."""
    try:
        listing = git("ls-tree", "-r", "-t", "-z", commit, "records/")
    except _GitFailed as exc:
        raise LedgerError(
            msg("cannot list the git ledger: {stderr}", stderr=exc.stderr),
            hint=_BROKEN_HINT.en,
            hint_ko=_BROKEN_HINT.ko,
        ) from None
    entries: list[Entry] = []
    for entry in filter(None, listing.split("\0")):
        meta, path = entry.split("\t", 1)
        mode, kind, oid = meta.split(" ")
        if path != "records":  # -t lists the folder itself too
            entries.append((mode, kind, oid, path))
    return entries


def _list_sources(
    git: GitRunner, commit: str, entries: list[Entry], history: Callable[[], bool]
) -> list[_Source]:
    """Every object holding records at `commit` (listed in `entries`), in seq order, in any layout
    gatekeeper wrote.

    `history` fetches the branch's whole history when a gitlink names a commit that is not here (a shallow
    copy of a ledger in the gitlink layout); it returns False when there is nothing more to fetch.
    """
    files: dict[int, str] = {}
    sealed: dict[int, str] = {}
    seals: dict[int, str] = {}
    links: dict[int, str] = {}
    for mode, kind, oid, path in entries:
        match = _PATHS.fullmatch(path)
        if kind == "tree" and match is not None and match["link"]:
            continue  # a shard held as a tree: its files are listed too
        if (
            match is None
            or (kind == "commit") != bool(match["link"])
            or (kind == "commit") != (mode == GITLINK_MODE)
        ):
            raise _broken(
                msg(
                    "the git ledger at {commit} holds {path!r}, which gatekeeper never writes",
                    commit=commit,
                    path=path,
                )
            )
        if match["sealed"]:
            sealed[int(match["sealed"])] = oid
        elif match["seal"]:
            seals[int(match["seal"])] = oid
        elif match["link"]:
            links[int(match["link"])] = oid
        else:
            files[int(match["seq"])] = oid
    for shard in sorted(set(sealed) ^ set(seals)):
        what = "seal" if shard in sealed else "records"
        raise _broken(msg("the git ledger's sealed shard {shard:06d} has no {what}", shard=shard, what=what))
    if links:
        files.update(_linked_files(git, links, history))
    sources = [_Source(shard_first(n), sealed[n], seals[n], n) for n in sorted(sealed)]
    for seq, oid in files.items():
        if (seq // SHARD_SIZE) in sealed:
            raise _broken(
                msg(
                    "the git ledger holds record file {seq} inside its sealed shard {shard}",
                    seq=seq,
                    shard=seq // SHARD_SIZE,
                )
            )
        sources.append(_Source(seq, oid))
    sources.sort(key=lambda source: source.first)
    return sources


def _linked_files(git: GitRunner, links: dict[int, str], history: Callable[[], bool]) -> dict[int, str]:
    """The record files of shards sealed as gitlinks (the layout before sealed blobs)."""
    names = [f"{commit}:records/{shard:06d}" for shard, commit in sorted(links.items())]
    found = list(git.cat_objects(names))
    if any(kind == "missing" for kind, _body in found) and history():
        found = list(git.cat_objects(names))
    files: dict[int, str] = {}
    for (shard, commit), (kind, body) in zip(sorted(links.items()), found, strict=True):
        if kind != "tree":
            raise _broken(
                msg(
                    "the git ledger's sealed shard records/{shard:06d} names commit {commit}, which is "
                    "not in this repository",
                    shard=shard,
                    commit=commit,
                )
                if kind == "missing"
                else msg(
                    "the git ledger's sealed shard records/{shard:06d} names commit {commit}, which holds a "
                    "{kind} there",
                    shard=shard,
                    commit=commit,
                    kind=kind,
                )
            )
        for name, oid in _tree_blobs(body, len(commit) // 2):
            stem = name.removesuffix(".json")
            if stem.isdigit() and name.endswith(".json"):
                files[int(stem)] = oid
    return files


# ------------------------------------------------------------------------------- records of one tip


def _encoded(value: str) -> bytes:
    """A string as canonical JSON writes it, without the quotes: how the index keys members."""
    return json.dumps(value, ensure_ascii=False)[1:-1].encode("utf-8", "replace")


# How a canonical record ends: its last members, in sorted order, strings without quotes or backslashes.
_TAIL = re.compile(
    rb'"hash":"[0-9a-f]{64}","id":"[^"\\]*","kind":"([^"\\]*)","prev":"[^"\\]*",'
    rb'"rfcs":\[((?:"[^"\\]*"(?:,"[^"\\]*")*)?)\],"seq":[0-9]+,"system":"([^"\\]*)"\}'
)


def _members(row: bytes) -> tuple[bytes, bytes, list[bytes]] | None:
    """(kind, system, RFC ids) of a stored record, as canonical JSON encodes them; None when the row has
    no such members (it then stays a candidate of every look-up, and reading it reports what is wrong).

    A canonical record ends `"hash":"H","id":"I","kind":"K","prev":"P","rfcs":[R],"seq":N,"system":"S"}`.
    When the row ends so, with no quote or backslash inside the strings, those are top-level members and,
    coming last, the values a JSON parser keeps; anything else is parsed.
    """
    tail = _TAIL.fullmatch(row, max(row.rfind(b'"hash":"'), 0))
    if tail is not None:
        rfcs = tail[2]
        return tail[1], tail[3], rfcs[1:-1].split(b'","') if rfcs else []
    try:
        body = json.loads(row)
    except (ValueError, RecursionError):
        return None
    if not isinstance(body, dict):
        return None
    kind, system, rfcs_ = body.get("kind"), body.get("system"), body.get("rfcs")
    if not isinstance(kind, str) or not isinstance(system, str) or not isinstance(rfcs_, list):
        return None
    if not all(isinstance(rfc, str) for rfc in rfcs_):
        return None
    return _encoded(kind), _encoded(system), [_encoded(rfc) for rfc in rfcs_]


class _Store:
    """The records of a ledger tip, copied out of git in one streamed pass into a temporary file, with an
    index of the members `find` filters on (kind and system, RFC ids). Positions count records in storage
    order; the store only grows, so a view of an earlier tip is a prefix of it."""

    def __init__(self) -> None:
        self.file = tempfile.TemporaryFile()  # noqa: SIM115 - lives as long as the store
        weakref.finalize(self, self.file.close)  # when the last view of the store goes
        self.size = 0
        self.offsets = array("Q")
        self.lengths = array("Q")
        self.seqs = array("Q")  # the storage seq of each position
        self.sources: list[_Source] = []
        self.starts: list[int] = []  # the first position of each source
        self.extents: list[tuple[int, int]] = []  # (offset, length) of each source's bytes in the file
        self.seals: list[bytes] = []  # each source's seal (b"" for a record file)
        self.pairs: dict[tuple[bytes, bytes], array[int]] = {}
        self.rfcs: dict[bytes, array[int]] = {}
        self.loose = array("Q")
        self.chain = StoredChain()  # the whole-chain verification, as far as `verified` positions
        self.verified = 0
        self.lock = threading.RLock()

    def __len__(self) -> int:
        return len(self.offsets)

    # -- loading ----------------------------------------------------------------------------------------

    def prefix(self, sources: list[_Source]) -> int | None:
        """How many of `sources` the store holds, when they extend what it holds or it holds all of them;
        None when the store holds another tip's records."""
        known = min(len(sources), len(self.sources))
        return known if sources[:known] == self.sources[:known] else None

    def count(self, sources: int) -> int:
        """The number of positions the first `sources` sources hold."""
        return self.starts[sources] if sources < len(self.sources) else len(self)

    def load(self, git: GitRunner, sources: list[_Source]) -> None:
        for source, data, seal in _decoded(git, sources):
            self._add(source, data, seal)
        self.file.flush()

    def _add(self, source: _Source, data: bytes, seal: bytes) -> None:
        base, first = self.size, len(self)
        self.file.write(data)
        self.size += len(data)
        self.sources.append(source)
        self.starts.append(first)
        self.extents.append((base, len(data)))
        self.seals.append(seal)
        rows = _rows(source, data)
        lengths = [len(row) for row in rows]
        self.lengths.extend(lengths)
        self.offsets.extend(itertools.accumulate((n + 1 for n in lengths[:-1]), initial=base))
        self.seqs.extend(range(source.first, source.first + len(rows)))
        pairs, rfcs, loose = self.pairs, self.rfcs, self.loose
        for position, row in enumerate(rows, first):
            members = _members(row)
            if members is None:
                loose.append(position)
                continue
            pair = pairs.get(members[:2])
            if pair is None:
                pair = pairs[members[:2]] = array("Q")
            pair.append(position)
            for rfc in members[2]:
                found = rfcs.get(rfc)
                if found is None:
                    found = rfcs[rfc] = array("Q")
                if not found or found[-1] != position:  # a record naming one RFC twice is found once
                    found.append(position)

    # -- reading ----------------------------------------------------------------------------------------

    def row(self, position: int) -> bytes:
        return os.pread(self.file.fileno(), self.lengths[position], self.offsets[position])

    def position(self, seq: int, count: int) -> int:
        """The first position below `count` whose storage seq is at least `seq`."""
        return bisect.bisect_left(self.seqs, seq, 0, count)

    def candidates(self, count: int, kind: str | None, system: str | None, rfc: str | None) -> Iterator[int]:
        """Positions below `count`, ascending, that may match: a superset of those that do."""
        with self.lock:
            if rfc is not None:
                lists = [self.rfcs.get(_encoded(rfc), array("Q"))]
            elif kind is not None and system is not None:
                lists = [self.pairs.get((_encoded(kind), _encoded(system)), array("Q"))]
            elif kind is not None or system is not None:
                key, at = (_encoded(kind), 0) if kind is not None else (_encoded(system or ""), 1)
                lists = [found for pair, found in self.pairs.items() if pair[at] == key]
            else:
                lists = [array("Q", range(count))]
            lists.append(self.loose)
            merged = heapq.merge(*(found[: bisect.bisect_left(found, count)] for found in lists))
        previous = -1
        for position in merged:
            if position != previous:
                yield position
            previous = position

    # -- verifying --------------------------------------------------------------------------------------

    def verify(self, begin: int, count: int, chain: StoredChain) -> None:
        """Feed positions [begin, count) to `chain`: one read of each source's bytes, and each sealed
        shard checked against its seal (its digest over those bytes, its range and its links)."""
        source = bisect.bisect_right(self.starts, begin) - 1
        while 0 <= source < len(self.sources) and chain.failure is None:
            start = self.starts[source]
            end = self.starts[source + 1] if source + 1 < len(self.sources) else len(self)
            low, high = max(start, begin), min(end, count)
            if low >= high:
                if start >= count:
                    break
                source += 1
                continue
            offset, length = self.extents[source]
            data = os.pread(self.file.fileno(), length, offset)
            rows = _rows(self.sources[source], data)[low - start : high - start]
            before = (chain.expected, chain.head)
            chain.feed(rows)
            if self.sources[source].sealed and chain.failure is None:
                whole = (low, high) == (start, end)
                seal = self.seals[source]
                why = _seal_problem(
                    self.sources[source], seal, data, end - start, before[1] if whole else None, chain
                )
                if why:
                    chain.fail(before[0], why)
            source += 1

    def verify_all(self, count: int) -> VerifyResult:
        """The whole chain of the tip with `count` positions, continuing what was verified before."""
        with self.lock:
            if count < self.verified:
                fresh = StoredChain()
                self.verify(0, count, fresh)
                return fresh.result()
            self.verify(self.verified, count, self.chain)
            self.verified = count
            return self.chain.result()


def _decoded(git: GitRunner, sources: list[_Source]) -> Iterator[tuple[_Source, bytes, bytes]]:
    """(source, its records' bytes, its seal) of each source, read through one `cat-file --batch` and
    decompressed by a thread of its own, so that git, zlib (which releases the GIL) and the indexing
    overlap; a few sources are in flight at a time, so memory stays flat."""
    queue: Queue[tuple[_Source, bytes, bytes] | BaseException | None] = Queue(maxsize=4)
    stop = threading.Event()

    def offer(item: tuple[_Source, bytes, bytes] | BaseException | None) -> bool:
        while not stop.is_set():  # the reader gave up: drop everything
            with contextlib.suppress(Full):
                queue.put(item, timeout=0.1)
                return True
        return False

    def produce() -> None:
        try:
            for item in _decode(git, sources):
                if not offer(item):
                    return
            offer(None)
        except BaseException as exc:  # handed to the reading thread, which raises it
            offer(exc)

    producer = threading.Thread(target=produce, daemon=True)
    producer.start()
    try:
        while (item := queue.get()) is not None:
            if isinstance(item, BaseException):
                raise item
            yield item
    finally:
        stop.set()
        producer.join()


def _decode(git: GitRunner, sources: list[_Source]) -> Iterator[tuple[_Source, bytes, bytes]]:
    objects = git.cat_objects([name for source in sources for name in (source.blob, source.seal) if name])
    try:
        for source in sources:
            kind, data = next(objects)
            seal = b""
            if source.sealed:
                seal_kind, seal = next(objects)
                if kind != "blob" or seal_kind != "blob":
                    raise _broken(
                        msg("the git ledger's sealed shard {shard:06d} cannot be read", shard=source.shard)
                    )
                try:
                    data = zlib.decompress(data, 31)  # 31: a gzip stream
                except zlib.error as exc:
                    shard = f"{source.shard:06d}"
                    raise _broken(
                        msg("the git ledger's sealed shard {shard} is not gzip: {exc}", shard=shard, exc=exc)
                    ) from None
            elif kind != "blob":
                raise _broken(
                    msg(
                        "the git ledger has no object {blob} for record file {first}",
                        blob=source.blob,
                        first=source.first,
                    )
                )
            yield source, data, seal
    finally:
        objects.close()


def _rows(source: _Source, data: bytes) -> list[bytes]:
    """The stored records in a source's bytes: a sealed shard's lines, or a record file whole."""
    if not source.sealed:
        return [data]
    rows = data.split(b"\n")
    if data.endswith(b"\n"):
        rows.pop()
    return rows


def _seal_problem(
    source: _Source, seal_text: bytes, data: bytes, rows: int, prev: str | None, chain: StoredChain
) -> str:
    """Why a sealed shard whose records were just fed to `chain` does not match its seal ("" when it
    does); `prev` is the hash before its first record, when the shard was fed whole."""
    name = f"sealed shard {source.shard:06d}"
    try:
        seal = json.loads(seal_text)
        fields = (seal["shard"], seal["first"], seal["last"], seal["count"], seal["prev"], seal["last_hash"])
        digest = seal["digest"]
    except (ValueError, KeyError, TypeError, RecursionError):
        return f"the seal of the {name} is unreadable"
    first, last = shard_first(source.shard), shard_last(source.shard)
    if fields[:4] != (f"{source.shard:06d}", first, last, last - first + 1):
        return f"the seal of the {name} names another shard, range or count"
    if rows != last - first + 1:
        return f"the {name} holds {rows} records, its seal {last - first + 1}"
    if digest != "sha256:" + hashlib.sha256(data).hexdigest():
        return f"the {name}'s records do not match the digest in its seal"
    if prev is not None and fields[4] != prev:
        return f"the seal of the {name} names another hash before its first record"
    if fields[5] != chain.head:
        return f"the seal of the {name} names another hash for its last record"
    return ""


class _Stores:
    """The store of each object store this process read last, shared by every ledger handle on it (the
    gate's reader and the deployment's writer read the same tip once). A few are kept; a store nobody
    holds any more closes its file."""

    KEEP = 4

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.stores: OrderedDict[str, _Store] = OrderedDict()

    def view(self, git: GitRunner, sources: list[_Source]) -> tuple[_Store, int]:
        """The store holding the records of a tip with `sources`, and how many positions are that tip's."""
        key = str(git.git_dir)
        with self.lock:
            store = self.stores.get(key)
            if store is None or store.prefix(sources) is None:
                store = self.stores[key] = _Store()
            self.stores.move_to_end(key)
            while len(self.stores) > self.KEEP:
                self.stores.popitem(last=False)
        with store.lock:
            held = store.prefix(sources)
            if held is None:  # another thread moved it on to a tip this one does not extend
                store, held = _Store(), 0
            if held == len(store.sources):
                store.load(git, sources[held:])
            return store, store.count(len(sources))


_STORES = _Stores()


class _Snapshot:
    """The ledger as of one commit (None: empty): what reads and preconditions see."""

    def __init__(self, ledger: GitLedger, commit: str | None) -> None:
        self.ledger = ledger
        self.git = ledger.git
        self.commit = commit
        self._view: tuple[_Store, int] | None = None
        self._listing: list[Entry] | None = None

    def head(self) -> Record | None:
        if self.commit is None:
            return None
        return _parse(self._show(HEAD_FILE), HEAD_FILE)

    def _show(self, path: str) -> str:
        try:
            return self.git("cat-file", "blob", f"{self.commit}:{path}")
        except _GitFailed as exc:
            raise LedgerIntegrityError(
                msg(
                    "the git ledger at {commit} has no readable {path}: {stderr}",
                    commit=self.commit,
                    path=path,
                    stderr=exc.stderr,
                ),
                hint=_BROKEN_HINT.en,
                hint_ko=_BROKEN_HINT.ko,
            ) from None

    def listing(self) -> list[Entry]:
        if self._listing is None:
            self._listing = [] if self.commit is None else _listing(self.git, self.commit)
        return self._listing

    def sources(self) -> list[_Source]:
        if self.commit is None:
            return []
        return _list_sources(self.git, self.commit, self.listing(), self.ledger.fetch_history)

    def view(self) -> tuple[_Store, int]:
        if self._view is None:
            self._view = _STORES.view(self.git, self.sources())
        return self._view

    def records(self, start_seq: int = 1) -> Iterator[Record]:
        store, count = self.view()
        for position in range(store.position(start_seq, count), count):
            yield _parse(store.row(position).decode("utf-8", "replace"), "a record")

    def find(
        self,
        *,
        kind: str | None = None,
        system: str | None = None,
        rfc: str | None = None,
        since: datetime | None = None,
        until: datetime | None = None,
        carrying: str | None = None,
    ) -> Iterator[Record]:
        store, count = self.view()
        needle = carrying.encode("utf-8") if carrying is not None else None
        for position in store.candidates(count, kind, system, rfc):
            row = store.row(position)
            if needle is not None and needle not in row:
                continue  # the stored text does not hold it: no need to parse the record
            record = _parse(row.decode("utf-8", "replace"), "a record")
            if record_matches(
                record, kind=kind, system=system, rfc=rfc, since=since, until=until, carrying=carrying
            ):
                yield record

    def extent(self) -> tuple[int, int]:
        store, count = self.view()
        return count, (store.seqs[count - 1] if count else 0)

    def stored(self, seqs: Iterable[int]) -> Iterator[tuple[int, str]]:
        store, count = self.view()
        for seq in sorted(set(seqs)):
            position = store.position(seq, count)
            if position < count and store.seqs[position] == seq:
                yield seq, store.row(position).decode("utf-8", "replace")

    def verify(self, start_seq: int = 1, prev: str = GENESIS) -> VerifyResult:
        store, count = self.view()
        if start_seq == 1 and prev == GENESIS:
            result = store.verify_all(count)
        else:
            chain = StoredChain(start_seq, prev)
            store.verify(store.position(start_seq, count), count, chain)
            result = chain.result()
        if not result.ok or self.commit is None:
            return result
        last = start_seq - 1 + result.count
        try:
            head = _parse(self._show(HEAD_FILE), HEAD_FILE)
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


def _parse(text: str, where: str) -> Record:
    return parse_stored(
        text,
        what=f"the git ledger's {where}",
        hint="run `gatekeeper ledger verify`; restore the branch from a good commit",
    )


# ------------------------------------------------------------------------------------------ the ledger


class GitLedger:
    """A ledger on branch `branch` of the object store `git_dir`, shared through `remote` when given.

    `remote` is where the branch is fetched from (a URL, a path, or a remote of `git_dir`); `push_remote`,
    when given, where it is pushed to. `extra_config` is git configuration the remote needs (borrowed from
    the repository whose remote it is).
    """

    def __init__(
        self,
        git_dir: Path,
        *,
        branch: str = "gatekeeper/ledger",
        remote: str | None = None,
        push_remote: str | None = None,
        retries: int = 8,
        env: Mapping[str, str] | None = None,
        extra_config: list[tuple[str, str]] | None = None,
        sleep: Callable[[float], None] = time.sleep,
        rng: random.Random | None = None,
    ) -> None:
        environment = dict(os.environ if env is None else env)
        borrowed = list(extra_config or [])
        remote_url = remote or ""
        secrets = tuple(
            environment[name]
            for name in ("GITHUB_TOKEN", "CI_JOB_TOKEN", "GATEKEEPER_LEDGER_TOKEN")
            if environment.get(name)
        ) + tuple(value for key, value in borrowed if key.lower().endswith("extraheader"))
        self.git = GitRunner(git_dir, _git_env(environment, borrowed), secrets)
        if remote and not _looks_like_url(remote):
            try:
                remote_url = self.git("remote", "get-url", remote).strip()
            except _GitFailed:
                remote_url = ""
        has_own_header = bool(remote_url) and self._has_extraheader()
        extra = [] if has_own_header else _auth_config(environment, remote_url)
        self.git = GitRunner(git_dir, _git_env(environment, [*borrowed, *extra]), secrets)
        self.branch = branch
        self.remote = remote
        self.push_remote = push_remote or remote
        self.remote_label = self.git.scrub(remote_url or (remote or ""))
        self.retries = retries
        self.sleep = sleep
        self.rng = rng or random.Random()  # noqa: S311 - jitter, not secrecy
        self._snapshot: _Snapshot | None = None
        self._present: set[str] = set()  # commits known to be in the object store
        self.attempts = 0  # pushes tried by the last append (for tests and benchmarks)

    def _has_extraheader(self) -> bool:
        try:
            return bool(self.git("config", "--get-regexp", r"^http\..*extraheader$").strip())
        except _GitFailed:
            return False

    # -- syncing --------------------------------------------------------------------------------------

    @property
    def _ref(self) -> str:
        return f"refs/heads/{self.branch}"

    def _fetch_tip(self) -> str | None:
        """The current tip of the shared ledger, fetched into a private ref; None for an empty ledger."""
        if self.remote is None:
            return self._local_tip(self._ref)
        tip = self._remote_tip()
        if tip is None:
            return None
        if tip not in self._present and not self._has_commit(tip):
            # The tip alone: a sealed layout holds every record in the tip's tree.
            self._fetch("--depth=1")
            if not self._has_commit(tip):
                # The branch moved between ls-remote and fetch: build on what was fetched instead.
                tip = self.git("rev-parse", "--verify", PRIVATE_REF).strip()
        self._present.add(tip)
        return tip

    def _remote_tip(self) -> str | None:
        assert self.remote is not None
        try:
            listing = self.git("ls-remote", "--", self.remote, self._ref)
        except _GitFailed as exc:
            raise LedgerError(
                msg(
                    "cannot reach the ledger remote {remote_label}: {short_stderr}",
                    remote_label=self.remote_label,
                    short_stderr=_short(exc.stderr),
                ),
                hint=msg(
                    "check the remote URL, the network and the job token's read access; nothing was stored"
                ),
            ) from None
        return next(
            (line.split()[0] for line in listing.splitlines() if line.endswith("\t" + self._ref)), None
        )

    def _fetch(self, *options: str) -> None:
        assert self.remote is not None
        try:
            self.git(
                "fetch",
                "--quiet",
                "--no-tags",
                "--no-write-fetch-head",
                *options,
                self.remote,
                f"+{self._ref}:{PRIVATE_REF}",
            )
        except _GitFailed as exc:
            raise LedgerError(
                msg(
                    "cannot fetch the ledger branch {branch} from {remote_label}: {short_stderr}",
                    branch=self.branch,
                    remote_label=self.remote_label,
                    short_stderr=_short(exc.stderr),
                ),
                hint=msg("check the network and the job token's read access; nothing was stored"),
            ) from None

    def _shallow(self) -> bool:
        try:
            return self.git("rev-parse", "--is-shallow-repository").strip() == "true"
        except _GitFailed:
            return False

    def fetch_history(self) -> bool:
        """Fetch the ledger branch's whole history into a shallow copy; False when it has it already."""
        if self.remote is None or not self._shallow():
            return False
        self._fetch("--unshallow")
        return True

    def _local_tip(self, ref: str) -> str | None:
        try:
            return self.git("rev-parse", "--verify", "--quiet", f"{ref}^{{commit}}").strip() or None
        except _GitFailed:
            return None

    def _has_commit(self, sha: str) -> bool:
        return self.git.status("cat-file", "-e", f"{sha}^{{commit}}") == 0

    def _is_ancestor(self, ancestor: str, descendant: str) -> bool:
        return self.git.status("merge-base", "--is-ancestor", ancestor, descendant) == 0

    def snapshot(self) -> _Snapshot:
        """The ledger as of the tip fetched first (every read of this handle sees that one tip)."""
        if self._snapshot is None:
            self._snapshot = _Snapshot(self, self._fetch_tip())
        return self._snapshot

    def tip(self) -> str | None:
        """The commit the reads see (None: an empty ledger)."""
        return self.snapshot().commit

    def descends_from(self, commit: str, records_since: int) -> bool:
        """Whether the tip the reads see is `commit` or a descendant of it; `records_since` (records
        appended since `commit`) bounds how much history a shallow copy fetches to tell."""
        tip = self.tip()
        if tip is None:
            return False
        if tip == commit or self._is_ancestor(commit, tip):
            return True
        if self.remote is None or not self._shallow():
            return False
        self._fetch(f"--deepen={max(records_since, 1) + 1}")
        return self._is_ancestor(commit, tip)

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
        carrying: str | None = None,
    ) -> Iterator[Record]:
        return self.snapshot().find(
            kind=kind, system=system, rfc=rfc, since=since, until=until, carrying=carrying
        )

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
            snapshot = _Snapshot(self, tip)
            head = snapshot.head()
            if head is not None and head.id == draft.id:
                return head  # an earlier attempt did land (its answer was lost): store it once only
            if precondition is not None:
                precondition(snapshot)
            record = draft.place_after(head)
            commit = self._commit(snapshot, record)
            if self._publish(tip, commit, record):
                self._snapshot = _Snapshot(self, commit)
                self._present.add(commit)
                return record
            if attempt < self.retries:
                # Full jitter: pipelines that collided spread out instead of colliding again.
                self.sleep(self.rng.uniform(0, min(2.0, 0.05 * 2**attempt)))
        raise LedgerError(
            msg(
                "could not append to the git ledger on {remote}: "
                "{attempts} pushes were rejected because other pipelines appended at the "
                "same time",
                remote=self.remote_label or self.branch,
                attempts=self.retries + 1,
            ),
            hint=msg("re-run the job (nothing was stored), or raise ledger.push_retries in .gatekeeper.yml"),
        )

    def _commit(self, snapshot: _Snapshot, record: Record) -> str:
        """The commit that adds `record` to the tip of `snapshot` (sealing the shard it completes)."""
        tip = snapshot.commit
        path = record_path(record.seq)
        _records, shard_name, file_name = path.split("/")
        top: dict[str, str] = {}
        shard: dict[str, str] = {}
        for mode, kind, oid, entry in snapshot.listing():
            parts = entry.split("/")
            if len(parts) == 2:
                top[parts[1]] = f"{mode} {kind} {oid}\t{parts[1]}"
            elif len(parts) == 3 and parts[1] == shard_name:
                shard[parts[2]] = f"{mode} {kind} {oid}\t{parts[2]}"
        try:
            blob = self.git.write(record.to_json().encode("utf-8"))
            shard[file_name] = f"100644 blob {blob}\t{file_name}"
            full = [
                (int(name), line.split(" ")[1], line.split("\t")[0].split(" ")[2])
                for name, line in top.items()
                if name.isdigit() and name < shard_name and not line.startswith("100644 ")
            ]
            if full:
                for name in (f"{number:06d}" for number, _kind, _oid in full):
                    del top[name]
                top.update(self._seal(top, full))
            with _TreeWriter(self.git) as trees:
                top[shard_name] = f"040000 tree {trees.write(shard.values())}\t{shard_name}"
                records_tree = trees.write(top[k] for k in sorted(top))
                root = trees.write(
                    [f"100644 blob {blob}\t{HEAD_FILE}", f"040000 tree {records_tree}\trecords"]
                )
            parent = ["-p", tip] if tip else []
            message = f"ledger {record.seq}: {record.kind} {record.system}\n\nid: {record.id}\n"
            return self.git("commit-tree", root, *parent, "-m", message).strip()
        except _GitFailed as exc:
            raise LedgerError(
                msg(
                    "cannot write the git ledger's objects in {git_dir}: {short_stderr}",
                    git_dir=self.git.git_dir,
                    short_stderr=_short(exc.stderr),
                ),
                hint=msg("check disk space and permissions of the repository; nothing was stored"),
            ) from None

    def _seal(self, top: dict[str, str], full: list[tuple[int, str, str]]) -> dict[str, str]:
        """Tree entries sealing each full shard in `full` ((number, type, object id) of a shard held as a
        tree, or as a gitlink to a commit holding it), after checking their records chain onto the seal
        before them. Refuses (nothing is stored) when they do not."""
        full.sort()
        trees = [oid if kind == "tree" else f"{oid}:records/{number:06d}" for number, kind, oid in full]
        listed = list(self.git.cat_objects(trees))
        if any(kind == "missing" for kind, _body in listed) and self.fetch_history():
            listed = list(self.git.cat_objects(trees))
        shards: list[list[tuple[int, str]]] = []
        for (number, _kind, oid), (kind, body) in zip(full, listed, strict=True):
            if kind != "tree":
                raise _broken(
                    msg(
                        "the git ledger's full shard {number:06d} ({oid}) cannot be read",
                        number=number,
                        oid=oid,
                    )
                )
            listing = _tree_blobs(body, len(oid) // 2)
            if not all(re.fullmatch(r"\d{9}\.json", name) for name, _blob in listing):
                raise _broken(
                    msg(
                        "the git ledger's full shard {number:06d} holds files gatekeeper never writes",
                        number=number,
                    )
                )
            shards.append(sorted((int(name[:9]), blob) for name, blob in listing))
        texts = iter(self.git.cat_objects([oid for files in shards for _seq, oid in files]))
        chain = StoredChain(shard_first(full[0][0]), self._seal_before(top, full[0][0]))
        entries: dict[str, str] = {}
        for (number, _kind, _oid), files in zip(full, shards, strict=True):
            rows = [next(texts)[1] for _file in files]
            first, last, prev = shard_first(number), shard_last(number), chain.head
            if len(rows) != last - first + 1 or not chain.feed(rows):
                why = chain.failure.reason if chain.failure else f"it holds {len(rows)} records"
                raise _broken(
                    msg(
                        "the git ledger's full shard {number:06d} cannot be sealed: {why}",
                        number=number,
                        why=why,
                    )
                )
            compressed, seal = sealed_shard(number, rows, prev, chain.head)
            name = f"{number:06d}"
            entries[name + SEALED_SUFFIX] = f"100644 blob {self.git.write(compressed)}\t{name}{SEALED_SUFFIX}"
            entries[name + SEAL_SUFFIX] = f"100644 blob {self.git.write(seal)}\t{name}{SEAL_SUFFIX}"
        return entries

    def _seal_before(self, top: dict[str, str], shard: int) -> str:
        """The last hash of the shard sealed before `shard` (GENESIS before shard 0)."""
        if shard == 0:
            return GENESIS
        line = top.get(f"{shard - 1:06d}{SEAL_SUFFIX}")
        if line is None:
            raise _broken(
                msg(
                    "the git ledger has no seal of shard {previous:06d} before the full shard {shard:06d}",
                    previous=shard - 1,
                    shard=shard,
                )
            )
        kind, body = next(self.git.cat_objects([line.split("\t")[0].split(" ")[2]]))
        try:
            last_hash = json.loads(body)["last_hash"]
        except (ValueError, KeyError, TypeError, RecursionError):
            last_hash = None
        if kind != "blob" or not isinstance(last_hash, str):
            raise _broken(
                msg("the seal of the git ledger's shard {previous:06d} is unreadable", previous=shard - 1)
            )
        return last_hash

    def _publish(self, tip: str | None, commit: str, record: Record) -> bool:
        """Move the shared branch from `tip` to `commit`; False when someone else moved it first."""
        if self.remote is None:
            try:
                self.git("update-ref", "-m", "gatekeeper ledger append", self._ref, commit, tip or "0" * 40)
                return True
            except _GitFailed as exc:
                if _REJECTED.search(exc.stderr) or "but expected" in exc.stderr:
                    return False
                raise LedgerError(
                    msg(
                        "cannot update the ledger branch {branch}: {stderr}",
                        branch=self.branch,
                        stderr=_short(exc.stderr),
                    ),
                    hint=msg(
                        "check your permissions on the repository and run it again; nothing was recorded"
                    ),
                ) from None
        assert self.push_remote is not None
        try:
            self.git("push", "--quiet", "--porcelain", "--", self.push_remote, f"{commit}:{self._ref}")
        except _GitFailed as exc:
            if _REJECTED.search(exc.stderr) and "hook declined" not in exc.stderr:
                return False
            raise LedgerError(
                msg(
                    "the ledger remote {remote_label} refused the push: {short_stderr}",
                    remote_label=self.remote_label,
                    short_stderr=_short(exc.stderr),
                ),
                hint=msg(
                    "the job token needs write access to the ledger branch (GitHub: `permissions: "
                    "contents: write`; GitLab: a project token with write_repository); nothing was "
                    "stored"
                ),
            ) from None
        self._confirm(commit, record)
        with contextlib.suppress(_GitFailed):  # only a cache of the remote tip; the next fetch repairs it
            self.git("update-ref", PRIVATE_REF, commit)
        return True

    def _confirm(self, commit: str, record: Record) -> None:
        """Raise unless the remote's branch now holds `commit` (as its tip, or below a later append)."""
        tip = self._remote_tip()
        if tip == commit:
            return
        if tip is not None and not self._has_commit(tip):
            with contextlib.suppress(LedgerError):
                self._fetch()
        if tip is not None and self._is_ancestor(commit, tip):
            return
        raise LedgerError(
            msg(
                "the push of record {seq} to {remote_label} was accepted, but the ledger branch "
                "there does not hold it (it points at {tip})",
                seq=record.seq,
                remote_label=self.remote_label,
                tip=tip or msg("nothing"),
            ),
            hint=msg(
                "check where the remote pushes (remote.<name>.pushurl) and that it is the ledger "
                "everyone reads; the record was not acknowledged — run `gatekeeper ledger log` "
                "before re-running the job"
            ),
        )

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
    """The ledger of the repository at `root` (remote `remote` when it has one), or of `repository`.

    In CI a record must reach a shared ledger: a repository without the remote `remote` is an error there
    (outside CI the branch then lives in the repository itself).
    """
    environment = dict(env)
    environment.setdefault("PATH", os.defpath)
    git_dir = _git_dir(root, environment)
    if repository is None:
        if git_dir is None:
            raise LedgerError(
                msg("the git ledger needs a git repository, and {root} is not one", root=root),
                hint=msg("run gatekeeper inside the repository, or set ledger.repository / another backend"),
            )
        runner = GitRunner(git_dir, _git_env(environment, []))
        try:
            fetch_url = runner("remote", "get-url", remote).strip()
            push_url = runner("remote", "get-url", "--push", remote).strip()
        except _GitFailed:
            if in_ci(environment):
                raise _no_remote(runner, remote) from None
            return GitLedger(git_dir, branch=branch, remote=None, retries=retries, env=environment)
        return GitLedger(
            _cache(git_dir / CACHE_NAME, environment),
            branch=branch,
            remote=fetch_url,
            push_remote=push_url,
            retries=retries,
            env=environment,
            extra_config=_borrowed(runner),
        )
    target = repository
    if not _looks_like_url(repository) or repository.startswith(("./", "../")):
        target = str((root / repository).resolve())
    cache = (git_dir / CACHE_NAME) if git_dir else (root / ".gatekeeper" / "ledger.git")
    return GitLedger(
        _cache(cache, environment), branch=branch, remote=target, retries=retries, env=environment
    )


def _no_remote(runner: GitRunner, remote: str) -> LedgerError:
    try:
        names = runner("remote").split()
    except _GitFailed:
        names = []
    has = f"its remotes are {', '.join(repr(n) for n in names)}" if names else "it has no remote at all"
    return LedgerError(
        msg(
            "in CI the git ledger must reach a shared remote, and this clone has no remote "
            "{remote!r} ({has}); a record kept only on this runner would be lost with it, so "
            "nothing was stored",
            remote=remote,
            has=has,
        ),
        hint=msg(
            "set ledger.remote in .gatekeeper.yml to the clone's remote (`git remote -v`), "
            "or ledger.repository to the ledger's URL"
        ),
    )


def _borrowed(runner: GitRunner) -> list[tuple[str, str]]:
    """The repository's own configuration that reaching its remote may need (see `_BORROWED`)."""
    try:
        listing = runner("config", "--local", "--includes", "-z", "--get-regexp", _BORROWED)
    except _GitFailed:
        return []  # none of it is set
    pairs = []
    for entry in filter(None, listing.split("\0")):
        key, _, value = entry.partition("\n")
        pairs.append((key, value))
    return pairs


def _cache(cache: Path, environment: dict[str, str]) -> Path:
    if not (cache / "HEAD").is_file():
        try:
            cache.parent.mkdir(parents=True, exist_ok=True)
            GitRunner(cache, _git_env(environment, []))("init", "--quiet", "--bare", str(cache))
        except (OSError, _GitFailed) as exc:
            raise LedgerError(
                msg("cannot create the ledger cache {cache}: {exc}", cache=cache, exc=exc),
                hint=msg("check the disk space and permissions"),
            ) from None
    return cache


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
