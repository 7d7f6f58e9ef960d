"""The files users write: `.gatekeeper.yml`, RFC files and policy packs (DESIGN §2, contract).

Every model is strict (no silent coercion of "1" to 1) and forbids unknown keys. Times are the one
deliberate exception to strictness: YAML gives them as strings, and they are parsed here, with an offset
required so that a runner's own time zone can never change a decision.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Annotated, Any, Literal, TypeVar
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    PrivateAttr,
    SerializerFunctionWrapHandler,
    Strict,
    field_validator,
    model_serializer,
    model_validator,
)

from gatekeeper.config.language import Language
from gatekeeper.domain import ChangeType, EvidenceKind, Grade, RfcStatus, Role, Severity, Step
from gatekeeper.domain.catalogue import RULES
from gatekeeper.domain.environments import DEFAULT_NAME, EnvironmentKind, Environments

T = TypeVar("T")
_MISSING = object()


class Strict_(BaseModel):
    model_config = ConfigDict(strict=True, extra="forbid", frozen=True)


def _aware(value: datetime) -> datetime:
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError("a time needs an offset, e.g. 2026-11-24T19:30:00+09:00 or ...Z")
    return value


def _zone(value: str) -> str:
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError, OSError):  # "Asia" names tzdata's folder: IsADirectoryError
        raise ValueError("unknown time zone; use an IANA name such as Asia/Seoul") from None
    return value


def _regex(value: str) -> str:
    try:
        re.compile(value)
    except re.error as exc:
        raise ValueError(f"not a valid regular expression: {exc}") from None
    return value


def _grade(value: object) -> object:
    # Grades come as YAML ints; IntEnum in strict mode would insist on the enum instance.
    if isinstance(value, bool):
        # JSON-mode validation would read `true` as 1.
        raise ValueError("a grade is a number from 1 to 4, not true/false")
    if isinstance(value, int) and value in (1, 2, 3, 4):
        return Grade(value)
    return value


AwareDatetime = Annotated[datetime, Strict(False), AfterValidator(_aware)]
LaxDate = Annotated[date, Strict(False)]
ZoneName = Annotated[str, AfterValidator(_zone)]
GradeValue = Annotated[Grade, BeforeValidator(_grade)]
Login = Annotated[str, Field(min_length=1, max_length=200, pattern=r"^@?[A-Za-z0-9][A-Za-z0-9._/-]*$")]
Identifier = Annotated[str, Field(min_length=1, max_length=100, pattern=r"^[a-z0-9][a-z0-9._-]*$")]
ALL_GRADES: tuple[Grade, ...] = tuple(Grade)
ALL_TYPES: tuple[ChangeType, ...] = tuple(ChangeType)


# ---------------------------------------------------------------------------------------------- config


class SystemConfig(Strict_):
    id: Identifier
    name: str = Field(min_length=1)
    grade: GradeValue
    audience: Literal["public", "internal"] = "internal"
    agency: str = Field(default="", max_length=200)  # the agency that runs it, as forms name it


class RegisteredSystem(SystemConfig):
    """Another system whose records share this ledger (`systems:`): what the portfolio views (`audit`,
    `kpi` with `--system`) judge it by. Read, like the rest of this file, from the protected default
    branch; a system with records but no entry is judged as grade 1, the strictest."""

    roles: dict[Role, tuple[Login, ...]] = Field(default_factory=dict)
    repository: str | None = Field(
        default=None,
        min_length=1,
        max_length=300,
        pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]*(/[A-Za-z0-9][A-Za-z0-9._-]*)+$",
        description="the repository whose CI jobs deploy this system: owner/name (GitHub) or group/project "
        "(GitLab); the signatures of its records are checked against it where the pack requires "
        "attestation (`deploy.sequence`, and `audit --system`, which verifies no other system's record "
        "against this configuration's own repository)",
    )


def _unique_systems(value: tuple[RegisteredSystem, ...]) -> tuple[RegisteredSystem, ...]:
    seen: set[str] = set()
    for system in value:
        if system.id in seen:
            raise ValueError(f"system {system.id!r} is registered twice")
        seen.add(system.id)
    return value


class CalendarConfig(Strict_):
    country: Literal["KR"] = "KR"
    extra_closed_days: tuple[LaxDate, ...] = ()
    extra_business_days: tuple[LaxDate, ...] = ()

    @model_validator(mode="after")
    def _disjoint(self) -> CalendarConfig:
        both = set(self.extra_closed_days) & set(self.extra_business_days)
        if both:
            days = ", ".join(sorted(d.isoformat() for d in both))
            raise ValueError(f"a day cannot be both closed and a business day: {days}")
        return self


class FreezePeriod(Strict_):
    """A period with no deployments: either a one-off range or a recurring cron start with a duration."""

    name: str = Field(min_length=1)
    start: AwareDatetime | None = None
    end: AwareDatetime | None = None
    cron: str | None = None
    duration_hours: float | None = Field(default=None, gt=0, le=24 * 366)
    timezone: ZoneName | None = None
    change_types: tuple[ChangeType, ...] = (ChangeType.NORMAL, ChangeType.STANDARD)

    @model_validator(mode="after")
    def _one_shape(self) -> FreezePeriod:
        one_off = self.start is not None or self.end is not None
        recurring = self.cron is not None or self.duration_hours is not None
        if one_off == recurring:
            raise ValueError("give either start and end, or cron and duration_hours")
        if one_off and (self.start is None or self.end is None or self.end <= self.start):
            raise ValueError("a one-off freeze needs start and end, with end after start")
        if recurring and (self.cron is None or self.duration_hours is None):
            raise ValueError("a recurring freeze needs both cron and duration_hours")
        if self.cron is not None and len(self.cron.split()) != 5:
            raise ValueError(f"cron {self.cron!r} must have five fields: minute hour day month weekday")
        return self


class RfcConfig(Strict_):
    id_pattern: Annotated[str, AfterValidator(_regex)] = r"RFC-\d{4}-\d{4}"
    store: Literal["files", "github", "gitlab"] = "files"
    dir: str = "changes"
    label: str = "rfc"
    # The least reason a commit message gives beyond its RFC ID (letters and digits; Hangul and Han count
    # two); unset: the policy pack's `commit.reason_min_chars`.
    reason_min_chars: int | None = Field(default=None, ge=0, le=1000)

    @field_validator("id_pattern")
    @classmethod
    def _safe_pattern(cls, value: str) -> str:
        from gatekeeper.domain.rfcid import check_id_pattern

        check_id_pattern(value)
        return value


class EvidenceSource(Strict_):
    kind: EvidenceKind
    paths: tuple[str, ...] = Field(min_length=1)
    format: Literal["auto", "junit", "xunit", "nunit", "trx"] = "auto"


class GitLedgerConfig(Strict_):
    backend: Literal["git"] = "git"
    branch: str = "gatekeeper/ledger"
    remote: str = "origin"
    repository: str | None = None  # a separate ledger repository (URL or path); default: this one
    push_retries: int = Field(default=8, ge=0, le=50)


class SqliteLedgerConfig(Strict_):
    backend: Literal["sqlite"]
    path: str = ".gatekeeper/ledger.db"


class PostgresLedgerConfig(Strict_):
    backend: Literal["postgres"]
    dsn_env: str = Field(default="GATEKEEPER_LEDGER_DSN", pattern=r"^[A-Za-z_][A-Za-z0-9_]*$")
    schema_name: str = Field(default="gatekeeper", alias="schema", pattern=r"^[a-z_][a-z0-9_]*$")

    model_config = ConfigDict(strict=True, extra="forbid", frozen=True, populate_by_name=True)


def _default_backend(value: object) -> object:
    # `git` is the default backend (DESIGN §2), so `ledger: {branch: x}` need not say `backend: git`.
    if isinstance(value, dict) and "backend" not in value:
        return {"backend": "git", **value}
    return value


LedgerConfig = Annotated[
    GitLedgerConfig | SqliteLedgerConfig | PostgresLedgerConfig,
    Field(discriminator="backend"),
    BeforeValidator(_default_backend),
]


def repository_globs(value: tuple[str, ...]) -> tuple[str, ...]:
    # Artefact globs are expanded on disk from the repository root: one that is absolute or climbs out
    # with `..` would read files outside it, and git paths never look like that either.
    problems = []
    for pattern in value:
        if not pattern:
            problems.append("'' is empty")
        elif "\\" in pattern:
            problems.append(f"{pattern!r} uses \\ between folders")
        elif pattern.startswith("/"):
            problems.append(f"{pattern!r} is absolute")
        elif re.match(r"^[A-Za-z]:", pattern):
            problems.append(f"{pattern!r} names a drive")
        elif ".." in pattern.split("/"):
            problems.append(f"{pattern!r} leaves the repository with ..")
    if problems:
        raise ValueError(
            f"{'; '.join(problems)}; paths are globs relative to the repository root, with / between "
            "folders and no .. segment, e.g. 'app/**/*.py'"
        )
    return value


class ConfigurationItem(Strict_):
    id: Identifier
    kind: Literal["source", "schema", "environment", "document", "artifact"]
    paths: tuple[str, ...] = Field(
        min_length=1,
        description="globs relative to the repository root, matched against the files of the commit (the "
        "files on disk for `artifact`): `*` and `?` match across folders too, `**/` also matches no folder "
        "(`app/**/*.py` takes `app/main.py`)",
    )

    @field_validator("paths")
    @classmethod
    def _inside_repository(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        return repository_globs(value)


class BaselineConfig(Strict_):
    items: tuple[ConfigurationItem, ...] = ()


def _https_or_loopback(value: str) -> str:
    # An issuer is trusted for who approved: plain http only on this machine (a test or air-gapped issuer).
    from urllib.parse import urlsplit

    parts = urlsplit(value)
    loopback = parts.hostname in {"127.0.0.1", "localhost", "::1"}
    if parts.scheme != "https" and not (parts.scheme == "http" and loopback):
        raise ValueError("an issuer is an https:// URL (http:// only for 127.0.0.1 or localhost)")
    if parts.query or parts.fragment or not parts.hostname:
        raise ValueError("an issuer is a URL without query or fragment, e.g. https://gitlab.example.go.kr")
    return value.rstrip("/")


def _relative_file(value: str) -> str:
    if value.startswith("/") or "\\" in value or ".." in value.split("/"):
        raise ValueError("a path relative to the repository root, with / between folders and no ..")
    return value


IssuerUrl = Annotated[str, AfterValidator(_https_or_loopback)]
RepoFile = Annotated[str, Field(min_length=1), AfterValidator(_relative_file)]
EnvName = Annotated[str, Field(pattern=r"^[A-Za-z_][A-Za-z0-9_]*$")]


class OidcConfig(Strict_):
    """How approvals are attested by the CI platform's OIDC issuer (`approvals.attestation` in the pack
    says whether they must be). The issuer's keys come from `keys_file` (a JWKS pinned in the repository:
    self-hosted runners, air-gapped instances), else from its discovery document, fetched by each run;
    nothing on the runner's disk makes a key trusted (`adapters.oidc`)."""

    issuer: IssuerUrl
    keys_file: RepoFile | None = Field(
        default=None,
        description="a JWKS file (relative to the repository root) pinning the issuer's keys: the only trust "
        "without the network, recommended on self-hosted runners and air-gapped instances; keep retired keys "
        "in it so records they signed stay verifiable",
    )
    environment: str = Field(
        default="gatekeeper-approvals",
        min_length=1,
        description="the protected environment approval jobs run in (also matches `NAME/<anything>`)",
    )
    default_branch: str = Field(default="main", min_length=1)
    repository: str | None = Field(
        default=None,
        description="owner/name (GitHub) or group/project (GitLab) the tokens must name; default: the CI "
        "context's repository",
    )


