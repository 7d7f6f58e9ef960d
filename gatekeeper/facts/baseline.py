"""Configuration baselines (CFG-P1), read from git, files and the ledger: `snapshot` takes one, `compare`
lists what changed since (with the commits and RFC IDs behind each file change and the deployments behind
each artefact change), `gather_drift` gives the gate and the audit the `baseline.drift` facts. The values
and the comparisons are pure (`gatekeeper.domain.baseline`).
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

from gatekeeper.config.models import Config, Policy
from gatekeeper.domain import Grade, RecordKind, Role
from gatekeeper.domain.baseline import (
    GIT_KINDS,
    Baseline,
    BaselineDiff,
    CommitRef,
    DriftFacts,
    IgnoredBaseline,
    ItemSnapshot,
    Snapshot,
    counted_baseline,
    deployed_artifacts,
    diff_artifacts,
    diff_items,
    latest_baseline,
    matches,
    select_files,
)
from gatekeeper.domain.records import Envelope
from gatekeeper.domain.rfcid import find_ids
from gatekeeper.errors import InputError
from gatekeeper.ledger import LedgerReader, Record
from gatekeeper.messages import Message, msg


def _git(root: Path, *args: str) -> str:
    from gatekeeper.adapters.git import git

    return git(root, *args)


def tracked_files(root: Path, commit: str) -> dict[str, str]:
    """path -> blob id of every file in `commit` (one `git ls-tree` call)."""
    out = {}
    for line in _git(root, "ls-tree", "-r", "-z", "--full-tree", commit).split("\0"):
        if not line:
            continue
        meta, _, path = line.partition("\t")
        parts = meta.split()
        if len(parts) == 3 and parts[1] == "blob":
            out[path] = parts[2]
    return out


_WILDCARDS = frozenset("*?[")


def _files_on_disk(root: Path, pattern: str) -> Iterator[str]:
    """Files under `root` that `pattern` matches the way git items' paths are matched (`matches`): the
    folder before the first wildcard is walked, so `dist/*.whl` does not read the whole work tree. `.git`
    and symbolic links to folders are not entered; the config model accepts only relative patterns without
    `..`."""
    fixed: list[str] = []
    for part in pattern.split("/")[:-1]:
        if _WILDCARDS & set(part):
            break
        fixed.append(part)
    top = root.joinpath(*fixed)
    for folder, folders, names in os.walk(top):
        folders[:] = sorted(f for f in folders if f != ".git")
        for name in sorted(names):
            relative = (Path(folder) / name).relative_to(root).as_posix()
            if matches(relative, (pattern,)):
                yield relative


def artifact_digests(specs: list[str], cwd: Path) -> dict[str, str]:
    """NAME -> `sha256:<hex>` of each `[NAME=]FILE`, read before anything is written."""
    out: dict[str, str] = {}
    for spec in specs:
        name, sep, file = spec.partition("=")
        if not sep:
            name, file = Path(spec).name, spec
        if not name or not file:
            raise InputError(
                msg("--artifact {spec!r} names no file", spec=spec),
                hint=msg("give --artifact FILE or --artifact NAME=FILE"),
            )
        if name in out:
            raise InputError(
                msg("--artifact names {name!r} twice", name=name),
                hint=msg("give each artefact its own NAME: --artifact NAME=FILE"),
            )
        out[name] = file_digest(
            cwd / file,
            msg("the artefact {file}", file=file),
            msg("give the path of the file that was deployed, relative to the working directory"),
        )
    return out


def file_digest(path: Path, what: Message, hint: Message) -> str:
    """`sha256:<hex>` of a file, read in chunks (artefacts can be large); a file that cannot be read is an
    input error that names it as `what`."""
    digest = hashlib.sha256()
    try:
        with path.open("rb") as stream:
            while chunk := stream.read(1 << 20):
                digest.update(chunk)
    except OSError as exc:
        reason = exc.strerror or exc
        raise InputError(msg("cannot read {what}: {reason}", what=what, reason=reason), hint=hint) from None
    return "sha256:" + digest.hexdigest()


def _disk_files(root: Path, patterns: Sequence[str]) -> dict[str, str]:
    hint = msg(
        "make the file readable by the user running gatekeeper, or remove it from the item's paths under "
        "baseline.items"
    )
    out = {}
    for pattern in patterns:
        for relative in _files_on_disk(root, pattern):
            path = root / relative
            if path.is_file():
                out[relative] = file_digest(path, msg("artefact file {file}", file=relative), hint)
    return out


def snapshot(
    root: Path, config: Config, revision: str = "HEAD", artifacts: Mapping[str, str] | None = None
) -> Snapshot:
    """The configuration items at `revision` (git items) and on disk (artefacts)."""
    from gatekeeper.adapters.git import rev_parse

    if not config.baseline.items:
        raise InputError(
            msg("no configuration items are declared"),
            hint=msg(
                "list them under baseline.items in .gatekeeper.yml, e.g. {id: source, kind: "
                "source, paths: ['src/**/*.py']}"
            ),
        )
    commit = rev_parse(root, revision)
    tree = _git(root, "rev-parse", f"{commit}^{{tree}}").strip()
    files = tracked_files(root, commit)
    items = []
    for item in config.baseline.items:
        if item.kind in GIT_KINDS:
            items.append(ItemSnapshot(item.id, item.kind, select_files(item, files)))
        else:
            items.append(ItemSnapshot(item.id, item.kind, _disk_files(root, item.paths)))
    return Snapshot(commit, tree, tuple(items), dict(artifacts or {}))


def commits_touching(
    root: Path, base: str, target: str, paths: Iterable[str], id_pattern: str
) -> dict[str, tuple[CommitRef, ...]]:
    """path -> commits in base..target that changed it (one `git log --name-only` stream)."""
    wanted = set(paths)
    if not wanted or base == target:
        return {}
    out: dict[str, list[CommitRef]] = {}
    text = _git(
        root, "log", "-z", "--no-color", "--format=%x01%H%x00%B%x00", "--name-only", f"{base}..{target}", "--"
    )
    for block in text.split("\x01"):
        if not block:
            continue
        sha, _, rest = block.partition("\0")
        message, _, names = rest.partition("\0")
        ref = CommitRef(sha, message.split("\n", 1)[0].strip(), tuple(find_ids(id_pattern, message)))
        for name in names.replace("\n", "\0").split("\0"):
            if name in wanted:
                out.setdefault(name, []).append(ref)
    return {path: tuple(refs) for path, refs in out.items()}


def compare(
    root: Path, config: Config, baseline: Baseline, revision: str = "HEAD", records: Iterable[Record] = ()
) -> BaselineDiff:
    """The baseline against `revision`, with the commits and RFC IDs behind every file change and the
    deployments behind every artefact change (`records`: the system's `deployment.finished` records)."""
    deployments = tuple(records)  # read twice: for the current digests and for what explains them
    current = snapshot(root, config, revision, deployed_artifacts(deployments))
    items = diff_items(baseline.snapshot, current)
    changed_paths = {c.path for i in items for c in i.changes}
    base_commit = baseline.snapshot.commit
    commits = commits_touching(root, base_commit, current.commit, changed_paths, config.rfc.id_pattern)
    items = diff_items(baseline.snapshot, current, commits)
    artifacts = diff_artifacts(baseline.snapshot.artifacts, current.artifacts, deployments, baseline.seq)
    return BaselineDiff(baseline.seq, baseline.label, base_commit, current.commit, items, artifacts)


def deployment_results(
    ledger: LedgerReader, system: str, attest: Callable[[Any], bool] | None = None, level: str = "off"
) -> list[Record]:
    """The system's `deployment.finished` records that count (`facts.history.counted_deployments`: where
    the pack requires it, a result no job of this repository signed explains no deployed artefact)."""
    from gatekeeper.facts.history import counted_deployments

    if attest is None or level == "off":
        return list(ledger.find(kind=RecordKind.DEPLOYMENT_FINISHED.value, system=system))
    found = {
        record.seq: record
        for kind in (RecordKind.DEPLOYMENT_STARTED, RecordKind.DEPLOYMENT_FINISHED)
        for record in ledger.find(kind=kind.value, system=system)
    }
    counted = counted_deployments((found[seq] for seq in sorted(found)), attest, level)
    return [r for r in counted if r.kind == RecordKind.DEPLOYMENT_FINISHED]


Refusal = Callable[[Envelope], tuple[str, str] | None]


def baseline_judge(
    policy: Policy | None,
    grade: Grade | None,
    members: Mapping[Role, frozenset[str]] | None,
    attest: Callable[[Any], bool] | None,
) -> Refusal:
    """Why a `baseline.created` record is not the baseline (en, ko; None: it is), as
    `rules.baseline.baseline_refusal` judges it with the record's signature verified by `attest`
    (`adapters.oidc.Attestor`: a job of the system's repository on its protected default branch, at the
    commit it baselines) where the pack's `approvals.attestation` asks for one; the verifier's own reason
    is added to an unverified signature's. Without a pack (`policy` None), every record counts."""
    from gatekeeper.domain.records import PayloadError, read
    from gatekeeper.rules import from_workstation, unproven
    from gatekeeper.rules.baseline import baseline_refusal

    level = "off" if policy is None or grade is None else policy.approvals.attestation_level(grade)

    def refusal(record: Envelope) -> tuple[str, str] | None:
        if policy is None:
            return None
        attested: bool | None = None
        if attest is not None and level != "off":
            try:
                attested = attest(read(record))
            except PayloadError:
                attested = False
        reason = baseline_refusal(policy, grade, members, record.actor, record.actor_source, attested)
        unsigned = unproven(attested, level) and not from_workstation(policy, grade, record.actor_source)
        said = getattr(attest, "refused", {}).get(record.seq) if unsigned else None
        if reason is not None and isinstance(said, tuple) and len(said) == 2:
            return f"{reason[0]} ({said[0]})", f"{reason[1]} ({said[1]})"
        return reason

    return refusal


def gather_drift(
    root: Path,
    config: Config,
    ledger: LedgerReader,
    revision: str = "HEAD",
    attest: Callable[[Any], bool] | None = None,
    level: str = "off",
    refusal: Refusal | None = None,
) -> DriftFacts:
    """Facts for `baseline.drift` (the gate calls this): the latest baseline that counts (`refusal`, from
    `baseline_judge`; None: every one) compared with `revision`, and the later ones that do not (`attest`,
    `level`: which deployment results count, `deployment_results`)."""
    if not config.baseline.items:
        return DriftFacts(None, 0)
    records = ledger.find(kind=RecordKind.BASELINE_CREATED.value, system=config.system.id)
    ignored: tuple[IgnoredBaseline, ...]
    if refusal is None:
        baseline, ignored = latest_baseline(records), ()
    else:
        baseline, ignored = counted_baseline(records, refusal)
    if baseline is None:
        return DriftFacts(None, len(config.baseline.items), ignored=ignored)
    deployments = deployment_results(ledger, config.system.id, attest, level)
    diff = compare(root, config, baseline, revision, deployments)
    return DriftFacts(diff, len(config.baseline.items), ignored=ignored)
