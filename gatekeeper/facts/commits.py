"""Commits judged by the commit rules (`rules.commit`): the one judgement `check-commits` gives a range or
a message, and the audit gives the commits of its period (checklist item `configuration.commit-rfc`)."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

from gatekeeper.domain import ChangeType, Finding, Grade
from gatekeeper.domain.rfc import RfcEntry
from gatekeeper.rules import RuleContext
from gatekeeper.rules.commit import CommitFacts, MessageParts, check_commit, read_message

if TYPE_CHECKING:
    from gatekeeper.adapters.git import Commit
    from gatekeeper.config import Config, Policy


class RfcLookup:
    """What the RFC store holds for an ID, asked once per ID."""

    def __init__(self, get: Callable[[str], RfcEntry | None]) -> None:
        self._get = get
        self.rfcs: dict[str, RfcEntry | None] = {}

    def lookup(self, ids: Iterable[str]) -> None:
        for rfc_id in ids:
            if rfc_id not in self.rfcs:
                self.rfcs[rfc_id] = self._get(rfc_id)


@dataclass(frozen=True, slots=True)
class JudgedCommit:
    sha: str
    subject: str
    rfcs: tuple[str, ...]  # the IDs that count (subject or trailer)
    findings: tuple[Finding, ...]


@dataclass
class CommitJudge:
    """Reads messages with the configured pattern and policy, looks each RFC up once, keeps one rule
    context per change type, and runs the commit rules."""

    config: Config
    policy: Policy
    get_rfc: Callable[[str], RfcEntry | None]
    now: datetime
    lang: str
    root: Path | None = None  # the repository, for the clean-merge exemption of a range's merges
    named: dict[str, None] = field(default_factory=dict)  # every ID named, in order
    _contexts: dict[ChangeType, RuleContext] = field(default_factory=dict)
    _lookup: RfcLookup | None = None

    @property
    def rfcs(self) -> Mapping[str, RfcEntry | None]:
        return self._store.rfcs

    @property
    def _store(self) -> RfcLookup:
        if self._lookup is None:
            self._lookup = RfcLookup(self.get_rfc)
        return self._lookup

    def read(self, message: str) -> MessageParts:
        parts = read_message(message, self.config.rfc.id_pattern, self.policy.commit)
        self._store.lookup(parts.ids)
        for rfc_id in parts.ids:
            self.named.setdefault(rfc_id, None)
        return parts

    def rule_context(self, ids: tuple[str, ...]) -> RuleContext:
        change_type = ChangeType.NORMAL
        for rfc_id in ids:
            entry = self.rfcs.get(rfc_id)
            if entry is not None and entry.rfc is not None:
                change_type = entry.rfc.type
                break
        found = self._contexts.get(change_type)
        if found is None:
            grade = Grade(self.config.system.grade)
            found = self._contexts[change_type] = RuleContext(
                self.policy, grade, change_type, self.now, self.lang
            )
        return found

    def judge(self, facts: CommitFacts) -> list[Finding]:
        return check_commit(facts, self.rule_context(facts.parts.ids))

    def judge_commit(self, commit: Commit, suggested_id: str | None = None) -> JudgedCommit:
        """A commit of a range: merges are exempt as the policy says, when git's own merge of the parents
        gives exactly the merge's tree."""
        from gatekeeper.adapters import git

        parts = self.read(commit.message)
        is_merge = len(commit.parents) > 1
        exempt_merges = self.policy.commit.merges == "exempt-when-parents-checked"
        # The merge-tree comparison costs a process: only run it when the exemption would change the result.
        needs_exemption = not parts.ids or parts.reason_chars < self.policy.commit.reason_min_chars
        clean = (
            is_merge
            and exempt_merges
            and needs_exemption
            and self.root is not None
            and git.clean_merge(self.root, commit)
        )
        facts = CommitFacts(
            commit.sha, parts, self.rfcs, is_merge, clean, suggested_id, is_root=not commit.parents
        )
        return JudgedCommit(commit.sha, commit.subject, parts.ids, tuple(self.judge(facts)))

    def change_type(self) -> str:
        types = {e.rfc.type for i in self.named if (e := self.rfcs.get(i)) is not None and e.rfc is not None}
        return str(types.pop()) if len(types) == 1 else "normal"