class GithubOidcConfig(OidcConfig):
    issuer: IssuerUrl = "https://token.actions.githubusercontent.com"
    workflow: RepoFile = Field(
        default=".github/workflows/gatekeeper-approve.yml",
        description="the approval workflow; its token's job_workflow_ref must name it on the default branch",
    )


class GitlabOidcConfig(OidcConfig):
    issuer: IssuerUrl = "https://gitlab.com"
    workflow: RepoFile = Field(
        default=".gitlab-ci.yml",
        description="the pipeline file; its token's ci_config_ref_uri must name it on the default branch",
    )
    token_variable: EnvName = Field(
        default="GATEKEEPER_ID_TOKEN", description="the variable `id_tokens:` puts the token in"
    )
    audience: str = Field(default="gatekeeper", min_length=1, description="the `aud` of `id_tokens:`")


class GithubPlatformConfig(Strict_):
    comment: bool = True
    deployments: bool = True
    anchors: bool = Field(
        default=True,
        description="after a job stores records, post the ledger's head (seq:hash) as the commit status "
        "`gatekeeper/ledger` of the job's commit, where no one who can push can delete it; "
        "`gatekeeper ledger verify --anchors-from` reads them back",
    )
    api_url: str | None = None
    oidc: GithubOidcConfig = GithubOidcConfig()


