"""The ledger: an append-only, hash-chained sequence of governance records (DESIGN §5, contract).

This module holds what every backend shares: the record shape, canonical hashing, chain verification and
the `Ledger` interface. Backends live in `gatekeeper.ledger.<name>` and are chosen through `BACKENDS`.
"""

from __future__ import annotations

import hashlib
import json
import re
import uuid
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

from gatekeeper.domain.canonical import canonical_json as canonical_json  # part of the ledger's API
from gatekeeper.messages import msg, tr
from gatekeeper.untrusted import aware_time, loads_json

GENESIS = "0" * 64
RECORD_FIELDS = ("seq", "id", "kind", "system", "rfcs", "actor", "actor_source", "at", "data", "prev", "hash")


def record_hash(body: dict[str, Any]) -> str:
    """SHA-256 over the canonical JSON of every field except `hash`."""
    material = {k: v for k, v in body.items() if k != "hash"}
    return hashlib.sha256(canonical_json(material).encode("utf-8")).hexdigest()


@dataclass(frozen=True, slots=True)
class Draft:
    """A record before the ledger places it: the ledger adds `seq`, `prev` and `hash`.

    `id` is fixed when the draft is made, so a retried append (re-chained after a conflict) stores the
    same record, never a second one.
    """

    kind: str
    system: str
    actor: str
    actor_source: str
    at: datetime
    data: dict[str, Any] = field(default_factory=dict)
    rfcs: tuple[str, ...] = ()
    id: str = field(default_factory=lambda: str(uuid.uuid4()))

    def place_after(self, head: Record | None) -> Record:
        """The record this draft becomes when appended after `head` (None: as the first record)."""
        return self.place(1, GENESIS) if head is None else self.place(head.seq + 1, head.hash)

    def place(self, seq: int, prev: str) -> Record:
        if self.at.tzinfo is None:
            raise ValueError("record times carry an offset")
        body: dict[str, Any] = {
            "seq": seq,
            "id": self.id,
            "kind": self.kind,
            "system": self.system,
            "rfcs": list(self.rfcs),
            "actor": self.actor,
            "actor_source": self.actor_source,
            "at": self.at.isoformat(),
            "data": self.data,
            "prev": prev,
        }
        # Round-trip through JSON so the stored value is exactly what was hashed.
        body = json.loads(canonical_json(body))
        body["hash"] = record_hash(body)
        return Record.from_dict(body)


@dataclass(frozen=True, slots=True)
class Record:
    seq: int
    id: str
    kind: str
    system: str
    rfcs: tuple[str, ...]
    actor: str
    actor_source: str
    at: str
    data: dict[str, Any]
    prev: str
    hash: str

    @classmethod
    def from_dict(cls, body: dict[str, Any]) -> Record:
        """Build a record from stored JSON; raises ValueError naming what is wrong with it."""
        if not isinstance(body, dict):
            raise ValueError("a record is a JSON object")
        missing = [k for k in RECORD_FIELDS if k not in body]
        extra = sorted(set(body) - set(RECORD_FIELDS))
        if missing or extra:
            raise ValueError(f"record fields wrong (missing {missing}, unexpected {extra})")
        if (
            not isinstance(body["seq"], int)
            or isinstance(body["seq"], bool)
            or not isinstance(body["data"], dict)
        ):
            raise ValueError("record seq must be an integer and data an object")
        if not isinstance(body["rfcs"], list) or not all(isinstance(r, str) for r in body["rfcs"]):
            raise ValueError("record rfcs must be a list of strings")
        for name in ("id", "kind", "system", "actor", "actor_source", "at", "prev", "hash"):
            if not isinstance(body[name], str):
                raise ValueError(f"record field {name} must be a string")
        try:  # every reader compares record times with aware times, and moves them between zones
            aware_time(body["at"])
        except ValueError as exc:
            raise ValueError(f"record at: {exc}") from None
        return cls(
            seq=body["seq"],
            id=body["id"],
            kind=body["kind"],
            system=body["system"],
            rfcs=tuple(body["rfcs"]),
            actor=body["actor"],
            actor_source=body["actor_source"],
            at=body["at"],
            data=body["data"],
            prev=body["prev"],
            hash=body["hash"],
        )

    def as_dict(self) -> dict[str, Any]:
        return {
            "seq": self.seq,
            "id": self.id,
            "kind": self.kind,
            "system": self.system,
            "rfcs": list(self.rfcs),
            "actor": self.actor,
            "actor_source": self.actor_source,
            "at": self.at,
            "data": self.data,
            "prev": self.prev,
            "hash": self.hash,
        }

    def to_json(self) -> str:
        return canonical_json(self.as_dict())

    @property
    def moment(self) -> datetime:
        return datetime.fromisoformat(self.at)


