"""Where RFCs come from. `files` reads `changes/<ID>.yml`; the GitHub and GitLab stores read issues.

An RFC's approval state is never read from the RFC itself (DESIGN §2): the store only gives its content
and the digest that approvals bind to.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import Protocol

from gatekeeper.config import Config, load_rfc
from gatekeeper.domain.rfc import RfcEntry
from gatekeeper.domain.rfcid import is_id
from gatekeeper.errors import ConfigError
from gatekeeper.messages import msg


class RfcStore(Protocol):
    def get(self, rfc_id: str) -> RfcEntry | None:
        """The RFC with this ID, or None if there is none.

        Raises an adapter error if the store cannot be read.
        """

    def entries(self) -> Iterator[RfcEntry]:
        """Every RFC in the store."""


class FileRfcStore:
    """RFC files `<dir>/<ID>.yml` in the repository."""

    def __init__(self, root: Path, config: Config, env: Mapping[str, str] | None = None) -> None:
        self.folder = root / config.rfc.dir
        self.pattern = config.rfc.id_pattern

    def path_for(self, rfc_id: str) -> Path:
        if not is_id(self.pattern, rfc_id) or "/" in rfc_id or "\\" in rfc_id or rfc_id.startswith("."):
            raise ConfigError(
                msg("{rfc_id!r} is not an RFC ID of this repository", rfc_id=rfc_id),
                hint=msg("RFC IDs match the configured pattern {pattern}", pattern=self.pattern),
            )
        path = self.folder / f"{rfc_id}.yml"
        if path.resolve().parent != self.folder.resolve():
            raise ConfigError(
                msg("{rfc_id!r} would point outside {folder}", rfc_id=rfc_id, folder=self.folder),
                hint=msg("give an RFC ID without path characters"),
            )
        return path

    def _load(self, rfc_id: str, path: Path) -> RfcEntry:
        try:
            rfc = load_rfc(path)
        except ConfigError as exc:
            return RfcEntry(rfc_id, str(path), error=exc.render(), error_ko=exc.render("ko"))
        if rfc.id != rfc_id:
            said = msg(
                "{path}: id {id!r} does not match the file name {rfc_id!r}",
                path=path,
                id=rfc.id,
                rfc_id=rfc_id,
            )
            return RfcEntry(rfc_id, str(path), error=said.en, error_ko=said.ko)
        return RfcEntry(rfc_id, str(path), rfc=rfc)

    def get(self, rfc_id: str) -> RfcEntry | None:
        path = self.path_for(rfc_id)
        if not path.is_file():
            alternative = path.with_suffix(".yaml")
            if not alternative.is_file():
                return None
            path = alternative
        return self._load(rfc_id, path)

    def entries(self) -> Iterator[RfcEntry]:
        if not self.folder.is_dir():
            return
        for path in sorted([*self.folder.glob("*.yml"), *self.folder.glob("*.yaml")]):
            if is_id(self.pattern, path.stem):
                yield self._load(path.stem, path)
            else:
                said = msg(
                    "{path}: the file name is not an RFC ID matching {pattern}",
                    path=path,
                    pattern=self.pattern,
                )
                yield RfcEntry(path.stem, str(path), error=said.en, error_ko=said.ko)


StoreFactory = Callable[[Path, Config, Mapping[str, str]], RfcStore]


def _github(root: Path, config: Config, env: Mapping[str, str]) -> RfcStore:
    from gatekeeper.adapters.platforms.github import GithubIssueRfcStore  # type: ignore[import-not-found,unused-ignore]

    store: RfcStore = GithubIssueRfcStore.from_environment(root, config, env)
    return store


def _gitlab(root: Path, config: Config, env: Mapping[str, str]) -> RfcStore:
    from gatekeeper.adapters.platforms.gitlab import GitlabIssueRfcStore  # type: ignore[import-not-found,unused-ignore]

    store: RfcStore = GitlabIssueRfcStore.from_environment(root, config, env)
    return store


RFC_STORES: dict[str, StoreFactory] = {"files": FileRfcStore, "github": _github, "gitlab": _gitlab}


def open_store(root: Path, config: Config, env: Mapping[str, str]) -> RfcStore:
    return RFC_STORES[config.rfc.store](root, config, env)