class GitlabPlatformConfig(Strict_):
    comment: bool = True
    deployments: bool = True
    anchors: bool = Field(
        default=True,
        description="after a job stores records, post the ledger's head (seq:hash) as the commit status "
        "`gatekeeper/ledger` of the job's commit, where no one who can push can delete it; "
        "`gatekeeper ledger verify --anchors-from` reads them back",
    )
    url: str | None = None
    oidc: GitlabOidcConfig = GitlabOidcConfig()


class PlatformConfig(Strict_):
    github: GithubPlatformConfig = GithubPlatformConfig()
    gitlab: GitlabPlatformConfig = GitlabPlatformConfig()


def _full_sha(value: str) -> str:
    if not re.fullmatch(r"[0-9a-f]{40}|[0-9a-f]{64}", value):
        raise ValueError(
            "a full commit id: 40 (or, for SHA-256 repositories, 64) lower-case hex digits, as "
            "`git rev-parse HEAD` prints it; an abbreviated id could later name another commit"
        )
    return value


class AdoptionConfig(Strict_):
    """Where governance starts in a repository that had history before gatekeeper (`gatekeeper init`)."""

    commit: Annotated[str, AfterValidator(_full_sha)] = Field(
        description="the last commit before governance: it and its ancestors are exempt from the commit "
        "rules (check-commits) and the audit's commit items; every later commit is governed"
    )
    at: AwareDatetime = Field(description="when governance was adopted (ISO 8601 with an offset)")


class PersonAliases(Strict_):
    names: tuple[Annotated[str, Field(min_length=1)], ...] = ()
    emails: tuple[Annotated[str, Field(min_length=3, pattern=r"^[^@\s]+@[^@\s]+$")], ...] = ()


# -- declared environments and the standard-change catalogue (additive to DESIGN §2) ------------------


class EnvironmentConfig(Strict_):
    """One deployment environment: its kind decides which rules apply; its aliases are other names for it
    (compared without case or surrounding whitespace)."""

    kind: EnvironmentKind = Field(description="production (every rule), staging or test (the pack's list)")
    aliases: tuple[Annotated[str, Field(min_length=1, max_length=100)], ...] = ()


def _declared_environments(value: dict[str, EnvironmentConfig]) -> dict[str, EnvironmentConfig]:
    if not value:
        raise ValueError("declare at least one environment, e.g. {production: {kind: production}}")
    Environments.of((name, env.kind, env.aliases) for name, env in value.items())  # one name, one env
    return value


DEFAULT_ENVIRONMENT_CONFIG = {DEFAULT_NAME: EnvironmentConfig(kind=EnvironmentKind.PRODUCTION)}


class StandardChangesConfig(Strict_):
    """Where the standard-change catalogue (단순변경 목록) lives: a versioned file in the repository."""

    catalogue: RepoFile = Field(
        description="the catalogue file, relative to the repository root (`gatekeeper schema catalogue`)"
    )


class GovernanceConfig(Strict_):
    """What else counts as a governance change (`config.changed`). Always governance: this configuration
    file, the policy pack file, the standard-change catalogue, pinned issuer keys, the CI files
    (`.github/workflows/`, `.github/actions/`, `.gitlab-ci.yml`, `.gitlab/`) and CODEOWNERS."""

    paths: tuple[str, ...] = Field(
        default=(),
        description="more files whose change is a governance change (globs relative to the repository root, "
        "e.g. deployment scripts or CI templates included from elsewhere in the repository)",
    )


@dataclass(frozen=True, slots=True)
class GoverningBase:
    """Where a CI job's configuration came from: the default branch's tip (`commit`), its files copied to
    `folder` (the configuration's folder as it is in that commit)."""

    branch: str
    commit: str
    folder: Path
    config_file: str  # the configuration file, relative to the repository root


# -- notifications (issue 19, additive): webhooks and mail about approvals, notices, debts, incidents ----

