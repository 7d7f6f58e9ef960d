"""Commit rules (CFG-P3, CHG-P1): every commit names an RFC that exists and is active, and says why.

Pure functions of `CommitFacts` (the message, what the RFC store said about each ID it names, and what
git said about a merge) and the policy. `read_message` splits a message into what the rules look at; the
command calls it once per commit. How merges, reverts and fixup!/squash! commits are treated is written
down in docs/commit-rules.md.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Iterable, Mapping
from functools import lru_cache
from typing import NamedTuple

from gatekeeper.config.models import CommitPolicy
from gatekeeper.domain import Finding, RfcStatus
from gatekeeper.domain.rfc import RfcEntry
from gatekeeper.domain.rfcid import _CONFUSABLES, _finder, find_ids, lookalike_ids
from gatekeeper.messages import Message, msg, ptr, tr
from gatekeeper.rules import RuleContext

_AUTOSQUASH = re.compile(r"^(?:(?:fixup|squash|amend)! ?)+")
_AUTOSQUASH_PREFIXES = ("fixup!", "squash!", "amend!")
_REVERT = re.compile(r"^This reverts commit ([0-9a-f]{7,64})\b", re.MULTILINE)
_TRAILER_LINE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9-]*[ \t]*:[ \t]*\S")
_NOT_REASON = re.compile(r"[\W_]+")
SUBJECT_SHOWN = 72


class MessageParts(NamedTuple):
    """What the rules read from one commit message."""

    subject: str
    pattern: str  # the configured RFC ID pattern the message was read with
    ids: tuple[str, ...]  # IDs in the subject or a configured trailer: the ones that count
    body_ids: tuple[str, ...]  # IDs that stand only in the body text (they do not count; said in the message)
    lookalikes: tuple[str, ...]  # ID-shaped text with letters from other scripts
    reason_chars: int  # letters and digits beyond IDs, trailers and fixup!/squash! prefixes
    reverts: str | None  # the SHA in "This reverts commit <sha>."


class CommitFacts(NamedTuple):
    """One commit as the rules see it. `sha` is None for a message being committed (the commit-msg hook)."""

    sha: str | None
    parts: MessageParts
    rfcs: Mapping[str, RfcEntry | None]  # what the store holds for every ID in parts.ids
    is_merge: bool = False
    clean_merge: bool = False  # a two-parent merge whose tree is exactly git's merge of its parents
    suggested_id: str | None = None  # e.g. the RFC ID in the branch name
    is_root: bool = False  # the first commit of a history: it has no parent to rebase onto

    @property
    def where(self) -> Message:
        return msg("commit {sha}", sha=self.sha[:10]) if self.sha else msg("the commit message")

    @property
    def subject_ref(self) -> str:
        return self.sha[:10] if self.sha else "commit-msg"


@lru_cache(maxsize=16)
def _trailer_pattern(trailers: tuple[str, ...]) -> re.Pattern[str]:
    names = "|".join(re.escape(t) for t in trailers) or r"(?!)"
    return re.compile(rf"^(?:{names})[ \t]*:[ \t]*(.+)$", re.MULTILINE | re.IGNORECASE)


def _without_trailer_block(rest: str) -> str:
    """The body without its final paragraph when that paragraph is all `Key: value` trailer lines."""
    body = rest.rstrip()
    head, sep, last = body.rpartition("\n\n")
    lines = [line for line in last.splitlines() if line.strip()]
    if lines and all(_TRAILER_LINE.match(line) for line in lines):
        return head if sep else ""
    return body


def reason_weight(text: str) -> int:
    """How much reason `text` gives: its letters and digits, a wide character (Hangul, Han, kana: one
    syllable or word, where Latin needs several letters) counting two, as it takes two columns."""
    letters = _NOT_REASON.sub("", text)
    return len(letters) + sum(1 for ch in letters if unicodedata.east_asian_width(ch) in ("W", "F"))


def _reason_chars(text: str, pattern: str, trailer_pattern: re.Pattern[str]) -> int:
    return reason_weight(_finder(pattern).sub(" ", trailer_pattern.sub(" ", text)))


def read_message(message: str, pattern: str, policy: CommitPolicy) -> MessageParts:
    """Split a commit message into subject, counted IDs, body-only IDs, look-alikes and reason length."""
    subject, _, rest = message.strip().partition("\n")
    subject = subject.strip()
    finder = _finder(pattern)
    ids = list(dict.fromkeys(m.group(0) for m in finder.finditer(subject)))
    trailer_pattern = _trailer_pattern(policy.trailers)
    if rest:
        for match in trailer_pattern.finditer(rest):
            ids.extend(i for i in find_ids(pattern, match.group(1)) if i not in ids)
    body_ids: list[str] = []
    lookalikes: list[str] = []
    if not ids:
        body_ids = find_ids(pattern, rest) if rest else []
        lookalikes = lookalike_ids(pattern, message)
    plain = _AUTOSQUASH.sub("", subject) if subject.startswith(_AUTOSQUASH_PREFIXES) else subject
    reason = reason_weight(finder.sub(" ", plain))
    if reason < policy.reason_min_chars and rest:
        reason += _reason_chars(_without_trailer_block(rest), pattern, trailer_pattern)
    revert = _REVERT.search(rest) if subject.startswith("Revert ") else None
    return MessageParts(
        subject,
        pattern,
        tuple(ids),
        tuple(body_ids),
        tuple(lookalikes),
        reason,
        revert.group(1) if revert else None,
    )


def _shown(subject: str) -> str:
    return subject if len(subject) <= SUBJECT_SHOWN else subject[: SUBJECT_SHOWN - 1] + "…"


def _foreign_letters(text: str) -> str:
    names = []
    for char in dict.fromkeys(c for c in text if not c.isascii()):
        names.append(f"{char} (U+{ord(char):04X} {unicodedata.name(char, 'unnamed')})")
    return ", ".join(names)


def ctx_pattern(facts: CommitFacts) -> str:
    return facts.parts.pattern


def _exempt_merge(facts: CommitFacts, ctx: RuleContext) -> bool:
    return facts.is_merge and facts.clean_merge and ctx.policy.commit.merges == "exempt-when-parents-checked"


def _counted_ids(facts: CommitFacts, ctx: RuleContext) -> tuple[str, ...]:
    if facts.parts.ids:
        return facts.parts.ids
    if ctx.policy.commit.reverts == "inherit" and facts.parts.reverts:
        # A revert quotes the reverted subject in its body; with `inherit` the RFC named there counts.
        return facts.parts.body_ids
    return ()


def _how_to_add(facts: CommitFacts, ctx: RuleContext, rfc_id: str) -> str:
    trailer = ctx.policy.commit.trailers[0] if ctx.policy.commit.trailers else "Refs"
    if facts.sha is None:
        return tr(
            ctx.lang,
            "add `{rfc_id}` to the subject (`{rfc_id} {shown_facts_parts_subject_or}`) or a "
            "`{trailer}: {rfc_id}` trailer",
            rfc_id=rfc_id,
            shown_facts_parts_subject_or=_shown(facts.parts.subject) or "<what and why>",
            trailer=trailer,
            shown_subject=_shown(facts.parts.subject),
        )
    short = facts.sha[:10]
    onto = "--root" if facts.is_root else f"{short}~1"
    return tr(
        ctx.lang,
        "add `{rfc_id}` to the subject of {short} (reword it with `git rebase -i {onto}`) and push again",
        rfc_id=rfc_id,
        short=short,
        onto=onto,
    )


def rfc_missing(facts: CommitFacts, ctx: RuleContext) -> Iterable[Finding | None]:
    if _counted_ids(facts, ctx) or _exempt_merge(facts, ctx):
        return
    shown = _shown(facts.parts.subject)
    if facts.parts.lookalikes:
        spelled = facts.parts.lookalikes[0]
        detail = tr(
            ctx.lang,
            "; `{spelled}` looks like an RFC ID but contains letters from another script: "
            "{foreign_letters_spelled}",
            spelled=spelled,
            foreign_letters_spelled=_foreign_letters(spelled),
        )
        folded = find_ids(ctx_pattern(facts), unicodedata.normalize("NFKC", spelled).translate(_CONFUSABLES))
        fix_id = facts.suggested_id or (folded[0] if folded else "<RFC ID>")
    elif facts.parts.body_ids:
        detail = tr(
            ctx.lang,
            "; `{body_ids}` stands only in the body, where it does not count",
            body_ids=facts.parts.body_ids[0],
        )
        fix_id = facts.suggested_id or facts.parts.body_ids[0]
    else:
        detail = ""
        fix_id = facts.suggested_id or "<RFC ID>"
    fix = _how_to_add(facts, ctx, fix_id)
    if fix_id == "<RFC ID>":
        fix += tr(ctx.lang, '; no RFC yet? create one with `gatekeeper rfc new --title "..."`')
    yield ctx.finding(
        "commit.rfc-missing",
        subject=facts.subject_ref,
        message=tr(
            ctx.lang,
            '{where} names no RFC ID in its subject or a trailer: "{shown}"{detail}',
            where=facts.where,
            shown=shown,
            detail=detail,
        ),
        remediation=fix,
    )


def rfc_unknown(facts: CommitFacts, ctx: RuleContext) -> Iterable[Finding | None]:
    for rfc_id in _counted_ids(facts, ctx):
        if rfc_id in facts.rfcs and facts.rfcs[rfc_id] is None:
            yield ctx.finding(
                "commit.rfc-unknown",
                subject=facts.subject_ref,
                message=tr(
                    ctx.lang,
                    "{where} names {rfc_id}, which does not exist in the RFC store",
                    where=facts.where,
                    rfc_id=rfc_id,
                ),
                remediation=tr(
                    ctx.lang,
                    "check the ID for a typo, or create the RFC with `gatekeeper rfc new --id "
                    '{rfc_id} --title "..."` and commit it',
                    rfc_id=rfc_id,
                ),
            )


def rfc_inactive(facts: CommitFacts, ctx: RuleContext) -> Iterable[Finding | None]:
    for rfc_id in _counted_ids(facts, ctx):
        entry = facts.rfcs.get(rfc_id)
        if (
            entry is not None
            and entry.rfc is not None
            and entry.rfc.status in (RfcStatus.CANCELLED, RfcStatus.CLOSED)
        ):
            status = str(entry.rfc.status)
            yield ctx.finding(
                "commit.rfc-inactive",
                subject=facts.subject_ref,
                message=tr(
                    ctx.lang,
                    "{where} names {rfc_id}, which is {status}",
                    where=facts.where,
                    rfc_id=rfc_id,
                    status=ptr(ctx.lang, "RFC status", "cancelled")
                    if status == "cancelled"
                    else ptr(ctx.lang, "RFC status", "closed"),
                ),
                remediation=tr(
                    ctx.lang,
                    "name the active RFC this change belongs to, or open a new RFC; {rfc_id} cannot "
                    "take more changes",
                    rfc_id=rfc_id,
                ),
            )


def reason_missing(facts: CommitFacts, ctx: RuleContext) -> Iterable[Finding | None]:
    minimum = ctx.policy.commit.reason_min_chars
    example = (facts.parts.ids or (facts.suggested_id,))[0] or "<RFC ID>"
    if facts.parts.reason_chars >= minimum or _exempt_merge(facts, ctx):
        return
    yield ctx.finding(
        "commit.reason-missing",
        subject=facts.subject_ref,
        message=tr(
            ctx.lang,
            '{where} gives no reason beyond the RFC ID: "{shown_subject}" ({reason_chars} of '
            "at least {minimum} letters or digits; a Hangul or Han character counts two)",
            where=facts.where,
            shown_subject=_shown(facts.parts.subject),
            reason_chars=facts.parts.reason_chars,
            minimum=minimum,
        ),
        remediation=tr(
            ctx.lang,
            "say what changes and why in the subject or body, e.g. `{example} Validate the "
            "applicant's phone number`",
            example=example,
        ),
    )


COMMIT_RULES: dict[str, Callable[[CommitFacts, RuleContext], Iterable[Finding | None]]] = {
    "commit.rfc-missing": rfc_missing,
    "commit.rfc-unknown": rfc_unknown,
    "commit.rfc-inactive": rfc_inactive,
    "commit.reason-missing": reason_missing,
}


def check_commit(facts: CommitFacts, ctx: RuleContext) -> list[Finding]:
    return [f for rule in COMMIT_RULES.values() for f in rule(facts, ctx) if f is not None]
