"""The CI platform's OIDC issuer: ID tokens for `approve`, the issuer's keys for every verifier.

- GitHub Actions: the token is requested exactly as actions/toolkit's `getIDToken` does: GET
  `$ACTIONS_ID_TOKEN_REQUEST_URL&audience=<encodeURIComponent(audience)>` with
  `Authorization: Bearer $ACTIONS_ID_TOKEN_REQUEST_TOKEN`, answered with JSON `{"value": "<jwt>"}`. The
  runner sets both variables only in jobs with `permissions: id-token: write`.
- GitLab CI: `id_tokens:` puts the token in a variable (`platform.gitlab.oidc.token_variable`).
- Keys: trust comes from two places only. (a) The keys the governed configuration pins: a JWKS file of
  the repository (`keys_file`), which needs no network and is what self-hosted runners and air-gapped
  GitLab or GitHub Enterprise Server instances should use — keeping the issuer's retired keys in it, so
  records signed before a key rotation stay verifiable. (b) Else the keys the issuer publishes now: its
  discovery document (`<issuer>/.well-known/openid-configuration`) and its `jwks_uri`, fetched over HTTPS
  by this process, at most once per key ring. Nothing is read from, or written to, this machine's files:
  a key cache in the runner's home would be writable by every job of the same OS user (a developer's
  branch on a persistent runner), so it could never say which keys to trust. A record signed by a key the
  issuer no longer publishes and no `keys_file` pins does not count (`KeyRing.refusal` says why and how to
  keep old records verifiable). An issuer that cannot be reached raises `IssuerUnavailable`
  (exit 3; the gate turns it into `gate.error`) unless the keys are pinned: nothing counts unverified.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Protocol
from urllib.parse import quote, urlsplit

from gatekeeper.config.models import Config, GithubOidcConfig, GitlabOidcConfig
from gatekeeper.domain import ActorSource
from gatekeeper.domain.attestation import (
    ALGORITHMS,
    VERIFIED_KINDS,
    Expectation,
    KeyTrust,
    Provider,
    Verdict,
    thumbprint,
)
from gatekeeper.domain.closure import CLOSURE_PAYLOADS
from gatekeeper.domain.records import (
    Approval,
    BaselineCreated,
    Delegation,
    DeploymentFinished,
    DeploymentStarted,
    Entry,
    IncidentOpened,
    Notice,
    PayloadError,
    Pir,
    TestEvidence,
)
from gatekeeper.errors import ConfigError, PlatformError
from gatekeeper.messages import Message, msg

TIMEOUT_SECONDS = 10.0
MAX_BYTES = 1 << 20  # a discovery document, a JWKS or a token answer is a few kilobytes
# The records of a deployment (`deploy start`, `deploy finish`), signed by the job that deploys.
DEPLOYMENT_PAYLOADS = (DeploymentStarted, DeploymentFinished)


class RecordFinder(Protocol):
    """What the attestor reads a ledger through (`gatekeeper.ledger.LedgerReader.find`, which every ledger
    has): the records in a time range whose stored text carries a token."""

    def find(
        self, *, since: datetime | None = None, until: datetime | None = None, carrying: str | None = None
    ) -> Iterator[Any]: ...


class IssuerUnavailable(PlatformError):
    """The OIDC issuer (its token endpoint, discovery document or key set) could not be reached."""


# (url, headers) -> body; raises OSError or ValueError. Tests pass their own to count or fail requests.
Fetch = Callable[[str, Mapping[str, str]], bytes]


def http_get(url: str, headers: Mapping[str, str]) -> bytes:
    """GET over https, or http to this machine only (a test or air-gapped issuer): the scheme is checked
    again here, since URLs come from discovery documents too."""
    import urllib.request

    parts = urlsplit(url)
    loopback = parts.hostname in {"127.0.0.1", "localhost", "::1"}
    if parts.scheme != "https" and not (parts.scheme == "http" and loopback):
        raise ValueError(f"refusing to fetch {url[:80]!r}: only https:// (or http:// on this machine)")
    request = urllib.request.Request(url, headers=dict(headers))  # noqa: S310 - scheme checked above
    with urllib.request.urlopen(request, timeout=TIMEOUT_SECONDS) as response:  # noqa: S310
        body: bytes = response.read(MAX_BYTES + 1)
    if len(body) > MAX_BYTES:
        raise ValueError(f"{url[:80]} answered with more than {MAX_BYTES} bytes")
    return body


def _json(body: bytes, what: str) -> dict[str, Any]:
    try:
        value = json.loads(body.decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as exc:
        raise ValueError(f"{what} is not JSON: {exc}") from None
    if not isinstance(value, dict):
        raise ValueError(f"{what} is not a JSON object")
    return value


# ---------------------------------------------------------------------------------------------- tokens


def provider_of(actor_source: str) -> Provider | None:
    if actor_source == ActorSource.GITHUB_ACTIONS:
        return "github"
    if actor_source == ActorSource.GITLAB_CI:
        return "gitlab"
    return None


def github_token(env: Mapping[str, str], audience: str, fetch: Fetch = http_get) -> str | None:
    """An ID token for `audience` from the Actions runtime, as `core.getIDToken(audience)` asks for it;
    None when the job may not have one (no `permissions: id-token: write`)."""
    url, bearer = env.get("ACTIONS_ID_TOKEN_REQUEST_URL", ""), env.get("ACTIONS_ID_TOKEN_REQUEST_TOKEN", "")
    if not url or not bearer:
        return None
    full = f"{url}&audience={quote(audience, safe=_URI_COMPONENT_SAFE)}"
    try:
        answer = _json(
            fetch(
                full,
                {
                    "Authorization": f"Bearer {bearer}",
                    "Accept": "application/json",
                    "User-Agent": "actions/oidc-client",
                },
            ),
            "the ID token answer",
        )
    except (OSError, ValueError) as exc:
        raise IssuerUnavailable(
            msg(
                "could not get an ID token from the Actions runtime ({netloc}): {exc}",
                netloc=urlsplit(url).netloc,
                exc=exc,
            ),
            hint=msg("run the approval again; nothing was recorded"),
        ) from None
    value = answer.get("value")
    if not isinstance(value, str) or not value:
        raise IssuerUnavailable(
            msg("the Actions runtime answered without an ID token (`value`)"),
            hint=msg("run the approval again; nothing was recorded"),
        )
    return value


# What JavaScript's encodeURIComponent leaves as it is, besides letters, digits and "-_.~".
_URI_COMPONENT_SAFE = "!*'()"


def gitlab_token(env: Mapping[str, str], settings: GitlabOidcConfig) -> str | None:
    return env.get(settings.token_variable) or None


# ---------------------------------------------------------------------------------------------- keys


def load_pinned(path: Path) -> list[dict[str, Any]]:
    """The public keys of a pinned JWKS file (`{"keys": [...]}`); ConfigError naming the file otherwise."""
    try:
        data = _json(path.read_bytes(), str(path))
    except OSError as exc:
        raise ConfigError(
            msg(
                "{path}: cannot read the pinned OIDC keys: {reason}",
                path=path,
                reason=exc.strerror or exc,
            ),
            hint=msg("`keys_file` names a JWKS file in the repository (the issuer's /.well-known/jwks)"),
        ) from None
    except ValueError as exc:
        raise ConfigError(
            msg("{path}: {exc}", path=path, exc=exc),
            hint=msg('the file is the issuer\'s JWKS: {"keys": [...]}'),
        ) from None
    keys = data.get("keys")
    if not isinstance(keys, list) or not keys or not all(isinstance(k, dict) for k in keys):
        raise ConfigError(
            msg("{path}: `keys` is not a non-empty list of JWKs", path=path),
            hint=msg("copy the issuer's JWKS"),
        )
    for key in keys:
        if "d" in key or key.get("kty") not in ALGORITHMS:
            raise ConfigError(
                msg("{path}: every key must be a public RSA or EC key (no private part)", path=path),
                hint=msg("copy only the issuer's public JWKS"),
            )
    return keys


@dataclass
class KeyRing:
    """The keys of one issuer that this process trusts (`attestation.KeyTrust`): the keys the governed
    configuration pins (`keys_file`) when it pins any, else the keys the issuer publishes now, fetched by
    this process over HTTPS at most once. Nothing read from this machine's files outside the governed
    repository makes a key trusted: any job of the same OS user on a persistent runner could write them.
    The keys refused (neither pinned nor published: rotated out, or never the issuer's) are kept in
    `refused` (thumbprint -> kid), for `refusal`."""

    issuer: str
    pinned: list[dict[str, Any]] | None = None
    fetch: Fetch = http_get
    refused: dict[str, str] = field(default_factory=dict)
    last_refused: str = ""  # the key the latest `trusts` refused ("": it trusted the key)
    _published: list[dict[str, Any]] | None = field(default=None, init=False)
    _trusted: frozenset[str] | None = field(default=None, init=False)  # thumbprints, worked out once

    def trusts(self, jwk: Mapping[str, Any], issued_at: datetime) -> bool:
        """Whether `jwk` is pinned, or published by the issuer now: a token's time cannot make a key
        trusted that the issuer no longer publishes (only a pinned history can)."""
        key = thumbprint(jwk)
        if self._trusted is None:
            keys = self.pinned if self.pinned is not None else self.published()
            self._trusted = frozenset(thumbprint(k) for k in keys)
        self.last_refused = "" if key in self._trusted else key
        if self.last_refused:
            self.refused[key] = str(jwk.get("kid", ""))[:40]
        return not self.last_refused

    def key_for(self, kid: str) -> dict[str, Any] | None:
        """The issuer's key named `kid`: pinned, else published. Raises IssuerUnavailable when the issuer
        must be asked and cannot be reached."""
        keys = self.pinned if self.pinned is not None else self.published()
        return next((k for k in keys if k.get("kid") == kid), None)

    def published(self) -> list[dict[str, Any]]:
        """The issuer's key set, fetched once by this ring (its discovery document, then its `jwks_uri`)."""
        if self._published is None:
            self._published = self._fetch_published()
        return self._published

    def _fetch_published(self) -> list[dict[str, Any]]:
        discovery = f"{self.issuer}/.well-known/openid-configuration"
        try:
            document = _json(self.fetch(discovery, {"Accept": "application/json"}), discovery)
            if str(document.get("issuer", "")).rstrip("/") != self.issuer:
                raise ValueError(
                    f"the discovery document names the issuer {str(document.get('issuer'))[:80]!r}"
                )
            jwks_uri = document.get("jwks_uri")
            if not isinstance(jwks_uri, str):
                raise ValueError("the discovery document has no jwks_uri")
            keys = _json(self.fetch(jwks_uri, {"Accept": "application/json"}), jwks_uri).get("keys")
            if not isinstance(keys, list):
                raise ValueError(f"{jwks_uri} has no `keys` list")
        except (OSError, ValueError) as exc:
            raise IssuerUnavailable(
                msg(
                    "the OIDC issuer {issuer} could not be reached for its keys: {exc}",
                    issuer=self.issuer,
                    exc=exc,
                ),
                hint=msg(
                    "try again when the issuer answers, or pin its keys with `keys_file` "
                    "(self-hosted runners, air-gapped instances); nothing was decided from an "
                    "unverified record"
                ),
            ) from None
        usable = []
        for jwk in keys:
            if isinstance(jwk, dict) and jwk.get("kty") in ALGORITHMS and "d" not in jwk:
                try:
                    thumbprint(jwk)
                except ValueError:
                    continue
                usable.append(jwk)
        return usable

    def refusal(self, jwk: Mapping[str, Any], provider: Provider) -> tuple[str, str] | None:
        """Why a record signed by `jwk` does not count, when this ring refused the key (neither pinned nor
        published now: rotated out, or never the issuer's), and how to keep old records verifiable (en,
        ko); None when it did not refuse it."""
        try:
            kid = self.refused.get(thumbprint(jwk))
        except ValueError:
            return None
        return None if kid is None else self.note(kid, provider)

    def note(self, kid: str, provider: Provider) -> tuple[str, str]:
        """Why a record signed by the refused key `kid` does not count, and how to keep old records
        verifiable (en, ko)."""
        where = f"platform.{provider}.oidc.keys_file"
        if self.pinned is not None:
            return msg(
                "the key {kid!r} is not one {where} pins (a key the issuer retired verifies only while "
                "that file keeps it); to keep old records verifiable, keep the issuer's retired keys in it",
                kid=kid,
                where=where,
            ).pair
        return msg(
            "the key {kid!r} is not one {issuer} publishes now (rotated out, or never its key) and no "
            "keys_file pins it; to keep old records verifiable, pin the issuer's keys in {where} and keep "
            "retired keys in it",
            kid=kid,
            issuer=self.issuer,
            where=where,
        ).pair


def settings_for(config: Config, provider: Provider) -> GithubOidcConfig | GitlabOidcConfig:
    return config.platform.github.oidc if provider == "github" else config.platform.gitlab.oidc


def key_ring(
    config: Config, root: Path, env: Mapping[str, str], provider: Provider, now: datetime
) -> KeyRing:
    """The keys `provider`'s tokens are verified with: pinned by the governed configuration, else fetched
    from the issuer by this process. `env` and `now` decide nothing: no file of this machine, no clock
    makes a key trusted."""
    settings = settings_for(config, provider)
    pinned = load_pinned(config.governance_file(root, settings.keys_file)) if settings.keys_file else None
    return KeyRing(settings.issuer, pinned)


def refusal_of(attest: Any) -> Callable[[Entry[Any]], tuple[str, str] | None] | None:
    """For the readers that fold the ledger with an `Attestor`: why a record it did not count does not,
    when it carries a token: its key (`KeyRing.refusal`: neither pinned nor published now), its GitLab
    token having signed another record first (`Attestor.copies`), or what else the token does not prove
    (`Attestor.refused`), in English and Korean; None for a record without one, and for any other
    verifier."""
    if not isinstance(attest, Attestor):
        return None
    attestor = attest

    def explain(entry: Entry[Any]) -> tuple[str, str] | None:
        copied = attestor.copies.get(entry.seq)
        if copied is not None:
            return copied
        signed = getattr(entry.payload, "attestation", None)
        key = _key_refusal(attestor, entry.actor_source, signed)
        if key is not None or signed is None:
            return key  # a record with no token at all: the finding says how to get one
        return attestor.refused.get(entry.seq)  # a token that does not verify: why (another's, expired ...)

    return explain


def _key_refusal(attestor: Attestor, actor_source: str, signed: Any) -> tuple[str, str] | None:
    """`KeyRing.refusal` of the key a record's attestation carries, by the attestor's ring of its
    platform."""
    provider = provider_of(actor_source)
    ring = attestor.rings.get(provider) if provider is not None else None
    if provider is None or not isinstance(ring, KeyRing) or not isinstance(signed, Mapping):
        return None
    jwk = signed.get("jwk")
    return ring.refusal(jwk, provider) if isinstance(jwk, Mapping) else None


def repository_of(env: Mapping[str, str], provider: Provider) -> str | None:
    """The repository the CI job runs for, as the platform sets it."""
    return (env.get("GITHUB_REPOSITORY") if provider == "github" else env.get("CI_PROJECT_PATH")) or None


def without_job_repository(env: Mapping[str, str]) -> dict[str, str]:
    """`env` without the variables naming the CI job's own repository: for judging another system's
    records, which only its own repository's jobs sign (`repository_of` would stand in for it)."""
    return {k: v for k, v in env.items() if k not in ("GITHUB_REPOSITORY", "CI_PROJECT_PATH")}


def expectation(
    config: Config, env: Mapping[str, str], provider: Provider, repository: str = ""
) -> Expectation | None:
    """What tokens of `provider` must say here (`repository`: the tokens of another system's jobs); None
    when the repository is known neither from the configuration nor from the CI job (a workstation:
    nothing can be verified there)."""
    settings = settings_for(config, provider)
    repository = repository or settings.repository or repository_of(env, provider) or ""
    if not repository:
        return None
    return Expectation(
        provider=provider,
        issuer=settings.issuer,
        repository=repository,
        environment=settings.environment,
        workflow=settings.workflow,
        default_branch=settings.default_branch,
        audience=settings.audience if isinstance(settings, GitlabOidcConfig) else "",
    )


@dataclass
class Attestor:
    """Verifies the attestations of approval records as a reader folds them (`History.attest`): each one
    against the configured expectation, its record's own digest and time, and the keys this machine
    trusts. A token's `jti` counts once: a record replaying another's token is not attested. Why a record
    was not attested is kept in `refused` (seq -> (en, ko))."""

    config: Config
    root: Path
    env: Mapping[str, str]
    now: datetime
    rings: dict[str, KeyTrust] = field(default_factory=dict)
    refused: dict[int, tuple[str, str]] = field(default_factory=dict)
    # Where the judged records come from. A GitLab token is not bound to one record, so whether a record
    # is the one its token vouches for depends on every other record carrying that token. A reader that
    # reads only some records (the gate, the lock, the forms) sets `ledger`: the token's other records
    # (those of its lifetime, `_replay`) are read from it and judged first, in ledger order. A reader that
    # hands every record to this attestor in ledger order (the audit, `ledger verify`) sets `whole`.
    # With neither, no GitLab-signed record counts.
    ledger: RecordFinder | None = None
    whole: bool = False
    _seen: dict[str, int] = field(default_factory=dict)
    # GitLab: the deployments (ids) each deploying job's token signed the records of (`_once`).
    _deployed: dict[str, set[str]] = field(default_factory=dict)
    # GitLab: the first test evidence each job's token signed (a job that writes evidence writes no PIR).
    _evidenced: dict[str, int] = field(default_factory=dict)
    # GitLab: the seal the next record a job's token signs must open (`chain_link`); None: the job's first
    # record carried none (written without CI_JOB_TOKEN, or by an earlier version).
    _chain: dict[str, str | None] = field(default_factory=dict)
    # The commit each deployment whose start verified deployed: its result is signed by a job on it.
    _deploying: dict[str, str] = field(default_factory=dict)
    # GitLab tokens whose records were all judged (`_replay`), and the verdicts that gave, by record seq.
    _replayed: set[str] = field(default_factory=set)
    _replaying: set[str] = field(default_factory=set)
    _judged: dict[int, Verdict] = field(default_factory=dict)
    # Why a record whose token verified does not count as the one its token vouches for (en, ko), by seq.
    copies: dict[int, tuple[str, str]] = field(default_factory=dict)

    def _copy(self, entry: Entry[Any], reason: Message, **values: object) -> Verdict:
        said = _with(reason, **values).pair
        self.copies[entry.seq] = said
        return Verdict.refusing(said)

    def ring(self, provider: Provider) -> KeyTrust:
        if provider not in self.rings:
            self.rings[provider] = key_ring(self.config, self.root, self.env, provider, self.now)
        return self.rings[provider]

    def verdict(self, entry: Entry[Approval]) -> Verdict:
        """Whether an approval's attestation proves its actor gave it, in the approval workflow of the
        protected default branch; a token's `jti` counts once."""
        verdict = self._verified(
            entry,
            entry.payload.attestation,
            scope="approval",
            absent=_NO_ATTESTATION,
            proved=msg("a record written by a {source} actor cannot be attested"),
        )
        if verdict.ok and provider_of(entry.actor_source) == "gitlab":
            among = self._among_uses(entry, verdict)
            if among is not None:
                return among
        jti = str(verdict.claims.get("jti", ""))
        if verdict.ok and self._seen.get(jti, entry.seq) != entry.seq:
            return self._copy(entry, _USED, seq=self._seen[jti])
        if verdict.ok and jti in self._deployed:
            return self._copy(entry, _DEPLOYMENT_JOB)
        if verdict.ok and jti in self._evidenced:
            return self._copy(entry, _EVIDENCE_JOB, seq=self._evidenced[jti])
        if verdict.ok:
            self._seen[jti] = entry.seq
        return verdict

    def vouches(self, entry: Entry[Any], repository: str = "") -> Verdict:
        """Whether a record the gate counts (test evidence, a deployment's start or result, a PIR, an
        incident) carries the signature of a CI job of this repository (`repository`: of that one, for
        another system's deployment) run by the record's actor — for test evidence and a deployment's
        start, run on the commit it names (REL-P1: the tests ran on what is deployed), for a deployment's
        result on the commit its signed start deployed (records read in ledger order), for a configuration
        baseline on the protected default branch, at the commit it baselines. So its actor is who
        the platform says, for the role checks that follow. A GitLab job's token signs every record the job
        writes without naming one: it vouches for one report of each kind per commit, one start and one
        result of a deployment (and the incident its failure opens), and for one PIR, notice or incident
        (its copy onto a forged record, which comes later in the ledger, is refused)."""
        payload = entry.payload
        if isinstance(payload, DeploymentFinished):  # the job that deploys runs on the deployed commit
            commit = self._deploying.get(payload.started, "")
        else:
            speaks = TestEvidence | DeploymentStarted | BaselineCreated
            commit = payload.commit if isinstance(payload, speaks) else ""
        verdict = self._verified(
            entry,
            payload.attestation,
            scope="baseline" if isinstance(payload, BaselineCreated) else "record",
            absent=_NO_SIGNATURE,
            proved=msg("a record written by a {source} actor cannot be signed"),
            commit=commit,
            repository=repository,
        )
        if verdict.ok and provider_of(entry.actor_source) == "gitlab":
            among = self._among_uses(entry, verdict)
            if among is not None:
                return among
            verdict = self._once(entry, verdict)
        if verdict.ok and isinstance(payload, DeploymentStarted):
            self._deploying[entry.id] = payload.commit
        return verdict

    def _among_uses(self, entry: Entry[Any], verdict: Verdict) -> Verdict | None:
        """For a reader that reads only some records: `entry`'s verdict as one of the records its GitLab
        token (`verdict`, verified) signed, all of them read from `ledger` and judged in ledger order
        (`_replay`), whatever this reader read. None: judge it here, in the order records come (a whole
        reader, or the replay itself)."""
        jti = str(verdict.claims.get("jti", ""))
        if self.whole or jti in self._replaying:
            return None
        if self.ledger is None:
            return self._copy(entry, _UNSEEN_USES)
        if jti not in self._replayed:
            self._replay(jti, verdict.claims, _token_of(entry))
        judged = self._judged.get(entry.seq)
        if judged is None:  # not a record of the ledger read: nothing says what else its token signed
            return self._copy(entry, _UNSEEN_USES)
        return judged if not judged.ok else verdict

    def _replay(self, jti: str, claims: Mapping[str, Any], token: str) -> None:
        """Judge, in ledger order, every record of `ledger` that carries `token` (GitLab's, `jti`): those
        within its lifetime, as no other can verify. The first of them is the job's own — nobody else
        has the token before the job writes it — and each one after is judged against those before it
        (`_once`), exactly as a reader of the whole ledger judges them."""
        from datetime import timedelta

        from gatekeeper.domain.attestation import LEEWAY
        from gatekeeper.domain.records import PayloadError, read

        assert self.ledger is not None
        self._replaying.add(jti)
        try:
            times = [claims.get(name) for name in ("iat", "nbf", "exp")]
            numbers = [float(value) for value in times if isinstance(value, int | float)]
            if len(numbers) != len(times):
                return  # `verify` refuses such a token before this is asked
            issued, expires = min(numbers[:2]), numbers[2]
            since = datetime.fromtimestamp(issued, UTC) - LEEWAY
            until = datetime.fromtimestamp(expires, UTC) + LEEWAY + timedelta(seconds=1)
            registered = {system.id: system.repository or "" for system in self.config.systems}
            for record in self.ledger.find(since=since, until=until, carrying=token):
                try:
                    use = read(record)
                except PayloadError:
                    continue  # a malformed record counts for nothing; the readers report it
                if _token_of(use) != token:
                    continue  # the token appears elsewhere in it (a comment): not a record it signs
                if isinstance(use.payload, Approval):
                    self._judged[use.seq] = self.verdict(use)
                elif isinstance(use.payload, _VOUCHED):
                    own = use.system == self.config.system.id
                    self._judged[use.seq] = self.vouches(use, "" if own else registered.get(use.system, ""))
        finally:
            self._replaying.discard(jti)
            self._replayed.add(jti)

    def _once(self, entry: Entry[Any], verdict: Verdict) -> Verdict:
        """A GitLab token's rules (see `vouches`); `verdict` verified. Its job's records after the first
        must each open the seal the one before it carries (`chain_link`): only the job can, so a copy of
        its token onto a record of someone else's — written between two of the job's — is refused."""
        jti = str(verdict.claims.get("jti", ""))
        signed = entry.payload.attestation
        seal = signed.get("seal") if isinstance(signed, Mapping) else None
        if jti not in self._chain:  # the job's first record: nobody else had the token before it
            self._chain[jti] = seal if isinstance(seal, str) else None
        elif (expected := self._chain[jti]) is not None:
            key = signed.get("key") if isinstance(signed, Mapping) else None
            if not (isinstance(key, str) and seal_of(key) == expected):
                return self._copy(entry, _UNCHAINED)
            # Only the job opens its seal, so the chain moves on whatever the rules below make of it.
            self._chain[jti] = seal if isinstance(seal, str) else None
        return self._one_record(entry, verdict)

    def _one_record(self, entry: Entry[Any], verdict: Verdict) -> Verdict:
        """A GitLab token's one-record rule (see `vouches`); `verdict` verified."""
        payload = entry.payload
        jti = str(verdict.claims.get("jti", ""))
        # Approvals, PIRs, notices and incidents share the one-record-per-token rule (`verdict`'s `jti`).
        if isinstance(payload, TestEvidence):
            if jti in self._seen:  # a PIR's, notice's ... token copied onto test evidence
                return self._copy(entry, _VOUCHED_FOR, seq=self._seen[jti])
            if jti in self._deployed and self._chain.get(jti) is None:
                # Unchained, a deploying job's token copied onto evidence could not be told from its own
                # (a chained job's later reports, such as smoke tests after the deployment, open its seal).
                return self._copy(entry, _DEPLOYMENT_JOB)
            key = f"{jti}|{payload.kind}|{payload.commit}"
            self._evidenced.setdefault(jti, entry.seq)
        elif isinstance(payload, DEPLOYMENT_PAYLOADS):
            if jti in self._seen:  # a PIR's, notice's ... token copied onto a deployment record
                return self._copy(entry, _VOUCHED_FOR, seq=self._seen[jti])
            deployed = self._deployed.get(jti)
            if (
                isinstance(payload, DeploymentFinished)
                and deployed is not None
                and payload.started not in deployed
            ):
                return self._copy(entry, _DEPLOYMENT_JOB)  # the start's token copied onto another's result
            key = f"{jti}|{entry.kind}"
        else:
            key = jti
            deployed = self._deployed.get(jti)
            named = payload.deployment_id if isinstance(payload, IncidentOpened) else None
            if deployed is not None and named not in deployed:
                return self._copy(entry, _DEPLOYMENT_JOB)
            if deployed is None and jti in self._evidenced:  # a test job's token copied onto a PIR ...
                return self._copy(entry, _EVIDENCE_JOB, seq=self._evidenced[jti])
        first = self._seen.setdefault(key, entry.seq)
        if first != entry.seq:
            return self._copy(entry, _VOUCHED_FOR, seq=first)
        if isinstance(payload, DEPLOYMENT_PAYLOADS):
            deployment = entry.id if isinstance(payload, DeploymentStarted) else payload.started
            self._deployed.setdefault(jti, set()).add(deployment)
        return verdict

    def _verified(
        self,
        entry: Entry[Any],
        attestation: Mapping[str, Any] | None,
        *,
        scope: str,
        absent: Message,
        proved: Message,
        commit: str = "",
        repository: str = "",
    ) -> Verdict:
        """`domain.attestation.verify` of a typed record's token against its own digest, time and actor and
        the configured expectation (`scope`: "approval" or "record"; `repository`: another system's, for
        its records); `absent` says a record without one, `proved` that a workstation's record cannot be
        (its field `source`)."""
        from gatekeeper.domain.attestation import draft_digest, verify

        provider = provider_of(entry.actor_source)
        if attestation is None:
            return Verdict.refusing(absent.pair)
        if provider is None:
            return Verdict.refusing(_with(proved, source=entry.actor_source).pair)
        expect = expectation(self.config, self.env, provider, repository)
        if expect is None:
            return Verdict.refusing(_unknown_repository(provider))
        digest = draft_digest(
            record_id=entry.id,
            kind=entry.kind,
            system=entry.system,
            rfcs=entry.rfcs,
            actor=entry.actor,
            actor_source=entry.actor_source,
            at=entry.moment,
            data=entry.payload.dump(),
        )
        return verify(
            attestation,
            expect=dataclasses.replace(expect, scope=scope),
            actor=entry.actor,
            moment=entry.moment,
            digest=digest,
            trust=self.ring(provider),
            commit=commit,
        )

    def __call__(self, entry: Entry[Any]) -> bool:
        verdict = self.vouches(entry) if isinstance(entry.payload, _VOUCHED) else self.verdict(entry)
        if not verdict.ok:
            self.refused[entry.seq] = verdict.reasons
        return verdict.ok


def _with(message: Message, **values: object) -> Message:
    """`message`, declared without its fields where it is defined, with them."""
    return Message(message.text, {**message.fields, **values})


# Why a record does not count that carries no token of the CI platform.
_NO_ATTESTATION = msg("the record carries no attestation")
_NO_SIGNATURE = msg("the record carries no signature of a CI job")


def _unknown_repository(provider: Provider) -> tuple[str, str]:
    """Why nothing can be verified where the repository is known neither from the configuration nor from
    the CI job (en, ko)."""
    return msg(
        "the repository is unknown here: set platform.{provider}.oidc.repository to verify tokens outside CI",
        provider=provider,
    ).pair


# Why a verified GitLab token does not make a record count: the token already signed another (`_copy`
# fills in `seq`).
_USED = msg("the token was already used by ledger record {seq}")
_VOUCHED_FOR = msg("the job's token already vouched for ledger record {seq}")
_DEPLOYMENT_JOB = msg(
    "the token is a deploying job's, which vouches for that deployment's records only (a copy onto another "
    "record)"
)
_EVIDENCE_JOB = msg(
    "the token is a test job's, which vouches for its test evidence only (ledger record {seq}; a copy onto "
    "another record)"
)
_UNCHAINED = msg(
    "the record does not open the seal of the record its job's token signed before it: the token was copied "
    "onto it"
)
_UNSEEN_USES = msg(
    "the ledger's other records signed by this GitLab token were not read, so whether it already vouched "
    "for another record is unknown"
)
# The records `Attestor.vouches` judges (a job's signature); every other verified kind is an approval.
_VOUCHED = (
    TestEvidence,
    Pir,
    Notice,
    IncidentOpened,
    Delegation,
    BaselineCreated,
    *DEPLOYMENT_PAYLOADS,
    *CLOSURE_PAYLOADS,
)


def _token_of(entry: Entry[Any]) -> str:
    signed = getattr(entry.payload, "attestation", None)
    token = signed.get("token") if isinstance(signed, Mapping) else None
    return token if isinstance(token, str) else ""


def sign_record(
    config: Config,
    root: Path,
    env: Mapping[str, str],
    now: datetime,
    draft: Any,
    ledger: RecordFinder | None = None,
) -> dict[str, Any] | None:
    """The CI platform's signature of a record a job writes (any kind but `approval`, which `approve`
    attests with its stricter checks): an OIDC ID token bound to the record's digest (GitHub: its audience;
    GitLab: its `jti` and job id stored with it) and the issuer's key that verifies it. None where the job
    has no token (no `id-token` permission, no `id_tokens:`) or runs on a workstation. A GitLab job's
    records are chained to one another through the ledger they go to (`chain_link`). Raises
    IssuerUnavailable when the issuer's keys cannot be had: nothing is written unsigned that could be."""
    import jwt

    from gatekeeper.domain.attestation import audience, digest_of, verify

    provider = provider_of(draft.actor_source)
    if provider is None:
        return None
    digest = digest_of(draft)
    token = (
        github_token(env, audience(digest))
        if provider == "github"
        else gitlab_token(env, config.platform.gitlab.oidc)
    )
    expect = expectation(config, env, provider)
    if token is None or expect is None:
        return None
    ring = key_ring(config, root, env, provider, now)
    try:
        kid = jwt.get_unverified_header(token).get("kid")
        claims = jwt.decode(token, options={"verify_signature": False})
    except jwt.InvalidTokenError:
        return None
    jwk = ring.key_for(kid) if isinstance(kid, str) else None
    signed: dict[str, Any] = {"provider": provider, "token": token, "jwk": jwk or {}, "digest": digest}
    if provider == "gitlab":
        signed.update(jti=claims.get("jti"), job_id=claims.get("job_id"))
        signed.update(chain_link(env, claims, token, ledger))
    record_scope = dataclasses.replace(expect, scope="record")
    verdict = verify(
        signed, expect=record_scope, actor=draft.actor, moment=draft.at, digest=digest, trust=ring
    )
    return signed if verdict.ok else None


# GitLab: the job's own secret its records' chain is derived from (set by every GitLab job; never stored).
CHAIN_VARIABLE = "CI_JOB_TOKEN"


def seal_of(key: str) -> str:
    return "sha256:" + hashlib.sha256(key.encode("utf-8")).hexdigest()


def chain_link(
    env: Mapping[str, str], claims: Mapping[str, Any], token: str, ledger: RecordFinder | None
) -> dict[str, str]:
    """The link binding the next record a GitLab job signs with its token to those it signed before.

    GitLab's token is not bound to one record, and each record the job writes puts it in the ledger for
    anyone to copy before the job writes its next one (a deployment's result after its start). So record n
    of the job carries `seal`, the digest of key n+1, and (from the second on) `key`: key n, which opens
    the seal of record n-1. The keys are derived from the job's CI_JOB_TOKEN, which is never stored: only
    the job can open its seal. n is the number of the job's seals already in `ledger`. Empty without
    CI_JOB_TOKEN or a ledger: the records are then judged by the one-record rules alone."""
    import hmac

    from gatekeeper.domain.attestation import LEEWAY

    job_token, jti, issued = env.get(CHAIN_VARIABLE, ""), claims.get("jti"), claims.get("iat")
    if not job_token or ledger is None or not isinstance(jti, str) or not isinstance(issued, int | float):
        return {}
    secret = hmac.new(job_token.encode("utf-8"), f"gatekeeper record chain|{jti}".encode(), hashlib.sha256)

    def key(n: int) -> str:
        return hmac.new(secret.digest(), str(n).encode("utf-8"), hashlib.sha256).hexdigest()

    since = datetime.fromtimestamp(float(issued), UTC) - LEEWAY
    sealed = set()
    for record in ledger.find(since=since, carrying=token):
        signed = record.data.get("attestation") if isinstance(record.data, Mapping) else None
        if isinstance(signed, Mapping) and signed.get("token") == token:
            sealed.add(signed.get("seal"))
    n = 0
    while seal_of(key(n + 1)) in sealed:
        n += 1
    return {"seal": seal_of(key(n + 1)), **({"key": key(n)} if n else {})}


def record_verdict(record: Any, config: Config, env: Mapping[str, str], trust: KeyTrust) -> tuple[str, str]:
    """Whether a record other than an approval carries a signature that verifies: "signed", "unsigned",
    or why not (en, ko; a status twice)."""
    from gatekeeper.domain.attestation import draft_digest, verify

    data = record.data if isinstance(record.data, Mapping) else {}
    signed = data.get("attestation")
    if signed is None:
        return "unsigned", "unsigned"
    if not isinstance(signed, Mapping):
        return msg("the signature is not an object").pair
    provider = provider_of(record.actor_source)
    expect = expectation(config, env, provider) if provider is not None else None
    if expect is None:
        return msg("the repository is unknown here: set platform.<name>.oidc.repository").pair
    try:
        moment = datetime.fromisoformat(record.at)
    except (TypeError, ValueError):
        return msg("the record's time is not a time").pair
    digest = draft_digest(
        record_id=record.id,
        kind=record.kind,
        system=record.system,
        rfcs=record.rfcs,
        actor=record.actor,
        actor_source=record.actor_source,
        at=moment,
        data=data,
    )
    verdict = verify(
        signed,
        expect=dataclasses.replace(expect, scope="record"),
        actor=record.actor,
        moment=moment,
        digest=digest,
        trust=trust,
    )
    return ("signed", "signed") if verdict.ok else verdict.reasons


def recheck(
    records: Iterable[Any], config: Config, root: Path, env: Mapping[str, str], now: datetime
) -> Iterator[tuple[Any, str, str]]:
    """(record, verdict, its Korean) for every approval record — "attested", "unattested", or why its
    attestation does not verify — and every other record — "signed", "unsigned" or why its signature does
    not verify (`ledger verify --attestations`; a status is the same word twice). Raises IssuerUnavailable
    when the keys cannot be had."""
    from gatekeeper.domain.records import PayloadError, read

    attestor = Attestor(config, root, env, now, whole=True)  # `records`: every one, in ledger order
    for record in records:
        carries = isinstance(record.data, Mapping) and "attestation" in record.data
        provider = provider_of(record.actor_source)
        ring = attestor.ring(provider) if provider is not None else None
        if isinstance(ring, KeyRing):
            ring.last_refused = ""  # so a refusal seen below is this record's key's
        if record.kind in VERIFIED_KINDS and record.kind != "approval" and carries:
            try:  # as the gate reads it (test evidence: signed by a job that ran on the commit it names)
                counted = read(record)
            except PayloadError as exc:
                yield record, *_malformed(exc)
                continue
            verdict = attestor.vouches(counted)
            yield (
                record,
                *(("signed", "signed") if verdict.ok else _with_refusal(verdict.reasons, ring, provider)),
            )
            continue
        if record.kind != "approval":
            if provider is None and isinstance(record.data, Mapping) and "attestation" not in record.data:
                continue  # a workstation's record: nothing to sign it
            said = record_verdict(record, config, env, attestor.ring(provider or "github"))
            yield (
                record,
                *(said if said[0] in {"signed", "unsigned"} else _with_refusal(said, ring, provider)),
            )
            continue
        try:
            entry = read(record)
        except PayloadError as exc:
            yield record, *_malformed(exc)
            continue
        if entry.payload.attestation is None:
            yield record, "unattested", "unattested"
            continue
        verdict = attestor.verdict(entry)
        yield (
            record,
            *(("attested", "attested") if verdict.ok else _with_refusal(verdict.reasons, ring, provider)),
        )


def _malformed(exc: PayloadError) -> tuple[str, str]:
    return msg("malformed: {exc}", exc=exc.message).pair


def _with_refusal(
    reason: tuple[str, str], ring: KeyTrust | None, provider: Provider | None
) -> tuple[str, str]:
    """Why a record does not verify (en, ko): where its key was refused just now, which key and how to keep
    old records verifiable (`KeyRing.refusal`), else `reason`."""
    if not isinstance(ring, KeyRing) or provider is None or not ring.last_refused:
        return reason
    kid = ring.refused[ring.last_refused]
    return ring.note(kid, provider)