NotifyEvent = Literal[
    "approval-requested",
    "approval-given",
    "notice-due",
    "debts-overdue",
    "incident-opened",
    "incident-report-due",
]
ALL_NOTIFY_EVENTS: tuple[NotifyEvent, ...] = (
    "approval-requested",
    "approval-given",
    "notice-due",
    "debts-overdue",
    "incident-opened",
    "incident-report-due",
)
# Secrets are named, never written: only variables made for notifications, so a channel can never be
# pointed at the ledger's DSN or the platform's token.
NotifySecretEnv = Annotated[
    str,
    Field(
        pattern=r"^GATEKEEPER_NOTIFY_[A-Z0-9_]+$",
        description="the NAME of an environment variable holding the secret (GATEKEEPER_NOTIFY_...)",
    ),
]
MailAddress = Annotated[str, Field(min_length=3, max_length=254, pattern=r"^[^@\s<>,;\"]+@[A-Za-z0-9.-]+$")]


MailHost = Annotated[str, Field(min_length=1, max_length=253, pattern=r"^[A-Za-z0-9.:-]+$")]


def _loopback(host: str | None) -> bool:
    return host in {"127.0.0.1", "localhost", "::1"}


def _webhook_url(value: str) -> str:
    from urllib.parse import urlsplit

    parts = urlsplit(value)
    if parts.scheme != "https" and not (parts.scheme == "http" and _loopback(parts.hostname)):
        raise ValueError("a webhook is an https:// URL (http:// only for 127.0.0.1 or localhost)")
    if not parts.hostname:
        raise ValueError("a webhook URL names a host, e.g. https://hooks.example.go.kr/gatekeeper")
    if parts.username or parts.password or parts.query or parts.fragment:
        raise ValueError(
            "a URL written in the file carries no user, password, query or fragment: a URL holding a token "
            "(Slack, Mattermost, Teams) is given by `url_env`, the name of the variable that holds it"
        )
    return value


WebhookUrl = Annotated[str, AfterValidator(_webhook_url)]


class WebhookChannelConfig(Strict_):
    """One webhook: `format` picks the payload (`generic` JSON, or what Slack, Mattermost and Microsoft Teams
    incoming webhooks read); the URL is written (`url`) or, when it holds a token, named (`url_env`)."""

    name: Identifier
    format: Literal["generic", "slack", "mattermost", "teams"] = "generic"
    url: WebhookUrl | None = Field(
        default=None, description="https:// (http:// only to 127.0.0.1), without user, password or query"
    )
    url_env: NotifySecretEnv | None = Field(
        default=None, description="the NAME of a GATEKEEPER_NOTIFY_* variable holding a URL with a token"
    )
    token_env: NotifySecretEnv | None = Field(
        default=None, description="a variable whose value is sent as `Authorization: Bearer ...`"
    )
    events: tuple[NotifyEvent, ...] = Field(
        default=ALL_NOTIFY_EVENTS, min_length=1, description="the events it receives (default: every one)"
    )

    @model_validator(mode="after")
    def _one_url(self) -> WebhookChannelConfig:
        if (self.url is None) == (self.url_env is None):
            raise ValueError("give either url or url_env (the name of the variable holding the URL)")
        if self.token_env is not None and self.url_env is None:
            raise ValueError(
                "a token goes only to a URL from the environment: give the URL by url_env too (a URL "
                "written in the file can be changed by the change under review)"
            )
        return self


class MailChannelConfig(Strict_):
    """SMTP mail: `to` lists the addresses per event (an event not listed is not mailed)."""

    name: Identifier = "mail"
    host: MailHost | None = None
    host_env: NotifySecretEnv | None = Field(
        default=None,
        description="the NAME of a GATEKEEPER_NOTIFY_* variable holding the host (needed with password_env)",
    )
    port: int = Field(default=587, ge=1, le=65535)
    security: Literal["starttls", "ssl", "none"] = Field(
        default="starttls", description="starttls (587), ssl (465), none (only for 127.0.0.1 / localhost)"
    )
    from_: MailAddress = Field(alias="from")
    username: str | None = Field(default=None, min_length=1, max_length=200)
    password_env: NotifySecretEnv | None = Field(
        default=None, description="the NAME of a GATEKEEPER_NOTIFY_* variable holding the password"
    )
    to: dict[NotifyEvent, tuple[MailAddress, ...]] = Field(
        min_length=1, description="event -> the addresses it is mailed to"
    )

    model_config = ConfigDict(strict=True, extra="forbid", frozen=True, populate_by_name=True)

    @model_validator(mode="after")
    def _safe(self) -> MailChannelConfig:
        if (self.host is None) == (self.host_env is None):
            raise ValueError("give either host or host_env (the name of the variable holding the host)")
        if self.security == "none" and self.host is not None and not _loopback(self.host):
            raise ValueError("security: none sends mail in the clear; only for 127.0.0.1 or localhost")
        if (self.username is None) != (self.password_env is None):
            raise ValueError("give both username and password_env, or neither")
        if self.password_env is not None and self.host_env is None:
            raise ValueError(
                "a password goes only to a host from the environment: give the host by host_env too (a "
                "host written in the file can be changed by the change under review)"
            )
        if not any(self.to.values()):
            raise ValueError("`to` lists no address")
        return self


class NotificationsConfig(Strict_):
    """Where gatekeeper tells people what waits for them. A channel that fails is a warning: it never
    changes a decision, and no record waits for it."""

    webhooks: tuple[WebhookChannelConfig, ...] = ()
    mail: tuple[MailChannelConfig, ...] = ()
    timeout_seconds: float = Field(default=5, gt=0, le=30, description="per connection attempt")
    retries: int = Field(default=2, ge=0, le=5, description="more attempts after a failure that may pass")
    backoff_seconds: float = Field(default=1, ge=0, le=30, description="first wait; doubles each retry")
    budget_seconds: float = Field(
        default=60, gt=0, le=600, description="the most one command spends notifying; the rest is skipped"
    )

    @model_validator(mode="after")
    def _unique_names(self) -> NotificationsConfig:
        names = [c.name for c in self.webhooks] + [c.name for c in self.mail]
        twice = sorted({n for n in names if names.count(n) > 1})
        if twice:
            raise ValueError(f"channel name(s) {', '.join(twice)} used twice; give each channel its own")
        return self


