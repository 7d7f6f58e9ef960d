"""What the GitHub and GitLab adapters share: bounded retries, secret scrubbing, RFCs parsed from issue
bodies and platform approvals normalised into the decisions the approval rules read.

No platform library is imported here; `gatekeeper.adapters.platforms.github` / `.gitlab` bring PyGithub and
python-gitlab and classify their errors for `call_api`.
"""

from __future__ import annotations

import random
import re
import time
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from pathlib import Path
from typing import Literal, Protocol, TypeVar

from gatekeeper.config.models import Config, Rfc
from gatekeeper.domain import RfcStatus, Step
from gatekeeper.domain.rfc import RfcEntry
from gatekeeper.errors import ConfigError, PlatformError
from gatekeeper.messages import msg
from gatekeeper.reporters.sanitize import for_log
from gatekeeper.rules.approval import ApprovalDecision, ApprovalFacts, after_ledger, login_key

T = TypeVar("T")

# ------------------------------------------------------------------------------------------- retries

FailureKind = Literal["transient", "rate-limit", "timeout", "fatal"]


@dataclass(frozen=True)
class ApiFailure:
    """How one failed call is handled: retried (transient, rate-limit) or reported at once."""

    kind: FailureKind
    detail: str
    retry_after: float | None = None  # seconds, from Retry-After or the rate-limit reset time


@dataclass(frozen=True)
class RetryPolicy:
    attempts: int = 3
    base_delay: float = 0.5  # seconds; doubled per attempt, with jitter
    max_delay: float = 8.0
    max_rate_limit_wait: float = 60.0  # a longer wait is a failure now, not a job that hangs for an hour
    timeout: float = 10.0  # per request

    def backoff(self, attempt: int, rng: random.Random) -> float:
        ceiling = min(self.max_delay, self.base_delay * 2.0**attempt)
        return ceiling * rng.uniform(0.5, 1.0)


Classifier = Callable[[BaseException], ApiFailure | None]


def scrub(text: str, secrets: Iterable[str]) -> str:
    """`text` with every secret replaced, so no message, log line or finding can carry a token."""
    for secret in sorted((s for s in secrets if len(s) >= 4), key=len, reverse=True):
        text = text.replace(secret, "***")
    return text


@dataclass
class ApiCaller:
    """Runs API calls with bounded retries; every failure becomes a PlatformError naming what failed."""

    platform: str
    classify: Classifier
    secrets: tuple[str, ...] = ()
    policy: RetryPolicy = RetryPolicy()
    sleep: Callable[[float], None] = time.sleep
    rng: random.Random = field(default_factory=random.Random)

    def error(self, what: str, detail: str, hint: str = "", hint_ko: str = "") -> PlatformError:
        said = msg(
            "{platform} API: {what} failed: {detail}", platform=self.platform, what=what, detail=detail
        )
        return PlatformError(
            for_log(scrub(said.en, self.secrets), limit=600),
            hint=scrub(hint, self.secrets),
            ko=for_log(scrub(said.ko, self.secrets), limit=600),
            hint_ko=scrub(hint_ko, self.secrets),
        )

    def __call__(self, what: str, call: Callable[[], T]) -> T:
        for attempt in range(self.policy.attempts):
            try:
                return call()
            except PlatformError:
                raise
            except Exception as exc:
                failure = self.classify(exc)
                if failure is None:
                    raise
                last = attempt == self.policy.attempts - 1
                if failure.kind == "fatal":
                    raise self.error(what, failure.detail, *_hint(failure.detail)) from None
                if failure.kind == "timeout":
                    raise self.error(
                        what,
                        f"no answer within {self.policy.timeout:g}s ({failure.detail})",
                        *msg("check the API URL and the platform's status, then run the job again").pair,
                    ) from None
                if failure.kind == "rate-limit":
                    wait = failure.retry_after
                    if wait is None:
                        wait = self.policy.backoff(attempt, self.rng)
                    if last or wait > self.policy.max_rate_limit_wait:
                        raise self.error(
                            what,
                            f"rate limited ({failure.detail}); the limit resets in {max(wait, 0):.0f}s",
                            *msg(
                                "run the job again after the reset, or use a token with a higher limit"
                            ).pair,
                        ) from None
                    self.sleep(max(wait, 0.0))
                    continue
                if last:
                    raise self.error(
                        what,
                        f"{failure.detail} (after {self.policy.attempts} attempts)",
                        *msg("the platform API is failing; run the job again later").pair,
                    ) from None
                self.sleep(self.policy.backoff(attempt, self.rng))
        raise AssertionError("unreachable: the loop returns or raises")  # pragma: no cover


