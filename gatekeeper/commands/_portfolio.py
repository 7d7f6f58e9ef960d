"""`--system ID` (repeatable) or `--system all` for the portfolio views of `audit` and `kpi`: which systems,
and the configuration each is judged by.

One ledger holds the records of many systems (a PostgreSQL ledger shared by an agency). Each system is
judged by the same definitions as a single-system run (`checks.audit`, `checks.kpi`), on its own records
only (`find(system=...)`): a record of another system never counts for it. Its grade and roles come from
this configuration — `system:` for its own, the `systems:` registry for the others (read, like the rest of
the file, from the protected default branch). A system that has records but no registry entry is judged as
grade 1, the strictest, with no role holders known, and the report says so. `--system all` is every system
that has records in the ledger; an id that is neither there nor in the configuration is a usage error
listing the known ones.
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from dataclasses import dataclass

from gatekeeper.config.models import Config, SystemConfig
from gatekeeper.domain import Grade
from gatekeeper.errors import UsageError
from gatekeeper.ledger import LedgerReader
from gatekeeper.messages import msg
from gatekeeper.reporters.portfolio import SystemInfo
from gatekeeper.reporters.sanitize import for_log

ALL = "all"
SHOWN_KNOWN = 30  # known ids a usage error lists


def add_system_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--system",
        action="extend",
        nargs="+",
        default=[],
        metavar="ID",
        help="the systems of the shared ledger to report on (repeatable), or `all`: a row per system "
        "and totals; default: this configuration's system alone, as before",
    )


@dataclass(frozen=True)
class Member:
    """A system of the portfolio and the configuration it is judged by."""

    config: Config
    registered: bool  # its grade and roles come from the configuration, not the strict default
    own: bool  # this configuration's own system (its repository's commits and baseline are here)

    @property
    def id(self) -> str:
        return self.config.system.id


def _strict_default(system_id: str) -> SystemConfig:
    # Built without validation: a ledger's system name is the record's text, not a configured identifier.
    return SystemConfig.model_construct(id=system_id, name=system_id, grade=Grade(1))


def member(config: Config, system_id: str) -> Member:
    if system_id == config.system.id:
        return Member(config, registered=True, own=True)
    registry = {s.id: s for s in config.systems}
    entry = registry.get(system_id)
    if entry is None:
        unknown = config.model_copy(update={"system": _strict_default(system_id), "roles": {}})
        return Member(_signed_by(unknown, None), False, False)
    system = SystemConfig(
        id=entry.id, name=entry.name, grade=entry.grade, audience=entry.audience, agency=entry.agency
    )
    registered = config.model_copy(update={"system": system, "roles": dict(entry.roles)})
    return Member(_signed_by(registered, entry.repository), True, False)


def _signed_by(config: Config, repository: str | None) -> Config:
    """`config` for another system, whose records the jobs of its own repository sign: the platform
    settings name the repository its `systems:` entry registers (None: none registered, so no signature of
    it verifies — never as this repository's). The audit reads them without the CI job's own repository
    (`adapters.oidc.without_job_repository`)."""
    platform = config.platform
    github, gitlab = platform.github, platform.gitlab
    return config.model_copy(
        update={
            "platform": platform.model_copy(
                update={
                    "github": github.model_copy(
                        update={"oidc": github.oidc.model_copy(update={"repository": repository})}
                    ),
                    "gitlab": gitlab.model_copy(
                        update={"oidc": gitlab.oidc.model_copy(update={"repository": repository})}
                    ),
                }
            )
        }
    )


def _listed(names: Sequence[str]) -> str:
    shown = ", ".join(for_log(n, limit=100) for n in names[:SHOWN_KNOWN])
    return shown + (f" … (+{len(names) - SHOWN_KNOWN})" if len(names) > SHOWN_KNOWN else "")


def select(config: Config, ledger: LedgerReader, asked: Sequence[str]) -> tuple[Member, ...]:
    """The members `--system` names, in the order of their ids; a usage error for an unknown id."""
    from gatekeeper.ledger.systems import systems_of

    in_ledger = systems_of(ledger)
    if ALL in asked:
        return tuple(member(config, s) for s in in_ledger)
    known = sorted({config.system.id, *(s.id for s in config.systems), *in_ledger})
    unknown = [s for s in dict.fromkeys(asked) if s not in known]
    if unknown:
        named = _listed(unknown)
        raise UsageError(
            msg("--system {named}: no such system in this configuration or in the ledger", named=named),
            hint=msg("name one of {listed_known}, or `all`", listed_known=_listed(known)),
        )
    return tuple(member(config, s) for s in sorted(set(asked)))


def info(of: Member) -> SystemInfo:
    system = of.config.system
    return SystemInfo(system.id, system.name, int(system.grade), of.registered, of.own)
