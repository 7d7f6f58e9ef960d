"""Configuration baselines (CFG-P1): what the configuration items were, and what changed since — the
values and the pure comparisons; reading git, files and the ledger is `gatekeeper.facts.baseline`'s.

A baseline snapshots every configuration item of `baseline.items` in `.gatekeeper.yml` at one commit: for
items kept in git (source, schema, environment settings, documents) the blob id of every file matching the
item's globs, for `artifact` items the SHA-256 of the files on disk (build outputs are not in git), plus the
artefact digests the last successful deployment recorded. It is stored as a `baseline.created` record.

Deployed artefacts are compared too (`diff_artifacts`): the digests in the baseline against those the
ledger's successful deployments give now. An artefact that was added or changed is explained by every
successful `deployment.finished` record after the baseline that deployed its new digest; one that was
removed is explained by the latest successful deployment after the baseline in its environment. As with
files, a change is explained when one of those deployments names an RFC. An unexplained artefact change
is drift, like an unexplained file change: CFG-P1 puts deployed artefacts under the baseline, so an
artefact nobody asked for blocks `baseline verify` and the gate exactly as a file nobody asked for does.
"""

from __future__ import annotations

import fnmatch
import hashlib
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from gatekeeper.config.models import ConfigurationItem
from gatekeeper.domain import DeploymentResult, RecordKind
from gatekeeper.domain.records import BaselineCreated, BaselineItem, DeploymentFinished, Envelope, entry_of

GIT_KINDS = frozenset({"source", "schema", "environment", "document"})


