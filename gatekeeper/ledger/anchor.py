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
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

from gatekeeper.errors import InputError
from gatekeeper.ledger import GENESIS, Ledger, LedgerReader
from gatekeeper.messages import msg, tr

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


@dataclass(frozen=True, slots=True)
class AnchorProblem:
    """Why the ledger does not hold one anchor; `where` says where the anchor was found."""

    anchor: Head | None  # None: the status held no head ("unreadable")
    kind: str  # "removed" | "rewritten" | "genesis" | "unreadable"
    # The hash the ledger holds at the anchor's seq; its last seq for "removed"; the status text for
    # "unreadable".
    found: str = ""
    where: str = ""

    def message(self, lang: str = "en") -> str:
        place = f" ({self.where})" if self.where else ""
        if self.anchor is None:
            return tr(
                lang,
                "status {text} is not an anchor (SEQ:HASH): someone posted another value under gatekeeper's "
                "status name",
                text=f"{self.found[:100]!r}{place}",
            )
        anchor = f"{self.anchor}{place}"
        if self.kind == "genesis":
            return tr(
                lang,
                "anchor {anchor}: seq 0 is the empty ledger, whose hash is {genesis}…",
                anchor=anchor,
                genesis=GENESIS[:16],
            )
        if self.kind == "removed":
            return tr(
                lang,
                "anchor {anchor}: the ledger ends at seq {found}, before the anchored record: records were "
                "removed",
                anchor=anchor,
                found=self.found,
            )
        return tr(
            lang,
            "anchor {anchor}: record {seq} has hash {found}: the ledger was rewritten",
            anchor=anchor,
            seq=self.anchor.seq,
            found=f"{self.found[:16]}…" if self.found else tr(lang, "nothing readable"),
        )


def anchor_problems(
    ledger: Ledger, anchors: Iterable[Head], where: Mapping[Head, str] | None = None
) -> list[AnchorProblem]:
    """Why the ledger does not hold each anchor that it does not hold (empty when it holds them all).
    `where` names the place each anchor was read from, for the messages.

    Only the stored hash is compared: the chain itself is for `verify` to check.
    """
    from gatekeeper.ledger.checkpoint import stored_hash

    places = where or {}
    wanted = sorted(set(anchors))
    _count, highest = ledger.extent()
    stored = {seq: stored_hash(text) for seq, text in ledger.stored(a.seq for a in wanted if a.seq > 0)}
    problems = []
    for anchor in wanted:
        place = places.get(anchor, "")
        if anchor.seq == 0:
            if anchor.hash != GENESIS:
                problems.append(AnchorProblem(anchor, "genesis", where=place))
        elif anchor.seq > highest:
            problems.append(AnchorProblem(anchor, "removed", str(highest), place))
        elif stored.get(anchor.seq) != anchor.hash:
            problems.append(AnchorProblem(anchor, "rewritten", stored.get(anchor.seq) or "", place))
    return problems


# A head inside a platform status's description, as `anchor_text` writes it.
_IN_TEXT = re.compile(r"(?<![0-9])([0-9]{1,10}):([0-9a-f]{64})(?![0-9a-f])")


def anchor_text(head: Head) -> str:
    """The description of the status that anchors `head` on the CI platform (at most 140 characters, as
    GitHub allows)."""
    return f"gatekeeper ledger head {head}"


def head_in(text: str) -> Head | None:
    """The head a platform status's description holds, or None when it holds none (or more than one)."""
    found = _IN_TEXT.findall(text or "")
    if len(found) != 1:
        return None
    seq, digest = found[0]
    return Head(int(seq), digest)


def read_anchors(path: Path) -> list[Head]:
    """Anchors from a file: one per line, `SEQ:HASH` or the JSON `gatekeeper --format json ledger head`
    prints; blank lines and lines starting with `#` are skipped. Raises InputError naming the line."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(
            msg("cannot read the anchors file {path}: {exc}", path=path, exc=exc),
            hint=msg("check the path and its permissions"),
        ) from None
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
                msg("{path}, line {number}: {exc}", path=path, number=number, exc=exc),
                hint=msg(
                    "write one anchor a line: SEQ:HASH, or the JSON `gatekeeper --format json ledger "
                    "head` prints"
                ),
            ) from None
    return heads