def _hint(detail: str) -> tuple[str, str]:
    """The fix for an HTTP failure, in English and Korean."""
    if detail.startswith(("401", "HTTP 401")):
        return msg("the API token is missing, expired or revoked").pair
    if detail.startswith(("403", "HTTP 403")):
        return msg(
            "the API token lacks a permission (issues, pull requests, deployments or members: read)"
        ).pair
    if detail.startswith(("404", "HTTP 404")):
        return msg("check the repository/project and that the token can see it").pair
    return "", ""


def first_env(env: Mapping[str, str], *names: str) -> str:
    for name in names:
        value = env.get(name, "").strip()
        if value:
            return value
    return ""


# ------------------------------------------------------------------------------------------- RFC issues

NO_RESPONSE = {"", "_no response_", "none", "n/a"}
_HEADING = re.compile(r"^#{2,4}[ \t]+(.+?)[ \t]*#*[ \t]*$", re.MULTILINE)
_KEY = re.compile(r"\(([a-z_]+(?:\.[a-z_]+)?)\)\s*$")
LIST_FIELDS = {"systems", "impact.systems", "impact.agencies", "impact.integrations"}
BOOL_FIELDS = {"impact.service_interruption", "impact.performance", "software"}
TEXT_FIELDS = {
    "id",
    "title",
    "type",
    "requester",
    "reason",
    "basis",
    "description",
    "impact.level",
    "schedule.requested_at",
    "schedule.window",
    "work_plan",
    "deployment_plan",
    "test_plan",
    "rollback_plan",
    "standard_template",
    "incident",
}
KNOWN_FIELDS = LIST_FIELDS | BOOL_FIELDS | TEXT_FIELDS
CANCELLED_LABELS = {"cancelled", "canceled", "rfc:cancelled", "취소"}  # korean-by-design: user input
_TRUE = {"yes", "true", "y", "예", "있음", "[x]"}  # korean-by-design: user input
_FALSE = {"no", "false", "n", "아니오", "없음", "[ ]"}  # korean-by-design: user input


@dataclass(frozen=True)
class IssueRfc:
    """An issue as the RFC stores read it (the shape both platforms share)."""

    number: int
    title: str
    body: str
    closed: bool
    labels: tuple[str, ...]
    author: str
    where: str  # `github issue agency/minwon#12`
    updated_at: str = ""


def issue_sections(body: str) -> dict[str, str]:
    """The `### Heading (key)` sections of an issue body (issue form or template), by key."""
    sections: dict[str, str] = {}
    matches = list(_HEADING.finditer(body))
    for index, match in enumerate(matches):
        key_match = _KEY.search(match.group(1))
        if key_match is None:
            continue
        end = matches[index + 1].start() if index + 1 < len(matches) else len(body)
        text = body[match.end() : end]
        # Template guidance is an HTML comment; it is not part of the answer.
        text = re.sub(r"<!--.*?-->", "", text, flags=re.DOTALL).strip()
        sections.setdefault(key_match.group(1), text)
    return sections


def title_id(pattern: str, title: str) -> tuple[str, str] | None:
    """(RFC ID, rest of the title) when the issue title starts with an RFC ID (`[RFC-…]` also works)."""
    match = re.match(rf"\s*\[?\s*({pattern})\s*\]?\s*[:\-–—]?\s*", title)
    if match is None:
        return None
    return match.group(1), title[match.end() :].strip()


def _bool(value: str) -> bool | str:
    word = value.strip().casefold().removeprefix("- ").strip()
    if word in _TRUE:
        return True
    if word in _FALSE:
        return False
    return value  # validation names it