def parse_stored(text: str, *, what: str, hint: str, hint_ko: str = "") -> Record:
    """A stored record's JSON as a Record; anything malformed means a corrupt ledger (an integrity error)."""
    from gatekeeper.errors import LedgerIntegrityError

    try:
        return Record.from_dict(loads_json(text))
    except ValueError as exc:
        raise LedgerIntegrityError(
            msg("{what} is corrupt: {exc}", what=what, exc=exc), hint=hint, hint_ko=hint_ko or hint
        ) from None


@dataclass(frozen=True, slots=True)
class VerifyResult:
    ok: bool
    count: int
    first_bad_seq: int | None = None
    reason: str = ""
    head: str = GENESIS


def verify_chain(records: Iterable[Record]) -> VerifyResult:
    """Walk records in stored order: seq dense from 1, each `prev` the previous `hash`, each hash correct."""
    prev = GENESIS
    expected_seq = 1
    count = 0
    for record in records:
        if record.seq != expected_seq:
            return VerifyResult(
                False, count, expected_seq, f"expected seq {expected_seq}, found {record.seq}", prev
            )
        if record.prev != prev:
            return VerifyResult(
                False, count, record.seq, "prev does not match the previous record's hash", prev
            )
        if record_hash(record.as_dict()) != record.hash:
            return VerifyResult(
                False, count, record.seq, "the record's content does not match its hash", prev
            )
        prev = record.hash
        expected_seq += 1
        count += 1
    return VerifyResult(True, count, None, "", prev)


class LedgerReader(Protocol):
    """Read access, also handed to an append's precondition inside the backend's critical section."""

    def head(self) -> Record | None:
        """The last record, or None for an empty ledger."""

    def records(self, start_seq: int = 1) -> Iterator[Record]:
        """Every record from `start_seq` on, in seq order (streamed: memory does not grow with the ledger)."""

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
        """Records matching every given filter, in seq order (indexed where the backend has indexes).
        `carrying`: only records whose stored text contains it (a token, which JSON stores verbatim)."""


Precondition = Callable[[LedgerReader], None]


class Ledger(LedgerReader, Protocol):
    def append(self, draft: Draft, precondition: Precondition | None = None) -> Record:
        """Store `draft` as the next record and return it once it is durable.

        `precondition` runs inside the backend's critical section against the current state and raises
        (a GatekeeperError) to refuse the append; this is how the deployment lock stays exclusive when two
        pipelines race. Raises LedgerError if the record could not be stored: then nothing was stored.
        """

    def verify(self, start_seq: int = 1, prev: str = GENESIS) -> VerifyResult:
        """Check the chain from `start_seq` (whose `prev` must be `prev`) to the end; the default is the
        whole chain. Never raises for a broken chain (the result says where it breaks); `count` is the
        number of records checked."""

    def extent(self) -> tuple[int, int]:
        """(number of stored records, highest stored seq): equal in a ledger with no gap."""

    def stored(self, seqs: Iterable[int]) -> Iterator[tuple[int, str]]:
        """(seq, stored text) of each stored record whose seq is in `seqs`, in seq order; the seq is the
        storage position (row key or file name), which a hand-edited ledger may not agree with the text."""

    def close(self) -> None: ...


def verify_stored(rows: Iterable[str | bytes], start_seq: int = 1, prev: str = GENESIS) -> VerifyResult:
    """Verify records as stored — the canonical JSON `Record.to_json()` wrote — in stored order, the first
    at `start_seq` following a record whose hash is `prev`.

    The fast path hashes the stored UTF-8 bytes with the `hash` member cut out, which for canonical JSON is
    exactly the canonical JSON of the other fields: no decode, no parse, no re-encode, so checking a million
    records costs about what `sha256sum` over them costs. Anything the fast path does not accept is parsed
    and checked field by field, which also yields the reason reported for the first bad record.
    """
    chain = StoredChain(start_seq, prev)
    chain.feed(rows)
    return chain.result()