@dataclass(frozen=True)
class ItemSnapshot:
    id: str
    kind: str
    files: Mapping[str, str]  # path -> git blob id, or "sha256:<hex>" for files read from disk

    @property
    def digest(self) -> str:
        material = "".join(f"{path}\0{blob}\n" for path, blob in sorted(self.files.items()))
        return "sha256:" + hashlib.sha256(material.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class Snapshot:
    commit: str
    tree: str
    items: tuple[ItemSnapshot, ...]
    artifacts: Mapping[str, str] = field(default_factory=dict)  # name -> digest, from the ledger

    def payload(self, label: str) -> BaselineCreated:
        items = tuple(BaselineItem(i.id, i.kind, dict(i.files), i.digest) for i in self.items)
        return BaselineCreated(label, self.commit, self.tree, items, dict(self.artifacts))

    def data(self, label: str) -> dict[str, Any]:
        return self.payload(label).dump()


@dataclass(frozen=True)
class Baseline:
    """A stored baseline, read back from its `baseline.created` record."""

    seq: int
    label: str
    at: str
    snapshot: Snapshot

    @classmethod
    def from_record(cls, record: Envelope) -> Baseline:
        """Raises LedgerIntegrityError when the record's payload does not read."""
        data: BaselineCreated = entry_of(record).payload
        items = tuple(ItemSnapshot(item.id, item.kind, dict(item.files)) for item in data.items)
        snapshot = Snapshot(data.commit, data.tree, items, dict(data.artifacts))
        return cls(record.seq, data.label, record.at, snapshot)


class _NamesRfcs(Protocol):
    @property
    def rfcs(self) -> tuple[str, ...]: ...


def _rfcs_of(sources: Iterable[_NamesRfcs]) -> tuple[str, ...]:
    """The RFC IDs the commits or deployments behind a change name, each once, in order."""
    return tuple(dict.fromkeys(rfc for source in sources for rfc in source.rfcs))


@dataclass(frozen=True)
class CommitRef:
    sha: str
    subject: str
    rfcs: tuple[str, ...]


@dataclass(frozen=True)
class FileChange:
    item: str
    path: str
    status: str  # added | removed | changed
    before: str
    after: str
    commits: tuple[CommitRef, ...] = ()

    @property
    def rfcs(self) -> tuple[str, ...]:
        return _rfcs_of(self.commits)

    @property
    def explained(self) -> bool:
        """At least one commit behind the change names an RFC."""
        return bool(self.rfcs)


@dataclass(frozen=True)
class ItemDiff:
    id: str
    kind: str
    status: str  # added | removed | changed | unchanged
    changes: tuple[FileChange, ...] = ()

    @property
    def drifted(self) -> tuple[FileChange, ...]:
        return tuple(c for c in self.changes if not c.explained)


@dataclass(frozen=True)
class DeploymentRef:
    """A successful `deployment.finished` record behind an artefact change."""

    seq: int
    deployment_id: str
    rfcs: tuple[str, ...]
    at: str

    def as_dict(self) -> dict[str, Any]:
        return {"deployment_id": self.deployment_id, "seq": self.seq, "rfcs": list(self.rfcs), "at": self.at}


@dataclass(frozen=True)
class ArtifactChange:
    name: str  # `env:name`, as in `Snapshot.artifacts`
    status: str  # added | removed | changed
    before: str
    after: str
    deployments: tuple[DeploymentRef, ...] = ()  # in seq order

    @property
    def rfcs(self) -> tuple[str, ...]:
        return _rfcs_of(self.deployments)

    @property
    def explained(self) -> bool:
        """At least one deployment behind the change names an RFC."""
        return bool(self.rfcs)

    @property
    def cited(self) -> DeploymentRef | None:
        """The deployment to name for the change: the first naming an RFC, else the first (None: none)."""
        return next(
            (d for d in self.deployments if d.rfcs), self.deployments[0] if self.deployments else None
        )

    def as_dict(self) -> dict[str, Any]:
        cited = self.cited
        return {
            "name": self.name,
            "status": self.status,
            "before": self.before,
            "after": self.after,
            "deployment_id": cited.deployment_id if cited else None,
            "seq": cited.seq if cited else None,
            "rfcs": list(self.rfcs),
            "drift": not self.explained,
            "deployments": [d.as_dict() for d in self.deployments],
        }


@dataclass(frozen=True)
class BaselineDiff:
    baseline_seq: int
    label: str
    base_commit: str
    target: str
    items: tuple[ItemDiff, ...]
    artifacts: tuple[ArtifactChange, ...] = ()

    @property
    def changed(self) -> tuple[ItemDiff, ...]:
        return tuple(i for i in self.items if i.status != "unchanged")

    @property
    def drifted(self) -> tuple[ItemDiff, ...]:
        return tuple(i for i in self.items if i.drifted)

    @property
    def drifted_artifacts(self) -> tuple[ArtifactChange, ...]:
        return tuple(a for a in self.artifacts if not a.explained)

    @property
    def has_drift(self) -> bool:
        """Any file or deployed artefact changed without an RFC."""
        return bool(self.drifted or self.drifted_artifacts)

    def as_dict(self) -> dict[str, Any]:
        return {
            "baseline": {"seq": self.baseline_seq, "label": self.label, "commit": self.base_commit},
            "target": self.target,
            "items": [
                {
                    "id": item.id,
                    "kind": item.kind,
                    "status": item.status,
                    "changes": [
                        {
                            "path": c.path,
                            "status": c.status,
                            "before": c.before,
                            "after": c.after,
                            "commits": [
                                {"sha": k.sha, "subject": k.subject, "rfcs": list(k.rfcs)} for k in c.commits
                            ],
                            "rfcs": list(c.rfcs),
                            "drift": not c.explained,
                        }
                        for c in item.changes
                    ],
                }
                for item in self.items
            ],
            "artifacts": [change.as_dict() for change in self.artifacts],
        }


# ------------------------------------------------------------------------------------------ pure parts


def matches(path: str, patterns: Sequence[str]) -> bool:
    """Glob match where `**/` also matches no folder (`app/**/*.py` matches `app/main.py`)."""
    for pattern in patterns:
        if fnmatch.fnmatchcase(path, pattern):
            return True
        if "**/" in pattern and fnmatch.fnmatchcase(path, pattern.replace("**/", "")):
            return True
    return False


def select_files(item: ConfigurationItem, files: Mapping[str, str]) -> dict[str, str]:
    return {path: blob for path, blob in files.items() if matches(path, item.paths)}


def diff_items(
    before: Snapshot,
    after: Snapshot,
    commits_for: Mapping[str, tuple[CommitRef, ...]] | None = None,
) -> tuple[ItemDiff, ...]:
    """Added, removed and changed files per item; `commits_for` maps a path to the commits that touched it."""
    commits_for = commits_for or {}
    old = {i.id: i for i in before.items}
    new = {i.id: i for i in after.items}
    out = []
    for item_id in sorted(set(old) | set(new)):
        o, n = old.get(item_id), new.get(item_id)
        present = n or o
        kind = present.kind if present is not None else ""
        old_files = dict(o.files) if o else {}
        new_files = dict(n.files) if n else {}
        changes = []
        for path in sorted(set(old_files) | set(new_files)):
            a, b = old_files.get(path, ""), new_files.get(path, "")
            if a == b:
                continue
            status = "added" if not a else "removed" if not b else "changed"
            changes.append(FileChange(item_id, path, status, a, b, commits_for.get(path, ())))
        if o is None:
            status = "added"
        elif n is None:
            status = "removed"
        else:
            status = "changed" if changes else "unchanged"
        out.append(ItemDiff(item_id, kind, status, tuple(changes)))
    return tuple(out)


def latest_baseline(records: Iterable[Envelope], label: str | None = None) -> Baseline | None:
    found: Baseline | None = None
    for record in records:
        if record.kind == RecordKind.BASELINE_CREATED:
            baseline = Baseline.from_record(record)
            if label is None or baseline.label == label:
                found = baseline
    return found


@dataclass(frozen=True)
class IgnoredBaseline:
    """A `baseline.created` record that is not the baseline, and why (`rules.baseline.baseline_refusal`)."""

    seq: int
    label: str
    reason: str
    reason_ko: str


def counted_baseline(
    records: Iterable[Envelope], refusal: Callable[[Envelope], tuple[str, str] | None]
) -> tuple[Baseline | None, tuple[IgnoredBaseline, ...]]:
    """The latest baseline whose record counts (`refusal` None), and the records after it that do not,
    with why (`refusal`'s reason), in ledger order: drift is judged against what the operator manager
    set, never against a baseline its recorder could forge (CFG-P1)."""
    ignored: list[IgnoredBaseline] = []
    found: Baseline | None = None
    for record in sorted(records, key=lambda r: r.seq):
        if record.kind != RecordKind.BASELINE_CREATED:
            continue
        baseline = Baseline.from_record(record)
        reason = refusal(record)
        if reason is None:
            found, ignored = baseline, []
        else:
            ignored.append(IgnoredBaseline(record.seq, baseline.label, *reason))
    return found, tuple(ignored)


SHORT_DIGEST = 19  # "sha256:" and 12 hex digits, as `baseline create` shows them


def short_digest(digest: str) -> str:
    """A digest cut to a readable length for text (JSON keeps it whole); `-` when there is none."""
    if not digest:
        return "-"
    return digest[:SHORT_DIGEST] + ("…" if len(digest) > SHORT_DIGEST else "")


def _finish(record: Envelope) -> DeploymentFinished | None:
    """The payload of a successful deployment's `deployment.finished` record, else None."""
    if record.kind != RecordKind.DEPLOYMENT_FINISHED:
        return None
    payload: DeploymentFinished = entry_of(record).payload
    return payload if payload.result is DeploymentResult.SUCCESS else None


def record_artifacts(finish: DeploymentFinished) -> dict[str, str]:
    """`env:name` -> digest of what one deployment deployed."""
    env = finish.environment
    return {f"{env}:{name}" if env else name: digest for name, digest in finish.artifacts.items()}


def deployed_artifacts(records: Iterable[Envelope]) -> dict[str, str]:
    """Artefact digests as the successful deployments left them: each artefact's digest in the last
    successful deployment that recorded it (`data.artifacts`)."""
    out: dict[str, str] = {}
    for record in records:
        finish = _finish(record)
        if finish is not None:
            out.update(record_artifacts(finish))
    return out


def _deployment_ref(record: Envelope, finish: DeploymentFinished) -> DeploymentRef:
    return DeploymentRef(record.seq, finish.started, record.rfcs, record.at)


def _in_environment(finish: DeploymentFinished, name: str) -> bool:
    env = finish.environment
    return name.startswith(f"{env}:") if env else ":" not in name


def diff_artifacts(
    before: Mapping[str, str], after: Mapping[str, str], records: Iterable[Envelope], since_seq: int
) -> tuple[ArtifactChange, ...]:
    """Added, removed and changed artefacts, each with the successful deployments after ledger seq
    `since_seq` (the baseline) behind it: for a new digest those that deployed it, for a removed artefact
    the latest one in its environment, which no longer lists it."""
    later = sorted((r for r in records if r.seq > since_seq), key=lambda r: r.seq)
    finished = [(record, finish) for record in later if (finish := _finish(record)) is not None]
    deployed = [(record, finish, record_artifacts(finish)) for record, finish in finished]
    out = []
    for name in sorted(set(before) | set(after)):
        old, new = before.get(name, ""), after.get(name, "")
        if old == new:
            continue
        if new:
            behind = tuple(
                _deployment_ref(r, f) for r, f, artifacts in deployed if artifacts.get(name) == new
            )
        else:
            in_env = [(r, f, artifacts) for r, f, artifacts in deployed if _in_environment(f, name)]
            latest = in_env[-1:]
            behind = tuple(_deployment_ref(r, f) for r, f, artifacts in latest if name not in artifacts)
        status = "added" if not old else "removed" if not new else "changed"
        out.append(ArtifactChange(name, status, old, new, behind))
    return tuple(out)


# ------------------------------------------------------------------------------------------ gathering


@dataclass(frozen=True)
class DriftFacts:
    """What the `baseline.drift` rule needs: the diff against the latest baseline, or none recorded."""

    diff: BaselineDiff | None
    items_declared: int
    unreadable: str = ""  # why the ledger's baseline or deployments could not be read (the audit says so)
    # The baseline records after the one compared with (all of them when none counts) that are not the
    # baseline, and why (`counted_baseline`).
    ignored: tuple[IgnoredBaseline, ...] = ()


def iter_changes(diff: BaselineDiff) -> Iterator[FileChange]:
    for item in diff.items:
        yield from item.changes