def _list(value: str) -> list[str]:
    items = re.split(r"[,\n]", value)
    return [
        item.strip().removeprefix("- ").strip() for item in items if item.strip().removeprefix("- ").strip()
    ]


def rfc_document(issue: IssueRfc, pattern: str) -> tuple[str | None, dict[str, object]]:
    """The RFC ID and the RFC document (as in an RFC file) that an issue holds."""
    sections = issue_sections(issue.body)
    from_title = title_id(pattern, issue.title)
    rfc_id = sections.get("id") or (from_title[0] if from_title else None)
    data: dict[str, object] = {}
    impact: dict[str, object] = {}
    schedule: dict[str, object] = {}
    for key, raw in sections.items():
        if key not in KNOWN_FIELDS or raw.strip().casefold() in NO_RESPONSE:
            continue
        value: object
        if key in LIST_FIELDS:
            value = _list(raw)
        elif key in BOOL_FIELDS:
            value = _bool(raw)
        else:
            value = raw.strip()
        target, name = (impact, key[7:]) if key.startswith("impact.") else (data, key)
        if key.startswith("schedule."):
            target, name = schedule, key[9:]
        target[name] = value
    if impact:
        data["impact"] = impact
    if schedule:
        data["schedule"] = schedule
    data.setdefault("id", rfc_id or "")
    if "title" not in data and from_title is not None and from_title[1]:
        data["title"] = from_title[1]
    if "requester" not in data and issue.author:
        data["requester"] = issue.author
    cancelled = any(label.casefold() in CANCELLED_LABELS for label in issue.labels)
    if cancelled:
        data["status"] = str(RfcStatus.CANCELLED)
    elif issue.closed:
        data["status"] = str(RfcStatus.CLOSED)
    return rfc_id, data


def rfc_entry(issue: IssueRfc, pattern: str, wanted: str | None = None) -> RfcEntry | None:
    """The issue as an RFC entry (valid or with its validation error); None if it names no RFC ID."""
    from gatekeeper.config import parse_model
    from gatekeeper.config._yaml import Located

    rfc_id, data = rfc_document(issue, pattern)
    if rfc_id is None:
        return None
    if wanted is not None and rfc_id != wanted:
        return None
    try:
        rfc = parse_model(Rfc, Located(Path(issue.where), data), "RFC issue")
    except ConfigError as exc:
        return RfcEntry(rfc_id, issue.where, error=exc.render(), error_ko=exc.render("ko"))
    if rfc.id != rfc_id:
        said = msg("{where}: id {id!r} does not match the title", where=issue.where, id=rfc.id)
        return RfcEntry(rfc_id, issue.where, error=said.en, error_ko=said.ko)
    return RfcEntry(rfc_id, issue.where, rfc=rfc)


def pick_issue(candidates: Sequence[IssueRfc], pattern: str, rfc_id: str) -> RfcEntry | None:
    """The entry for `rfc_id` among the issues that carry the label; two issues with one ID is an error."""
    entries = [e for e in (rfc_entry(i, pattern, rfc_id) for i in candidates) if e is not None]
    if not entries:
        return None
    if len(entries) > 1:
        where = ", ".join(e.where for e in entries)
        said = msg("RFC {rfc_id} is held by more than one issue: {where}", rfc_id=rfc_id, where=where)
        return RfcEntry(rfc_id, where, error=said.en, error_ko=said.ko)
    return entries[0]


class IssueRfcStore:
    """The RFC store both platforms share: RFCs are issues labelled `rfc.label` whose title starts with the
    RFC ID. A platform's store only lists the labelled issues (`_issues`)."""

    def __init__(self, config: Config) -> None:
        self.pattern = config.rfc.id_pattern
        self.label = config.rfc.label

    def _issues(self) -> list[IssueRfc]:
        raise NotImplementedError

    def get(self, rfc_id: str) -> RfcEntry | None:
        return pick_issue(self._issues(), self.pattern, rfc_id)

    def entries(self) -> Iterator[RfcEntry]:
        for issue in self._issues():
            entry = rfc_entry(issue, self.pattern)
            if entry is not None:
                yield entry

    def changed_at(self, rfc_id: str) -> datetime | None:
        """When the RFC issue last changed (an edit, a label, a comment): approvals given before are stale."""
        for issue in self._issues():
            if rfc_entry(issue, self.pattern, rfc_id) is not None and issue.updated_at:
                return datetime.fromisoformat(issue.updated_at.replace("Z", "+00:00"))
        return None