class AuditPlan(Strict_):
    """The configuration audits planned (CFG-KPI 형상 검사 수행율 = audits performed ÷ audits planned,
    seed 002 형상관리 line 1022)."""

    per: Literal["month", "quarter", "year"] = Field(
        default="month", description="the period each `count` of audits is planned for (local calendar)"
    )
    count: int = Field(default=1, ge=1, le=1000, description="audits planned in each period")


class Config(Strict_):
    version: Literal[1]
    system: SystemConfig
    policy: str = "kr-ap-sop"
    timezone: ZoneName = "Asia/Seoul"
    lang: Language | None = Field(
        default=None,
        description="the language of messages, errors, forms and reports (`en` or `ko`); `--lang` and "
        "GATEKEEPER_LANG choose before it; absent: the policy pack's `lang` (`kr-ap-sop`: ko)",
    )
    calendar: CalendarConfig = CalendarConfig()
    freeze: tuple[FreezePeriod, ...] = ()
    rfc: RfcConfig = RfcConfig()
    roles: dict[Role, tuple[Login, ...]] = Field(default_factory=dict)
    evidence: tuple[EvidenceSource, ...] = ()
    ledger: LedgerConfig = GitLedgerConfig()
    baseline: BaselineConfig = BaselineConfig()
    platform: PlatformConfig = PlatformConfig()
    adoption: AdoptionConfig | None = None

    # login -> the names and emails the person commits under, so separation of duties knows them
    people: dict[Login, PersonAliases] = Field(default_factory=dict)
    # Deployment environments by canonical name (default: `production` alone) and the standard changes.
    environments: Annotated[dict[Identifier, EnvironmentConfig], AfterValidator(_declared_environments)] = (
        Field(default_factory=lambda: dict(DEFAULT_ENVIRONMENT_CONFIG))
    )
    standard_changes: StandardChangesConfig | None = None
    governance: GovernanceConfig = GovernanceConfig()
    notifications: NotificationsConfig = NotificationsConfig()
    # The other systems sharing the ledger, for the portfolio views (`--system`).
    systems: Annotated[tuple[RegisteredSystem, ...], AfterValidator(_unique_systems)] = Field(
        default=(), max_length=5000
    )
    audit_plan: AuditPlan | None = Field(
        default=None,
        description="the configuration audits planned, for the audit execution rate (audits performed ÷ "
        "planned, seed 002:1022); absent: one audit in each month with deployments",
    )
    # In CI: the protected base this configuration was read from (`adapters.governance`); None: the work
    # tree.
    _base: GoverningBase | None = PrivateAttr(default=None)

    @model_validator(mode="after")
    def _own_system_not_registered(self) -> Config:
        if any(s.id == self.system.id for s in self.systems):
            raise ValueError(
                f"systems: {self.system.id!r} is this configuration's own system, described by `system:`"
            )
        return self

    @property
    def governing_base(self) -> GoverningBase | None:
        return self._base

    def governance_file(self, root: Path, name: str) -> Path:
        """A governance file the configuration names (policy pack, catalogue, pinned keys), relative to the
        repository root: in CI as the protected base holds it, never as the change under deployment does."""
        return (self._base.folder if self._base is not None else root) / name

    def declared_environments(self) -> Environments:
        return Environments.of((name, env.kind, env.aliases) for name, env in self.environments.items())


# ---------------------------------------------------------------------------------------------- RFC


class Impact(Strict_):
    level: Literal["low", "medium", "high"] = "low"
    systems: tuple[str, ...] = ()
    agencies: tuple[str, ...] = ()
    integrations: tuple[str, ...] = ()
    service_interruption: bool = False
    performance: bool = False
    configuration_items: tuple[Annotated[str, Field(min_length=1, max_length=200)], ...] = Field(
        default=(),
        max_length=500,
        description="the configuration items the change alters: two changes planned at overlapping times "
        "on one item are `calendar.collision`",
    )


def _planned_window(value: str) -> str:
    from gatekeeper.domain.schedule import parse_window

    parse_window(value)
    return value


PlannedWindowText = Annotated[str, AfterValidator(_planned_window)]


class Schedule(Strict_):
    requested_at: AwareDatetime | None = None
    window: PlannedWindowText = Field(
        default="",
        description="when the work is planned: 'HH:MM-HH:MM' (daily, the system's time zone), "
        "'YYYY-MM-DD HH:MM-HH:MM', or 'START/END' with offsets; deploying outside it is "
        "`rfc.outside-window`",
    )


class RelatedDocument(Strict_):
    """A document the change touches, with its revision (seed 003 변경 요청서: 변경할 구성요소 및 관련 문서의
    이름 및 개정상태)."""

    name: str = Field(min_length=1, max_length=300)
    revision: str = Field(default="", max_length=100)


class PlannedTests(Strict_):
    """The test cases the change's test plan defines, per kind of test: the functions functional coverage
    is measured against (TST-KPI 테스트 커버리지, seed 002 테스트관리 line 743)."""

    planned: dict[EvidenceKind, Annotated[int, Field(ge=0, le=1_000_000)]] = Field(
        default_factory=dict,
        description="test cases planned per kind (unit, integration, performance, acceptance), e.g. "
        "{integration: 12, acceptance: 5}; coverage = cases executed (evidence recorded for the RFC, at "
        "most the plan per kind) ÷ cases planned",
    )


