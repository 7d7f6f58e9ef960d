"""Heads recorded outside the ledger (anchors), and checking a ledger against them.

A hash chain proves that nothing was edited in place, not that the ledger is the one people saw: whoever
can rewrite the storage can rebuild the whole chain with recomputed hashes, or cut its end off. A head —
the seq and hash of the last record — written somewhere the ledger's writers cannot change (a deployment or
commit status, the MR/PR decision comment, an audit report, a job summary) anchors the ledger: the record
at that seq must still carry that hash. `ledger_head` gives the head to record; `anchor_problems` says why
a ledger does not hold its anchors.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from gatekeeper.errors import InputError
from gatekeeper.ledger import GENESIS, Ledger, LedgerReader

_HASH = re.compile(r"[0-9a-f]{64}")


@dataclass(frozen=True, slots=True, order=True)
class Head:
    """A ledger's head: the seq and hash of its last record (0 and the genesis hash when it is empty)."""

    seq: int
    hash: str

    def __str__(self) -> str:
        return f"{self.seq}:{self.hash}"

    @classmethod
    def parse(cls, text: str) -> Head:
        """`SEQ:HASH` (as `gatekeeper ledger head` prints it); raises ValueError saying what is wrong."""
        seq, _, digest = text.strip().partition(":")
        if not seq.isdigit() or len(seq) > 10 or not _HASH.fullmatch(digest):
            raise ValueError(
                f"{text.strip()[:80]!r} is not SEQ:HASH (a seq and a 64-digit lowercase hex hash)"
            )
        return cls(int(seq), digest)


def ledger_head(reader: LedgerReader) -> Head:
    """The head to record outside the ledger (for audit reports, job summaries, deployment statuses)."""
    record = reader.head()
    return Head(0, GENESIS) if record is None else Head(record.seq, record.hash)


def anchor_problems(ledger: Ledger, anchors: Iterable[Head]) -> list[str]:
    """Why the ledger does not hold each anchor that it does not hold (empty when it holds them all).

    Only the stored hash is compared: the chain itself is for `verify` to check.
    """
    from gatekeeper.ledger.checkpoint import stored_hash

    wanted = sorted(set(anchors))
    _count, highest = ledger.extent()
    stored = {seq: stored_hash(text) for seq, text in ledger.stored(a.seq for a in wanted if a.seq > 0)}
    problems = []
    for anchor in wanted:
        if anchor.seq == 0:
            if anchor.hash != GENESIS:
                problems.append(f"anchor {anchor}: seq 0 is the empty ledger, whose hash is {GENESIS[:16]}…")
        elif anchor.seq > highest:
            problems.append(
                f"anchor {anchor}: the ledger ends at seq {highest}, before the anchored record: "
                "records were removed"
            )
        elif stored.get(anchor.seq) != anchor.hash:
            found = stored.get(anchor.seq) or "nothing readable"
            problems.append(
                f"anchor {anchor}: record {anchor.seq} has hash {found[:16]}…: the ledger was rewritten"
            )
    return problems


def read_anchors(path: Path) -> list[Head]:
    """Anchors from a file: one per line, `SEQ:HASH` or the JSON `gatekeeper --format json ledger head`
    prints; blank lines and lines starting with `#` are skipped. Raises InputError naming the line."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(f"cannot read the anchors file {path}: {exc}") from None
    heads = []
    for number, line in enumerate(text.splitlines(), 1):
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        try:
            if line.startswith("{"):
                body = json.loads(line)
                line = f"{body['seq']}:{body['hash']}" if isinstance(body, dict) else ""
            heads.append(Head.parse(line))
        except (ValueError, KeyError, RecursionError) as exc:
            raise InputError(
                f"{path}, line {number}: {exc}",
                hint="write one anchor a line: SEQ:HASH, or the JSON `gatekeeper --format json ledger head` "
                "prints",
            ) from None
    return heads
