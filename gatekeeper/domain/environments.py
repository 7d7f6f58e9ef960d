"""Declared deployment environments (`environments:` in `.gatekeeper.yml`): each has a canonical name, a
kind and aliases.

The deployment lock and the debts of earlier changes (PIR, after-the-fact review) are kept per
environment, so one environment must have one name: `--env Production`, `--env "production "` and
`--env prod` (a declared alias) are all `production`, and a name nobody declared is an input error rather
than a fresh environment with no lock and no debts. The kind decides which rules apply (the pack's
`environments:`): production gets every rule; a staging or test environment gets the rules the pack lists
for its kind.

Without `environments:` the configuration declares one environment, `production`, of kind production:
configurations that deploy only to production keep working, and any other name must be declared.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum

from gatekeeper.errors import InputError
from gatekeeper.messages import msg


class EnvironmentKind(StrEnum):
    PRODUCTION = "production"  # 운영계
    STAGING = "staging"  # 검증계
    TEST = "test"  # 개발·시험계


DEFAULT_NAME = "production"
_SHOWN = 60  # characters of an unknown name repeated back in an error


def normalise(name: str) -> str:
    """The form names are compared in: Unicode NFKC (full-width letters are letters), no surrounding
    whitespace, case folded."""
    return unicodedata.normalize("NFKC", name).strip().casefold()


@dataclass(frozen=True, slots=True)
class Environment:
    name: str  # canonical: what the ledger records
    kind: EnvironmentKind
    aliases: tuple[str, ...] = ()


@dataclass(frozen=True)
class Environments:
    """The declared environments; `resolve` for a name given now, `canonical` for a name recorded earlier."""

    declared: tuple[Environment, ...]
    _index: Mapping[str, Environment] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        index: dict[str, Environment] = {}
        for environment in self.declared:
            for spelling in (environment.name, *environment.aliases):
                key = normalise(spelling)
                if not key:
                    raise ValueError(f"an alias of {environment.name!r} is only white space")
                other = index.get(key)
                if other is not None and other is not environment:
                    raise ValueError(
                        f"{spelling!r} names both {other.name!r} and {environment.name!r}; "
                        "each name and alias may name one environment"
                    )
                index[key] = environment
        object.__setattr__(self, "_index", index)

    @classmethod
    def of(cls, entries: Iterable[tuple[str, EnvironmentKind, Iterable[str]]]) -> Environments:
        return cls(tuple(Environment(name, kind, tuple(aliases)) for name, kind, aliases in entries))

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(e.name for e in self.declared)

    def find(self, name: str) -> Environment | None:
        return self._index.get(normalise(name))

    def resolve(self, given: str, option: str = "--env") -> Environment:
        """The declared environment `given` names (case, surrounding whitespace and aliases aside); an
        undeclared name is an input error naming the option and the declared names."""
        found = self.find(given)
        if found is not None:
            return found
        shown = given if len(given) <= _SHOWN else given[:_SHOWN] + "…"
        declared = ", ".join(
            e.name + (f" (aliases: {', '.join(e.aliases)})" if e.aliases else "") for e in self.declared
        )
        raise InputError(
            msg(
                "{option} {shown!r} is not a declared environment; declared: {declared}",
                option=option,
                shown=shown,
                declared=declared,
            ),
            hint=msg(
                "use one of the declared names, or declare the environment (its kind and "
                "aliases) under `environments:` in .gatekeeper.yml"
            ),
        )

    def canonical(self, recorded: str) -> str:
        """The canonical name of a name a record carries: a declared spelling becomes its environment's
        name; any other name is compared in its normalised form (a record is never refused for it)."""
        found = self.find(recorded)
        return found.name if found is not None else normalise(recorded)

    def kind(self, name: str) -> EnvironmentKind:
        """The kind of a (recorded) environment; a name no longer declared counts as production, the kind
        with every rule."""
        found = self.find(name)
        return found.kind if found is not None else EnvironmentKind.PRODUCTION


def job_environment_conflict(environments: Environments, chosen: Environment, env: Mapping[str, str]) -> str:
    """In GitLab CI the job names the environment it deploys to (`CI_ENVIRONMENT_NAME`, from the job's
    `environment:`): when that is a declared environment other than `--env`'s, the gate must not judge the
    deployment by another environment's rules. Returns why, or "" (no GitLab job environment, or an
    undeclared one, or the same)."""
    if env.get("GITLAB_CI") != "true":
        return ""
    name = env.get("CI_ENVIRONMENT_NAME", "")
    found = environments.find(name) if name else None
    if found is None or found.name == chosen.name:
        return ""
    return (
        f"the job deploys to the GitLab environment {name[:_SHOWN]!r} ({found.name}, {found.kind}) but --env "
        f"names {chosen.name} ({chosen.kind}); give the job's environment to --env"
    )


DEFAULT_ENVIRONMENTS = Environments((Environment(DEFAULT_NAME, EnvironmentKind.PRODUCTION),))