class Rfc(Strict_):
    id: str = Field(min_length=1, max_length=100)
    title: str = Field(min_length=1, max_length=300)
    type: ChangeType
    requester: Login
    requester_org: str = Field(
        default="", max_length=200, description="the requester's organisation (seed 003)"
    )
    request_date: date | None = Field(default=None, description="the day the change was requested (seed 003)")
    urgency: Literal["low", "normal", "high", "critical"] = Field(
        default="normal",
        description=(
            "how urgent the requester says the change is "  # korean-by-design: seed term
            "(seed 003: 긴급 정도)"  # korean-by-design: the seed's own term
        ),
    )
    worker: Login | None = Field(
        default=None, description="who carries out the change (CHG-PLAN: the change plan names its worker)"
    )
    documents: tuple[RelatedDocument, ...] = Field(
        default=(), max_length=200, description="documents the change touches, with their revision (seed 003)"
    )
    systems: tuple[Identifier, ...] = Field(min_length=1)
    reason: str = Field(min_length=1)
    basis: str = ""
    description: str = ""
    impact: Impact = Impact()
    schedule: Schedule = Schedule()
    work_plan: str = ""
    deployment_plan: str = ""
    test_plan: str = ""
    tests: PlannedTests | None = Field(
        default=None, description="the test cases the test plan defines, counted per kind (TST-KPI coverage)"
    )
    rollback_plan: str = ""
    software: bool = True
    standard_template: str | None = None
    incident: str | None = None
    status: RfcStatus = RfcStatus.ACTIVE
    governance_files: tuple[Annotated[str, Field(min_length=1, max_length=500)], ...] = Field(
        default=(),
        max_length=200,
        description="the governance files this change alters (globs: .gatekeeper.yml, the policy pack, CI "
        "files, CODEOWNERS): a change of one it does not name is `config.changed`; only a normal change may "
        "name any",
    )

    @model_serializer(mode="wrap")
    def _without_absent_tests(self, handler: SerializerFunctionWrapHandler) -> Any:
        # An RFC that plans no test cases dumps as it did before `tests` existed: its digest, which
        # approvals bind to, does not change.
        data = handler(self)
        if self.tests is None and isinstance(data, dict):
            data.pop("tests", None)
        return data

    @model_validator(mode="after")
    def _type_fields(self) -> Rfc:
        if self.type is ChangeType.STANDARD and not self.standard_template:
            raise ValueError("a standard change names its pre-approved standard_template")
        if self.type is ChangeType.EMERGENCY and not self.incident:
            raise ValueError("an emergency change names the incident it fixes in `incident`")
        return self


# ---------------------------------------------------------------------------------------------- catalogue


