"""Checkpointed chain verification: the gate verifies the whole chain once, then what was appended since.

The gate must not believe a ledger edited by hand, yet re-hashing every record on every run would make
its latency grow with the ledger. A checkpoint — seq and hash of the last record verified, the git
ledger's branch tip then, and when the whole chain was last verified — is kept outside the ledger, in the
state folder of the machine that did the verifying (`$XDG_STATE_HOME/gatekeeper`, else
`~/.local/state/gatekeeper`): someone who can write the ledger's storage cannot write it.

The ledger only grows. Whatever the checkpoint's age, a ledger with fewer records than the checkpoint, with
another hash at the checkpoint's seq, or (git) whose branch tip does not descend from the tip seen then, was
rewritten: that is an integrity error, never a reason to verify from scratch and start over.

With a checkpoint younger than `FULL_VERIFY_EVERY` the gate then verifies

- every record appended since the checkpoint, chained onto the checkpointed hash;
- that storage holds no gap and no extra record (count of records = highest seq);
- every record it read at or below the checkpoint: its own hash, and that the record stored after it
  names that hash as its `prev` (a replaced, inserted, moved or re-hashed record breaks that link).

Anything that does not add up falls back to verifying the whole chain, which alone decides. A record
below the checkpoint that the gate did not read and that was edited after the checkpoint is found by the
next whole-chain verification (at the latest `FULL_VERIFY_EVERY` later) and by `gatekeeper ledger
verify` and `audit`. Without a checkpoint — a fresh CI runner — the gate verifies the whole chain; only
heads recorded outside the ledger (`gatekeeper ledger verify --anchor`) tell such a runner that a ledger
rebuilt from scratch is not the one they saw.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from pathlib import Path
from typing import Protocol, runtime_checkable

from gatekeeper.errors import LedgerIntegrityError
from gatekeeper.ledger import Ledger, Record, chain_reason_ko, record_hash
from gatekeeper.messages import Message, msg, tr

FULL_VERIFY_EVERY = timedelta(hours=24)


@dataclass(frozen=True, slots=True)
class Checkpoint:
    seq: int
    hash: str
    verified_at: datetime  # when the whole chain was last verified (not when the checkpoint moved)
    tip: str = ""  # the git ledger's branch tip when the checkpoint moved ("" for other backends)


@runtime_checkable
class Lineage(Protocol):
    """A ledger whose storage has a history of its own (git): its tip must descend from the tip seen."""

    def tip(self) -> str | None: ...

    def descends_from(self, commit: str, records_since: int) -> bool: ...


@dataclass(frozen=True, slots=True)
class CheckpointFile:
    """Where this machine keeps the checkpoint of one ledger (`identity` names the ledger)."""

    path: Path
    identity: str  # a digest of the ledger's identity

    @classmethod
    def for_ledger(cls, identity: str, env: Mapping[str, str]) -> CheckpointFile | None:
        base = env.get("XDG_STATE_HOME") or (
            str(Path(env["HOME"]) / ".local" / "state") if env.get("HOME") else ""
        )
        if not base or not Path(base).is_absolute():
            return None  # nowhere to keep one: every gate verifies the whole chain
        # Only a digest of the identity is kept: a DSN or remote URL in it may hold a credential.
        key = hashlib.sha256(identity.encode("utf-8")).hexdigest()
        return cls(Path(base) / "gatekeeper" / "verified" / f"{key[:32]}.json", key)

    def load(self) -> Checkpoint | None:
        """The checkpoint; None when there is none or it is unreadable (the whole chain is then verified)."""
        try:
            body = json.loads(self.path.read_text(encoding="utf-8"))
            if body["identity"] != self.identity:
                return None
            seq, digest, tip = body["seq"], body["hash"], body.get("tip", "")
            verified_at = datetime.fromisoformat(body["verified_at"])
        except (OSError, ValueError, KeyError, TypeError, AttributeError):
            return None
        if not isinstance(seq, int) or seq < 0 or not isinstance(digest, str) or verified_at.tzinfo is None:
            return None
        return Checkpoint(seq, digest, verified_at, tip if isinstance(tip, str) else "")

    def save(self, checkpoint: Checkpoint) -> None:
        """Write the checkpoint atomically; a failure only costs the next gate a whole-chain verification."""
        body = {
            "identity": self.identity,
            "seq": checkpoint.seq,
            "hash": checkpoint.hash,
            "verified_at": checkpoint.verified_at.isoformat(),
            "tip": checkpoint.tip,
        }
        temporary = self.path.with_name(f".{self.path.name}.{os.getpid()}")
        with contextlib.suppress(OSError):
            self.path.parent.mkdir(parents=True, exist_ok=True)
            temporary.write_text(json.dumps(body), encoding="utf-8")
            temporary.replace(self.path)
        with contextlib.suppress(OSError):
            temporary.unlink(missing_ok=True)


def confirm_chain(
    ledger: Ledger, read: Iterable[Record], checkpoints: CheckpointFile | None, now: datetime
) -> bool:
    """Raise LedgerIntegrityError unless the chain holds, as far as the records in `read` depend on it,
    and the ledger still holds what this machine verified before.

    Returns True when the whole chain was verified, False when the checkpoint vouched for the part below it.
    """
    checkpoint = checkpoints.load() if checkpoints is not None else None
    if checkpoint is not None:
        shrunk = lost_growth(ledger, checkpoint)
        if shrunk:
            assert checkpoints is not None
            raise LedgerIntegrityError(
                shrunk,
                hint=_rewritten_hint(checkpoints),
                ko=tr(
                    "ko",
                    "the ledger shrank or changed from what this machine verified: {detail}",
                    detail=shrunk,
                ),
            )
        if timedelta(0) <= now - checkpoint.verified_at < FULL_VERIFY_EVERY:
            moved = _since_checkpoint(ledger, read, checkpoint)
            if moved is not None:
                assert checkpoints is not None
                if moved != checkpoint:  # nothing appended: nothing to write
                    checkpoints.save(moved)
                return False
    result = ledger.verify()
    if not result.ok:
        raise LedgerIntegrityError(
            msg(
                "the hash chain is broken at seq {first_bad_seq}: {reason}",
                first_bad_seq=result.first_bad_seq,
                reason=result.reason,
                chain_reason_ko_reason=chain_reason_ko(result.reason),
            ),
            hint=msg("run `gatekeeper ledger verify`, and restore the ledger from a trusted copy"),
        )
    if checkpoints is not None:
        checkpoints.save(Checkpoint(result.count, result.head, now, ledger_tip(ledger)))
    return True


def ledger_tip(ledger: object) -> str:
    """The git ledger's branch tip ("" for other backends and an empty ledger)."""
    return (ledger.tip() or "") if isinstance(ledger, Lineage) else ""