class StoredChain:
    """`verify_stored` fed in parts: a backend that reads its records in pieces (shards, batches) checks
    them as they come, and can ask where the chain stands between the pieces."""

    def __init__(self, start_seq: int = 1, prev: str = GENESIS) -> None:
        self.start_seq = start_seq
        self.expected = start_seq  # the seq the next row must have
        self.link = prev.encode("ascii", "replace")  # the hash the next row must name as its prev
        self.failure: VerifyResult | None = None

    @property
    def head(self) -> str:
        return self.link.decode()

    def feed(self, rows: Iterable[str | bytes]) -> bool:
        """Check `rows`, in order, after those fed before; False (and no further checking) once one fails."""
        if self.failure is not None:
            return False
        expected, link = self.expected, self.link
        try:
            for row in rows:
                data = row.encode("utf-8") if isinstance(row, str) else row
                checked = _fast_hash(data, expected, link)
                if checked is None:
                    checked = self._slow(data, expected, link)
                    if checked is None:
                        return False
                link = checked
                expected += 1
        finally:
            self.expected, self.link = expected, link
        return True

    def _slow(self, data: bytes, expected: int, link: bytes) -> bytes | None:
        try:
            record = Record.from_dict(loads_json(data))
        except ValueError as exc:  # UnicodeDecodeError and JSONDecodeError are ValueErrors
            self.fail(expected, f"record {expected} is unreadable: {exc}", link)
            return None
        why = verify_chain_from(record, expected, link.decode())
        if not why and record.to_json().encode("utf-8") != data:
            # Its parsed content hashes right, but duplicate members, other spacing or escapes could make
            # another reader (SQL's JSON functions, the git index) see other values than the hash covers.
            why = "the record is not stored as gatekeeper writes it (canonical JSON)"
        if why:
            self.fail(expected, why, link)
            return None
        return record.hash.encode("ascii")

    def fail(self, seq: int, reason: str, link: bytes | None = None) -> None:
        """Record that the chain breaks at `seq` (also for a reason found outside the rows themselves)."""
        if self.failure is None:
            head = (self.link if link is None else link).decode()
            self.failure = VerifyResult(False, seq - self.start_seq, seq, reason, head)

    def result(self) -> VerifyResult:
        if self.failure is not None:
            return self.failure
        return VerifyResult(True, self.expected - self.start_seq, None, "", self.head)


def _fast_hash(data: bytes, expected: int, prev: bytes) -> bytes | None:
    """The record's hash when `data` is a canonical record at `expected` following `prev` whose hash is
    right; None when the slow path has to decide."""
    # Top-level keys are sorted and every string is JSON-escaped, so the last `"hash":"` is the top-level
    # member (anything inside `data` comes before it), and only top-level members follow it.
    at = data.rfind(b'"hash":"')
    p = data.find(b'"prev":"', at)
    s = data.find(b'"seq":', p)
    if (
        at <= 0
        or p < 0
        or s < 0
        or not data.startswith(b'{"actor":')
        or not data.endswith(b"}")
        or not data.startswith(b'",', at + 72)
        or not data.startswith(prev, p + 8)
        or not data.startswith(b"%d," % expected, s + 6)
    ):
        return None
    digest = hashlib.sha256(data[:at])
    digest.update(data[at + 74 :])
    claimed = data[at + 8 : at + 72]
    return claimed if digest.hexdigest().encode() == claimed else None


def verify_chain_from(record: Record, expected_seq: int, prev: str) -> str:
    """Why `record` cannot follow `prev` at `expected_seq`, or "" when it can."""
    if record.seq != expected_seq:
        return f"expected seq {expected_seq}, found {record.seq}"
    if record.prev != prev:
        return "prev does not match the previous record's hash"
    if record_hash(record.as_dict()) != record.hash:
        return "the record's content does not match its hash"
    return ""


def chain_reason_ko(reason: str) -> str:
    """Why a chain breaks (`verify_chain`, `verify_chain_from`), in Korean; any other reason as it is."""
    found = re.fullmatch(r"expected seq (\d+), found (-?\d+)", reason)
    if found:
        return tr("ko", "expected seq {expected}, found {found}", expected=found[1], found=found[2])
    known = {
        "prev does not match the previous record's hash": msg(
            "prev does not match the previous record's hash"
        ),
        "the record's content does not match its hash": msg("the record's content does not match its hash"),
    }
    return known[reason].ko if reason in known else reason


def where_clause(conditions: Iterable[tuple[str, object | None]]) -> tuple[str, tuple[object, ...]]:
    """`WHERE a AND b ...` over the conditions whose value is given (not None), and their values in order:
    the filter of `LedgerReader.find` for backends that query SQL."""
    given = [(condition, value) for condition, value in conditions if value is not None]
    where = f"WHERE {' AND '.join(condition for condition, _ in given)}" if given else ""
    return where, tuple(value for _, value in given)


def record_matches(
    record: Record,
    *,
    kind: str | None = None,
    system: str | None = None,
    rfc: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    carrying: str | None = None,
) -> bool:
    """The filter of `LedgerReader.find`, for backends that scan (and to check those that index)."""
    if carrying is not None and carrying not in json.dumps(record.data, ensure_ascii=False):
        return False
    if kind is not None and record.kind != kind:
        return False
    if system is not None and record.system != system:
        return False
    if rfc is not None and rfc not in record.rfcs:
        return False
    if since is not None and record.moment < since:
        return False
    return not (until is not None and record.moment >= until)


def utc_text(moment: datetime | str) -> str:
    """A time as sortable UTC text (`2026-11-24T11:00:00.000000Z`), for indexed time columns."""
    from datetime import UTC

    value = datetime.fromisoformat(moment) if isinstance(moment, str) else moment
    if value.tzinfo is None:
        raise ValueError("record times carry an offset")
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