# ------------------------------------------------------------------------------------------- approvals

APPROVAL_LINE = re.compile(
    r"^[ \t>]*gatekeeper:[ \t]*(approve|reject)[ \t]+([a-z][a-z0-9-]*)((?:[ \t]+\S+)*)[ \t]*$",
    re.MULTILINE | re.IGNORECASE,
)
ENVIRONMENT_PREFIX = "gatekeeper-"
_DIGEST = re.compile(r"^sha256:([0-9a-f]{12,64})$")


@dataclass(frozen=True)
class PlatformApproval:
    """One approval or rejection given on the platform, normalised (see docs/platforms.md)."""

    step: str
    decision: str  # "approve" | "reject"
    actor: str
    actor_source: str
    at: str  # RFC 3339, the platform's time
    source: str  # "github review 81", "gitlab deployment 42 approval", ...
    rfcs: tuple[str, ...] = ()  # empty: every RFC of the change
    digest: str = ""  # a `sha256:` prefix given with the decision; empty: bound as described in the docs
    commit: str = ""  # the commit a pull-request review was given on


@dataclass(frozen=True)
class ApprovalLine:
    decision: str
    step: str
    rfcs: tuple[str, ...]
    digest: str


def approval_lines(text: str, pattern: str) -> list[ApprovalLine]:
    """The `gatekeeper: approve|reject <step> [RFC-ID…] [sha256:…]` lines of a review or comment."""
    known = {str(s) for s in Step}
    lines = []
    for match in APPROVAL_LINE.finditer(text or ""):
        step = match.group(2).casefold()
        if step not in known:
            continue
        rfcs: list[str] = []
        digest = ""
        for word in match.group(3).split():
            found = _DIGEST.match(word.casefold())
            if found:
                digest = "sha256:" + found.group(1)
            elif re.fullmatch(pattern, word):
                rfcs.append(word)
        lines.append(ApprovalLine(match.group(1).casefold(), step, tuple(rfcs), digest))
    return lines


def environment_step(name: str) -> str | None:
    """The step an environment stands for: `gatekeeper-<step>` (e.g. `gatekeeper-release-first`)."""
    lowered = name.casefold()
    if not lowered.startswith(ENVIRONMENT_PREFIX):
        return None
    step = lowered[len(ENVIRONMENT_PREFIX) :]
    return step if step in {str(s) for s in Step} else None


def bound_digest(
    approval: PlatformApproval, current: str, *, head: str = "", changed_at: datetime | None = None
) -> str:
    """The RFC digest a platform approval is bound to; anything but `current` makes it stale.

    An explicit `sha256:` prefix binds exactly. Otherwise the approval holds for the RFC as it is now
    unless the content may have changed since: a review of another commit than the one deployed, or an
    RFC (issue) edited after the approval.
    """
    if approval.digest:
        return current if current.startswith(approval.digest) else approval.digest
    if approval.commit and head and approval.commit != head:
        return ""
    if changed_at is not None:
        try:
            given = datetime.fromisoformat(approval.at)
        except ValueError:
            return ""
        if changed_at > given:
            return ""
    return current


def merge_decisions(
    ledger: Sequence[ApprovalDecision],
    platform: Sequence[PlatformApproval],
    rfc_id: str,
    current_digest: str,
    *,
    head: str = "",
    changed_at: datetime | None = None,
) -> tuple[ApprovalDecision, ...]:
    """Ledger decisions followed by the platform's for `rfc_id` (`rules.approval.after_ledger`), in the
    platform's time order, each bound to the RFC digest as `bound_digest` says."""
    mine = sorted((a for a in platform if not a.rfcs or rfc_id in a.rfcs), key=lambda a: a.at)
    given = [
        ApprovalDecision(
            seq=0,
            record_id=approval.source,
            rfc=rfc_id,
            step=approval.step,
            decision=approval.decision,
            actor=approval.actor,
            actor_source=approval.actor_source,
            digest=bound_digest(approval, current_digest, head=head, changed_at=changed_at),
            at=approval.at,
            on_platform=True,
            commit=approval.commit,
        )
        for approval in mine
    ]
    return after_ledger(ledger, given)