def lost_growth(ledger: Ledger, checkpoint: Checkpoint) -> str:
    """Why the ledger no longer holds what was verified at `checkpoint` ("" when it does): fewer records,
    another hash at the checkpoint's seq, or a git branch tip that does not descend from the one seen."""
    when = f"verified on this machine at {checkpoint.verified_at.isoformat(timespec='seconds')}"
    count, highest = ledger.extent()
    if checkpoint.seq > 0:
        if min(count, highest) < checkpoint.seq:
            return (
                f"the ledger holds {count} records, fewer than the {checkpoint.seq} {when}: "
                "records were removed"
            )
        found = stored_hash(dict(ledger.stored([checkpoint.seq])).get(checkpoint.seq))
        if found != checkpoint.hash:
            return (
                f"record {checkpoint.seq} has hash {found[:16] or 'none'}, but {checkpoint.hash[:16]} was "
                f"{when}: the ledger was rewritten"
            )
    lineage = ledger if checkpoint.tip and isinstance(ledger, Lineage) else None
    if lineage is not None and not lineage.descends_from(checkpoint.tip, highest - checkpoint.seq):
        return (
            f"the ledger branch's tip does not descend from {checkpoint.tip[:12]}, the tip {when}: "
            "the branch was rewritten (force-pushed)"
        )
    return ""


def stored_hash(text: str | None) -> str:
    """The `hash` member of a stored record's text ("" when it has none)."""
    try:
        body = json.loads(text or "")
    except (ValueError, RecursionError):
        return ""
    value = body.get("hash") if isinstance(body, dict) else None
    return value if isinstance(value, str) else ""


def _rewritten_hint(checkpoints: CheckpointFile) -> Message:
    return msg(
        "the ledger only grows: restore it from a trusted copy (for git, push back the tip this machine "
        "saw) and run `gatekeeper ledger verify`; a ledger replaced on purpose needs this machine's "
        "checkpoint {path} removed by the runner's administrator",
        path=checkpoints.path,
    )


def _since_checkpoint(ledger: Ledger, read: Iterable[Record], checkpoint: Checkpoint) -> Checkpoint | None:
    """The moved checkpoint when everything checks out from `checkpoint` on; None when the whole chain must
    be verified to tell what is wrong (or whether anything is)."""
    count, highest = ledger.extent()
    if count != highest or highest < checkpoint.seq:
        return None
    tail = ledger.verify(checkpoint.seq + 1, checkpoint.hash)
    if not tail.ok or checkpoint.seq + tail.count != highest:
        return None
    below = {record.seq: record for record in read if record.seq <= checkpoint.seq}
    successors = dict(_links(ledger.stored(seq + 1 for seq in below if seq < highest)))
    for seq, record in below.items():
        # Its own hash shows the record was not edited; the stored successor naming that hash as its
        # `prev` shows it was not replaced, inserted or moved (a re-hashed forgery breaks that link).
        if record_hash(record.as_dict()) != record.hash:
            return None
        if seq < highest and successors.get(seq + 1) != (seq + 1, record.hash):
            return None
        if seq == highest and record.hash != tail.head:
            return None
    return replace(checkpoint, seq=highest, hash=tail.head, tip=ledger_tip(ledger))


def _links(stored: Iterable[tuple[int, str]]) -> Iterator[tuple[int, tuple[object, object]]]:
    """(storage seq, (the seq and prev the stored text names)) — all the successor check needs."""
    for seq, text in stored:
        try:
            body = json.loads(text)
        except ValueError:
            body = None
        yield seq, (body.get("seq"), body.get("prev")) if isinstance(body, dict) else (None, None)
