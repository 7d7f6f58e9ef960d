"""The standard-change facts of a deployment (adapter): the catalogue file the configuration names, and
what the commits of each standard RFC change (files, lines), checked by `domain.standard`.

Nothing is read unless a deployed RFC is a standard change. A catalogue that cannot be read, or git that
cannot say what a commit changed, raises: the gate reports `gate.error` and blocks.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from pathlib import Path

from gatekeeper.config.models import Config, StandardCatalogue
from gatekeeper.domain import ChangeType
from gatekeeper.domain.rfc import RfcEntry
from gatekeeper.domain.standard import ChangeSize, StandardCheck, check_standard
from gatekeeper.messages import msg


def load_catalogue(root: Path, config: Config) -> tuple[StandardCatalogue | None, str]:
    """The catalogue and its path as configured; (None, "") when none is configured."""
    from gatekeeper.config import parse_model
    from gatekeeper.config._yaml import load_yaml
    from gatekeeper.errors import ConfigError

    if config.standard_changes is None:
        return None, ""
    shown = config.standard_changes.catalogue
    path = config.governance_file(root, shown)
    if not path.is_file():
        raise ConfigError(
            msg(
                "the standard-change catalogue {shown} (standard_changes.catalogue) does not exist",
                shown=shown,
            ),
            hint=msg("commit the catalogue file, or correct `standard_changes.catalogue` in .gatekeeper.yml"),
        )
    catalogue = parse_model(
        StandardCatalogue, load_yaml(path, what="standard-change catalogue"), "standard-change catalogue"
    )
    return catalogue, shown


def change_size(root: Path, shas: Iterable[str]) -> ChangeSize:
    """The files the commits change and the lines they add and remove (a merge adds no change of its own;
    a binary file counts as a file with no lines)."""
    from gatekeeper.adapters.git import git

    files: dict[str, None] = {}
    lines = 0
    for sha in shas:
        out = git(root, "diff-tree", "-r", "-z", "--numstat", "--no-renames", "--no-commit-id", "--root", sha)
        for item in out.split("\0"):
            added, tab, rest = item.partition("\t")
            removed, tab2, path = rest.partition("\t")
            if not tab or not tab2 or not path:
                continue
            files.setdefault(path, None)
            lines += (int(added) if added.isdigit() else 0) + (int(removed) if removed.isdigit() else 0)
    return ChangeSize(tuple(files), lines)


def gather_standard(
    root: Path,
    config: Config,
    entries: Sequence[RfcEntry],
    commits: Sequence[object] | None,
    at: datetime,
) -> tuple[StandardCheck, ...]:
    """The check of every standard RFC deployed, over the deployed commits that name it or name no RFC at
    all (a change that names nothing rides with the deployment; it must not slip past the entry)."""
    from gatekeeper.domain.rfcid import find_ids

    standard = [e for e in entries if e.rfc is not None and e.rfc.type is ChangeType.STANDARD]
    if not standard:
        return ()
    catalogue, shown = load_catalogue(root, config)
    out = []
    for entry in standard:
        shas = []
        for commit in commits or ():
            named = find_ids(config.rfc.id_pattern, str(getattr(commit, "message", "")))
            if entry.id in named or not named:
                shas.append(str(getattr(commit, "sha", "")))
        check = check_standard(
            entry,
            system=config.system.id,
            catalogue=catalogue,
            catalogue_path=shown,
            items=config.baseline.items,
            size=change_size(root, shas),
            at=at,
            zone=config.timezone,
        )
        if check is not None:
            out.append(check)
    return tuple(out)