class StandardChange(Strict_):
    """One pre-defined standard change (단순변경, seed 002 변경관리 자. 1): what it may touch, how big it
    may be, when it may run and to whom its result is reported."""

    id: Annotated[str, Field(min_length=1, max_length=100, pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]*$")]
    title: str = Field(min_length=1, max_length=300)
    systems: tuple[Identifier, ...] = Field(min_length=1)
    paths: tuple[str, ...] = Field(default=(), description="globs of the files it may change")
    items: tuple[Identifier, ...] = Field(
        default=(), description="configuration items (`baseline.items` ids) whose files it may change"
    )
    max_files: int = Field(default=20, ge=1, le=100_000)
    max_lines: int = Field(default=500, ge=1, le=10_000_000, description="lines added plus removed")
    window: PlannedWindowText = ""
    report_to: tuple[Role | Login, ...] = Field(
        min_length=1, description="roles or logins the officer reports the result to"
    )

    @model_validator(mode="after")
    def _scoped(self) -> StandardChange:
        if not self.paths and not self.items:
            raise ValueError("a standard change names the paths or configuration items it may change")
        return self

    @field_validator("paths")
    @classmethod
    def _relative(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        return repository_globs(value)


class StandardCatalogue(Strict_):
    """The standard-change catalogue file (`standard_changes.catalogue`)."""

    version: Literal[1]
    changes: tuple[StandardChange, ...] = ()

    @field_validator("changes")
    @classmethod
    def _unique(cls, value: tuple[StandardChange, ...]) -> tuple[StandardChange, ...]:
        seen: set[str] = set()
        for change in value:
            if change.id in seen:
                raise ValueError(f"standard change {change.id!r} is listed twice")
            seen.add(change.id)
        return value


# ---------------------------------------------------------------------------------------------- policy


class Scope(Strict_):
    """Which systems and changes an entry applies to; empty means all."""

    grades: tuple[GradeValue, ...] = ALL_GRADES
    types: tuple[ChangeType, ...] = ALL_TYPES

    def matches(self, grade: Grade, change_type: ChangeType) -> bool:
        return grade in self.grades and change_type in self.types


class SeverityScope(Scope):
    severity: Severity


class RuleSetting(Strict_):
    """How one rule applies: the first matching scope gives the severity, else `default`."""

    when: tuple[SeverityScope, ...] = ()
    default: Severity = Severity.OFF

    def severity(self, grade: Grade, change_type: ChangeType) -> Severity:
        for scope in self.when:
            if scope.matches(grade, change_type):
                return scope.severity
        return self.default


class CommitPolicy(Strict_):
    trailers: tuple[str, ...] = ("Refs", "Change-Request")
    reason_min_chars: int = Field(default=10, ge=0, le=1000)
    # Merge commits whose every parent is itself in the checked range add no change of their own.
    merges: Literal["check", "exempt-when-parents-checked"] = "exempt-when-parents-checked"
    # A revert names the RFC of the commit it reverts when it carries it; otherwise it needs its own.
    reverts: Literal["check", "inherit"] = "check"
    # fixup!/squash! commits are meant to vanish before merge: they are checked like any other.
    fixups: Literal["check"] = "check"


class WindowPolicy(Strict_):
    business_start: str = Field(default="09:00", pattern=r"^([01][0-9]|2[0-3]):[0-5][0-9]$")
    business_end: str = Field(default="18:00", pattern=r"^([01][0-9]|2[0-3]):[0-5][0-9]$")


class StepDefinition(Strict_):
    roles: tuple[Role, ...] = Field(min_length=1)
    requester_may_approve: bool = False
    # How many members of the roles decide the step together (a CAB's quorum, N of M): each counts once
    # (a deputy and their delegator are one), and separation of duties applies to each (issue 19).
    quorum: int = Field(
        default=1,
        ge=1,
        le=50,
        description="how many members decide the step together (N of M); each counts once, never an author",
    )


class StepRequirement(SeverityScope):
    step: Step


class RetroReview(Scope):
    steps: tuple[Step, ...] = Field(min_length=1)
    deadline_hours: float = Field(gt=0)


class AttestationLevel(Scope):
    """Whether approvals must carry the CI platform's OIDC token: `required` (an unattested approval does
    not count), `recommended` (it counts, with a warning), `off`."""

    level: Literal["required", "recommended", "off"]


class ApprovalPolicy(Strict_):
    steps: dict[Step, StepDefinition] = Field(default_factory=dict)
    order: tuple[Step, ...] = tuple(Step)
    required: tuple[StepRequirement, ...] = ()
    local_actor_grades: tuple[GradeValue, ...] = ()  # grades whose approvals may come from a workstation
    retro_review: tuple[RetroReview, ...] = ()
    attestation: tuple[AttestationLevel, ...] = ()  # first matching entry; none: off
    # Steps whose approval certifies one commit (REL-P1: the release plan's steps): `approve` records the
    # commit, and the approval holds only for a deployment of that commit (`approval.other-commit`).
    commit_steps: tuple[Step, ...] = ()
    # Per step, the test evidence kinds that must be in the ledger for the deployed commit before the step's
    # approval (TST-P4/REL-P1: release-first after the integration test, release-second after the
    # pre-verification test); an approval recorded earlier is `approval.before-evidence`.
    certified_by: dict[Step, tuple[EvidenceKind, ...]] = Field(default_factory=dict)

    def attestation_level(self, grade: Grade, change_type: ChangeType = ChangeType.NORMAL) -> str:
        for entry in self.attestation:
            if entry.matches(grade, change_type):
                return entry.level
        return "off"

    @model_validator(mode="after")
    def _defined(self) -> ApprovalPolicy:
        for requirement in self.required:
            if requirement.step not in self.steps:
                raise ValueError(f"required step {requirement.step!s} has no definition under `steps`")
        return self


class EvidenceRequirement(SeverityScope):
    kinds: tuple[EvidenceKind, ...] = Field(min_length=1)


class EvidencePolicy(Strict_):
    min_success_rate: float = Field(default=95.0, ge=0, le=100)
    required: tuple[EvidenceRequirement, ...] = ()
    # Whether test evidence read from the ledger must carry the signature of a CI job of this repository
    # that ran on the commit it names (REL-P1: the tests passed on what is deployed): `required` (unsigned
    # ledger evidence does not count), `recommended` (it counts, with `tests.unattested`), `off`. Reports in
    # the workspace are the job's own and need none. First matching entry; none: off.
    attestation: tuple[AttestationLevel, ...] = ()

    def attestation_level(self, grade: Grade, change_type: ChangeType = ChangeType.NORMAL) -> str:
        for entry in self.attestation:
            if entry.matches(grade, change_type):
                return entry.level
        return "off"


class PlanPolicy(Strict_):
    min_chars: int = Field(default=20, ge=0)
    placeholders: tuple[str, ...] = (
        "n/a",
        "na",
        "-",
        "tbd",
        "todo",
        "none",
        "없음",  # korean-by-design: a placeholder a Korean plan is written with
        "해당없음",  # korean-by-design: a placeholder a Korean plan is written with
        "추후",  # korean-by-design: a placeholder a Korean plan is written with
        "미정",  # korean-by-design: a placeholder a Korean plan is written with
    )


class PirRequirement(Scope):
    deadline_days: float = Field(gt=0)
    only_after_cab: bool = True


class DeployPolicy(Strict_):
    lock_stale_hours: float = Field(default=12, gt=0)
    pir: tuple[PirRequirement, ...] = ()
    # Whose PIR records settle a PIR (seed 002 변경관리 4.3: the CAB reviews, the agency officer runs it);
    # empty: anyone's.
    pir_reviewers: tuple[Role, ...] = ()
    # Whose notice records tell the related agencies (REL-NOTICE; seed 002 연계관리 정책 3: the agency
    # officer announces the work plan to them); empty: anyone's.
    notice_by: tuple[Role, ...] = ()


class BaselinePolicy(Strict_):
    """Configuration baselines (CFG-P1)."""

    # Whose `baseline.created` records set the baseline that `baseline.drift` compares with (seed 002
    # 형상관리 1.2: 운영관리자는 베이스라인을 정의한다); empty: anyone's. Where the grade needs the pipeline
    # (`approvals.local_actor_grades`) or the CI platform's signature (`approvals.attestation`), a baseline
    # counts only as recorded by a job of the system's repository on its protected default branch.
    recorded_by: tuple[Role, ...] = ()


class ClosurePolicy(Strict_):
    """Closing a release and its change after a successful deployment to production (seed 002 배포관리
    3.1–4.3, 변경관리 4.2, 테스트관리 4.4; REL-P3, TST-P5, REL-CONSISTENCY). Each list names the roles whose
    records count; empty: anyone's."""

    # Days after the deployment finished by which it is accepted, tested in production, reviewed and
    # closed; later, the `release.*-overdue` rules hold back the system's later changes.
    deadline_days: float = Field(default=30, gt=0)
    # The test kinds run in production after the deployment and bound to it (`evidence add --deployment`).
    production_tests: tuple[EvidenceKind, ...] = ()
    # Who runs the acceptance test (인수테스트: 운영기관 담당자(변경요청자)); the RFC's requester too, with
    # `requester_may_accept`.
    acceptors: tuple[Role, ...] = ()
    requester_may_accept: bool = True
    # Who checks that the change plan, the release plan and the result agree (배포관리 4.1: 운영관리자).
    reviewers: tuple[Role, ...] = ()
    # Who closes the release and the change (변경관리 4.2: 운영기관 담당자).
    closers: tuple[Role, ...] = ()


class IncidentPolicy(Strict_):
    # Incident grade = system grade, lowered one step outside these hours when fixed before the next
    # weekday's opening (SOP INC).
    internal_hours: tuple[str, str] = ("09:00", "18:00")
    public_hours: tuple[str, str] = ("09:00", "21:00")
    # Whose `incident open` counts as the incident an emergency change fixes (CHG-P1, INC: 장애 인지/접수 is
    # the operator's and the agency's): a developer who merely has write access opens none.
    openers: tuple[Role, ...] = (Role.AGENCY_OFFICER, Role.AGENCY_MANAGER, Role.OPERATOR_MANAGER)
    # INC: incidents of these grades get an intermediate report when unresolved after this many minutes.
    report_grades: tuple[GradeValue, ...] = (Grade.ONE, Grade.TWO)
    intermediate_report_minutes: float = Field(default=30, gt=0)


class EnvironmentRules(Strict_):
    """The rules that apply to deployments to an environment of one kind (`gate.error` always does)."""

    rules: tuple[str, ...] = ()


class KpiTarget(Strict_):
    """A KPI the pack reports; `op` and `value` set its target (absent: measured, no target)."""

    id: str
    sop: str
    op: Literal[">=", "<="] | None = None
    value: float | None = None

    @model_validator(mode="after")
    def _both_or_neither(self) -> KpiTarget:
        if (self.op is None) != (self.value is None):
            raise ValueError("a KPI target needs both op and value, or neither")
        return self


class Policy(Strict_):
    version: Literal[1]
    name: Identifier
    title: str = ""
    lang: Language = Field(
        default="en",
        description="the language of messages when neither `--lang`, GATEKEEPER_LANG nor the "
        "configuration's `lang` chooses one",
    )
    rules: dict[str, RuleSetting] = Field(default_factory=dict)
    commit: CommitPolicy = CommitPolicy()
    window: WindowPolicy = WindowPolicy()
    approvals: ApprovalPolicy = ApprovalPolicy()
    tests: EvidencePolicy = EvidencePolicy()
    plans: PlanPolicy = PlanPolicy()
    deploy: DeployPolicy = DeployPolicy()
    incidents: IncidentPolicy = IncidentPolicy()
    closure: ClosurePolicy = ClosurePolicy()
    baseline: BaselinePolicy = BaselinePolicy()
    kpis: tuple[KpiTarget, ...] = ()
    # Staging and test environments: the rules that apply there (a kind not listed gets every rule, as
    # production does).
    environments: dict[Literal["staging", "test"], EnvironmentRules] = Field(default_factory=dict)

    @field_validator("environments")
    @classmethod
    def _known_environment_rules(cls, value: dict[str, EnvironmentRules]) -> dict[str, EnvironmentRules]:
        unknown = sorted({r for e in value.values() for r in e.rules} - set(RULES))
        if unknown:
            raise ValueError(f"unknown rule id(s) {', '.join(unknown)}; known: {', '.join(sorted(RULES))}")
        return value

    def rules_in(self, kind: str) -> frozenset[str] | None:
        """The rules that apply in an environment of `kind`; None: every rule."""
        found = self.environments.get(kind)  # type: ignore[call-overload]
        return None if found is None else frozenset((*found.rules, "gate.error"))

    @field_validator("rules")
    @classmethod
    def _known_rules(cls, value: dict[str, RuleSetting]) -> dict[str, RuleSetting]:
        unknown = sorted(set(value) - set(RULES))
        if unknown:
            raise ValueError(f"unknown rule id(s) {', '.join(unknown)}; known: {', '.join(sorted(RULES))}")
        return value

    # What the pack answers, remembered: the audit asks the same questions for every deployment.
    _answers: dict[tuple[object, ...], Any] = PrivateAttr(default_factory=dict)

    def severity(self, rule: str, grade: int, change_type: ChangeType | str) -> Severity:
        """The severity of `rule` for a system grade and change type; `off` if the pack omits it."""
        answers = self._remembered()
        key = ("severity", rule, grade, change_type)
        found: Severity | None = answers.get(key)
        if found is None:
            setting = self.rules.get(rule)
            found = (
                Severity.OFF if setting is None else setting.severity(Grade(grade), ChangeType(change_type))
            )
            answers[key] = found
        return found

    def _remembered(self) -> dict[tuple[object, ...], Any]:
        # The private store directly: pydantic's attribute lookup costs more than the answer.
        store: dict[str, Any] = self.__pydantic_private__  # type: ignore[assignment]
        return store["_answers"]  # type: ignore[no-any-return]

    def remembered(self, key: tuple[object, ...], compute: Callable[[], T]) -> T:
        """`compute()`, once per `key`: for answers that depend on the pack alone (it is frozen)."""
        answers = self._remembered()
        found = answers.get(key, _MISSING)
        if found is _MISSING:
            found = answers[key] = compute()
        return found  # type: ignore[no-any-return]
