"""Governance changes: which files decide how a change is governed, and whether a change that alters them
says so.

A developer with write access can edit any file of their change (DESIGN §1). The gate therefore reads its
configuration from the protected default branch in CI (`config.load_governing`), and a change that alters
a governance file — the configuration, the policy pack, the standard-change catalogue, pinned issuer keys,
the CI files, CODEOWNERS — is itself a change of the governance: it must name those files in its RFC
(`governance_files`) and be a normal change, approved under the configuration it replaces
(`config.changed`). The gate and `check-commits` ask the same question here.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from gatekeeper.domain import ChangeType
from gatekeeper.domain.baseline import matches
from gatekeeper.domain.rfc import RfcEntry

# Files every repository governs by, whatever its configuration says.
ALWAYS = (
    ".github/workflows/**",
    ".github/actions/**",
    ".gitlab-ci.yml",
    ".gitlab/**",
    "CODEOWNERS",
    ".github/CODEOWNERS",
    "docs/CODEOWNERS",
)


def governance_patterns(
    config_file: str, named: Iterable[str | None], extra: Iterable[str]
) -> tuple[str, ...]:
    """The globs of the governance files: the configuration file, the files it names (policy pack,
    catalogue, pinned keys), `governance.paths`, and `ALWAYS`."""
    found = dict.fromkeys([config_file, *(n for n in named if n), *extra, *ALWAYS])
    return tuple(p.removeprefix("./") for p in found)


def is_governance(path: str, patterns: Sequence[str]) -> bool:
    return matches(path, patterns)


@dataclass(frozen=True, slots=True)
class GovernanceChange:
    """The governance files a change alters, and the RFCs it carries."""

    paths: tuple[str, ...]
    rfcs: tuple[RfcEntry, ...]
    base: str = ""  # "main 1a2b3c4d5e": the configuration the decision was made with ("" locally)
    commit: str = ""  # the one commit judged (`check-commits`); "": the whole deployed change


@dataclass(frozen=True, slots=True)
class GovernanceJudgement:
    undeclared: tuple[str, ...]  # altered, named by none of the RFCs' governance_files
    not_normal: tuple[str, ...]  # RFC ids of another type than normal carrying a governance change

    @property
    def holds(self) -> bool:
        return not self.undeclared and not self.not_normal


def judge_governance(change: GovernanceChange) -> GovernanceJudgement:
    """A governance change holds when every altered file is named by an RFC's `governance_files` and every
    RFC it carries is a normal change (a standard or emergency change may not alter the governance)."""
    if not change.paths:
        return GovernanceJudgement((), ())
    declared = [g for e in change.rfcs if e.rfc is not None for g in e.rfc.governance_files]
    undeclared = tuple(p for p in change.paths if not matches(p, declared))
    not_normal = tuple(e.id for e in change.rfcs if e.rfc is not None and e.rfc.type is not ChangeType.NORMAL)
    return GovernanceJudgement(undeclared, not_normal)