def latest_by_actor(reviews: Iterable[tuple[str, str, T]]) -> list[T]:
    """The latest item per actor from (actor, sort key, item) triples (a reviewer's last review counts)."""
    latest: dict[str, tuple[str, T]] = {}
    for actor, key, item in reviews:
        folded = actor.casefold()
        if folded not in latest or key >= latest[folded][0]:
            latest[folded] = (key, item)
    return [item for _, item in latest.values()]


@dataclass(frozen=True)
class PlatformFacts:
    """What the platform adds to a gate run: decisions, and the change request's author (who may not
    approve it)."""

    approvals: tuple[PlatformApproval, ...] = ()
    author: str = ""


def with_platform(
    approvals: Sequence[ApprovalFacts],
    facts: PlatformFacts,
    head: str,
    changed_at: Mapping[str, datetime | None] | None = None,
) -> tuple[ApprovalFacts, ...]:
    """The gate's approval facts with the platform's decisions merged in, and the change request's author
    counted among the people who may not approve the change."""
    author = {login_key(facts.author)} if facts.author else set()
    return tuple(
        replace(
            item,
            decisions=merge_decisions(
                item.decisions,
                facts.approvals,
                item.rfc_id,
                item.digest,
                head=head,
                changed_at=(changed_at or {}).get(item.rfc_id),
            ),
            identities=item.identities | author,
        )
        for item in approvals
    )


# What `gate.Sources.platform_approvals` holds: (approval facts, head commit) -> approval facts.
GateHook = Callable[[tuple[ApprovalFacts, ...], str], tuple[ApprovalFacts, ...]]


# A change with more distinct author and committer emails than this is not looked up account by account:
# the gate then fails closed and says to map the people in `.gatekeeper.yml` (`people:`).
# The commit status that anchors the ledger's head on the CI platform (`gatekeeper.ledger.anchor`): statuses
# cannot be deleted by anyone who can push (GitHub keeps every status of a commit; GitLab keeps them with
# the pipeline), so a head posted there outlives a rewrite of the ledger.
ANCHOR_STATUS = "gatekeeper/ledger"


@dataclass(frozen=True)
class PostedStatus:
    """A commit status found on the platform: its text, and where and by whom it was posted."""

    text: str
    where: str


MAX_COMMIT_EMAILS = 50


def emails_of_commits(commits: Iterable[CommitPeople]) -> dict[str, tuple[str, str]]:
    """Each distinct author or committer email of `commits` (casefolded) -> (a commit sha carrying it,
    "author" or "committer"): a platform links an email to one account, so one commit per email tells
    whose it is. A PlatformError when there are more than MAX_COMMIT_EMAILS."""
    found: dict[str, tuple[str, str]] = {}
    for commit in commits:
        for email, role in ((commit.author_email, "author"), (commit.committer_email, "committer")):
            key = email.strip().casefold()
            if key and key not in found:
                found[key] = (commit.sha, role)
    if len(found) > MAX_COMMIT_EMAILS:
        raise PlatformError(
            msg(
                "the change's commits carry {found_count} author and committer emails, more than "
                "the {MAX_COMMIT_EMAILS} whose accounts gatekeeper looks up",
                found_count=len(found),
                MAX_COMMIT_EMAILS=MAX_COMMIT_EMAILS,
            ),
            hint=msg("name each person's emails under `people:` in .gatekeeper.yml, or split the change"),
        )
    return found


class CommitPeople(Protocol):
    """What a commit says about its people (`adapters.git.Commit`)."""

    @property
    def sha(self) -> str: ...

    @property
    def author_email(self) -> str: ...

    @property
    def committer_email(self) -> str: ...
