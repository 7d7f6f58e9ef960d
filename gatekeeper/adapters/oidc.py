"""The CI platform's OIDC issuer: ID tokens for `approve`, the issuer's keys for every verifier.

- GitHub Actions: the token is requested exactly as actions/toolkit's `getIDToken` does: GET
  `$ACTIONS_ID_TOKEN_REQUEST_URL&audience=<encodeURIComponent(audience)>` with
  `Authorization: Bearer $ACTIONS_ID_TOKEN_REQUEST_TOKEN`, answered with JSON `{"value": "<jwt>"}`. The
  runner sets both variables only in jobs with `permissions: id-token: write`.
- GitLab CI: `id_tokens:` puts the token in a variable (`platform.gitlab.oidc.token_variable`).
- Keys: pinned in a JWKS file of the repository (`keys_file`, for air-gapped GitLab and GitHub Enterprise
  Server), else the issuer's discovery document (`<issuer>/.well-known/openid-configuration`) and its
  `jwks_uri`. What was fetched is cached in `$XDG_STATE_HOME/gatekeeper/oidc/` (else
  `~/.local/state/gatekeeper/oidc/`) with the time each key was last seen published, so a persistent
  runner re-verifies old approvals after the issuer rotated its keys, and a key is never trusted for a
  token issued after the last time it was seen published. An issuer that cannot be reached raises
  `IssuerUnavailable` (exit 3; the gate turns it into `gate.error`) unless the cache or the pinned keys
  already answer.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
import tempfile
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
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
    Delegation,
    Entry,
    IncidentOpened,
    Notice,
    Pir,
    TestEvidence,
)
from gatekeeper.errors import ConfigError, PlatformError

TIMEOUT_SECONDS = 10.0
MAX_BYTES = 1 << 20  # a discovery document, a JWKS or a token answer is a few kilobytes
CACHE_TTL = timedelta(hours=1)  # how long a fetched key set answers without asking the issuer again
REFETCH_AFTER = timedelta(seconds=60)  # an unknown key asks the issuer again, at most this often


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
            f"could not get an ID token from the Actions runtime ({urlsplit(url).netloc}): {exc}",
            hint="run the approval again; nothing was recorded",
            ko=f"Actions 런타임({urlsplit(url).netloc})에서 ID 토큰을 받지 못했습니다: {exc}",
            hint_ko="승인을 다시 실행하십시오. 기록된 것은 없습니다",
        ) from None
    value = answer.get("value")
    if not isinstance(value, str) or not value:
        raise IssuerUnavailable(
            "the Actions runtime answered without an ID token (`value`)",
            ko="Actions 런타임의 응답에 ID 토큰(`value`)이 없습니다",
            hint_ko="승인을 다시 실행하십시오. 기록된 것은 없습니다",
        )
    return value


# What JavaScript's encodeURIComponent leaves as it is, besides letters, digits and "-_.~".
_URI_COMPONENT_SAFE = "!*'()"


def gitlab_token(env: Mapping[str, str], settings: GitlabOidcConfig) -> str | None:
    return env.get(settings.token_variable) or None


# ---------------------------------------------------------------------------------------------- keys


def _state_dir(env: Mapping[str, str]) -> Path | None:
    base = env.get("XDG_STATE_HOME") or (
        str(Path(env["HOME"]) / ".local" / "state") if env.get("HOME") else ""
    )
    return Path(base) / "gatekeeper" / "oidc" if base and Path(base).is_absolute() else None


def load_pinned(path: Path) -> list[dict[str, Any]]:
    """The public keys of a pinned JWKS file (`{"keys": [...]}`); ConfigError naming the file otherwise."""
    try:
        data = _json(path.read_bytes(), str(path))
    except OSError as exc:
        raise ConfigError(
            f"{path}: cannot read the pinned OIDC keys: {exc.strerror or exc}",
            hint="`keys_file` names a JWKS file in the repository (the issuer's /.well-known/jwks)",
            ko=f"{path}: 고정한 OIDC 키를 읽을 수 없습니다: {exc.strerror or exc}",
            hint_ko="`keys_file`은 저장소 안의 JWKS 파일(발급자의 /.well-known/jwks)을 가리켜야 합니다",
        ) from None
    except ValueError as exc:
        raise ConfigError(
            f"{path}: {exc}",
            hint='the file is the issuer\'s JWKS: {"keys": [...]}',
            ko=f"{path}: {exc}",
            hint_ko='발급자의 JWKS 파일이어야 합니다: {"keys": [...]}',
        ) from None
    keys = data.get("keys")
    if not isinstance(keys, list) or not keys or not all(isinstance(k, dict) for k in keys):
        raise ConfigError(
            f"{path}: `keys` is not a non-empty list of JWKs",
            hint="copy the issuer's JWKS",
            ko=f"{path}: `keys`가 비어 있지 않은 JWK 목록이 아닙니다",
            hint_ko="발급자의 JWKS를 그대로 복사하십시오",
        )
    for key in keys:
        if "d" in key or key.get("kty") not in ALGORITHMS:
            raise ConfigError(
                f"{path}: every key must be a public RSA or EC key (no private part)",
                ko=f"{path}: 모든 키는 공개 RSA 또는 EC 키여야 합니다(개인 키 부분 없음)",
                hint_ko="발급자의 공개 JWKS만 복사하십시오",
            )
    return keys


@dataclass
class KeyRing:
    """The keys of one issuer that this machine trusts (`attestation.KeyTrust`)."""

    issuer: str
    now: datetime
    pinned: list[dict[str, Any]] | None = None
    cache: Path | None = None
    fetch: Fetch = http_get
    _state: dict[str, Any] | None = field(default=None, init=False)
    _fetched_now: bool = field(default=False, init=False)

    def trusts(self, jwk: Mapping[str, Any], issued_at: datetime) -> bool:
        key = thumbprint(jwk)
        if self.pinned is not None:
            return key in {thumbprint(k) for k in self.pinned}
        state = self._load()
        if self._known(state, key, issued_at):
            return True
        fetched = _moment(state.get("fetched_at"))
        if self._fetched_now or (fetched is not None and self.now - fetched < REFETCH_AFTER):
            return False
        state = self.refresh()
        return self._known(state, key, issued_at)

    def key_for(self, kid: str) -> dict[str, Any] | None:
        """The issuer's key named `kid`: pinned, else published (asking the issuer unless a fresh cache
        already holds it). Raises IssuerUnavailable when the issuer must be asked and cannot be reached."""
        if self.pinned is not None:
            return next((k for k in self.pinned if k.get("kid") == kid), None)
        state = self._load()
        fetched = _moment(state.get("fetched_at"))
        if fetched is None or self.now - fetched >= CACHE_TTL or _by_kid(state, kid) is None:
            state = self.refresh()
        return _by_kid(state, kid)

    def _known(self, state: Mapping[str, Any], key: str, issued_at: datetime) -> bool:
        seen = state.get("keys", {}).get(key)
        if not isinstance(seen, dict):
            return False
        fetched, last_seen = _moment(state.get("fetched_at")), _moment(seen.get("last_seen"))
        if last_seen is None:
            return False
        published_now = fetched is not None and last_seen >= fetched and self.now - fetched < CACHE_TTL
        # A key seen published after the token was issued was the issuer's key when it signed.
        return published_now or issued_at <= last_seen

    def _load(self) -> dict[str, Any]:
        if self._state is None:
            self._state = {}
            if self.cache is not None:
                try:
                    loaded = json.loads(self.cache.read_text(encoding="utf-8"))
                except (OSError, ValueError):
                    loaded = None  # no cache, or one this machine half-wrote: ask the issuer
                if isinstance(loaded, dict) and loaded.get("issuer") == self.issuer:
                    self._state = loaded
        return self._state

    def refresh(self) -> dict[str, Any]:
        """Fetch the discovery document and the key set; remember when each key was seen."""
        published = self._published()
        state = self._load()
        stamp = self.now.astimezone(UTC).isoformat()
        keys = state.setdefault("keys", {})
        for jwk in published:
            entry = keys.setdefault(thumbprint(jwk), {"jwk": jwk, "first_seen": stamp})
            entry["last_seen"] = stamp
        state.update(issuer=self.issuer, fetched_at=stamp)
        self._fetched_now = True
        self._save(state)
        return state

    def _published(self) -> list[dict[str, Any]]:
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
                f"the OIDC issuer {self.issuer} could not be reached for its keys: {exc}",
                hint="try again when the issuer answers, or pin its keys with `keys_file` (air-gapped "
                "instances); nothing was decided from an unverified approval",
                ko=f"OIDC 발급자 {self.issuer}에서 키를 받을 수 없습니다: {exc}",
                hint_ko=(
                    "발급자가 응답할 때 다시 시도하거나 `keys_file`로 키를 고정하십시오(망분리 환경). "
                    "검증되지 않은 승인으로는 아무것도 판단하지 않았습니다"
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

    def _save(self, state: Mapping[str, Any]) -> None:
        if self.cache is None:
            return
        try:
            self.cache.parent.mkdir(parents=True, exist_ok=True)
            handle, name = tempfile.mkstemp(dir=self.cache.parent, prefix=".keys-", suffix=".tmp")
            with os.fdopen(handle, "w", encoding="utf-8") as out:
                json.dump(state, out, sort_keys=True)
            Path(name).replace(self.cache)
        except OSError:
            pass  # a cache is an optimisation: the next run asks the issuer again


def _by_kid(state: Mapping[str, Any], kid: str) -> dict[str, Any] | None:
    for entry in state.get("keys", {}).values():
        jwk = entry.get("jwk") if isinstance(entry, dict) else None
        if isinstance(jwk, dict) and jwk.get("kid") == kid:
            return jwk
    return None


def _moment(value: Any) -> datetime | None:
    try:
        moment = datetime.fromisoformat(value) if isinstance(value, str) else None
    except ValueError:
        return None
    return moment if moment is not None and moment.tzinfo is not None else None


def settings_for(config: Config, provider: Provider) -> GithubOidcConfig | GitlabOidcConfig:
    return config.platform.github.oidc if provider == "github" else config.platform.gitlab.oidc


def key_ring(
    config: Config, root: Path, env: Mapping[str, str], provider: Provider, now: datetime
) -> KeyRing:
    settings = settings_for(config, provider)
    pinned = load_pinned(config.governance_file(root, settings.keys_file)) if settings.keys_file else None
    state = _state_dir(env)
    cache = None
    if state is not None:
        cache = state / (hashlib.sha256(settings.issuer.encode("utf-8")).hexdigest()[:32] + ".json")
    return KeyRing(settings.issuer, now, pinned, cache)


def repository_of(env: Mapping[str, str], provider: Provider) -> str | None:
    """The repository the CI job runs for, as the platform sets it."""
    return (env.get("GITHUB_REPOSITORY") if provider == "github" else env.get("CI_PROJECT_PATH")) or None


def expectation(config: Config, env: Mapping[str, str], provider: Provider) -> Expectation | None:
    """What tokens of `provider` must say here; None when the repository is known neither from the
    configuration nor from the CI job (a workstation: nothing can be verified there)."""
    settings = settings_for(config, provider)
    repository = settings.repository or repository_of(env, provider)
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
    was not attested is kept in `refused` (seq -> reason)."""

    config: Config
    root: Path
    env: Mapping[str, str]
    now: datetime
    rings: dict[str, KeyTrust] = field(default_factory=dict)
    refused: dict[int, str] = field(default_factory=dict)
    _seen: dict[str, int] = field(default_factory=dict)

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
            absent="the record carries no attestation",
            proved="attested",
        )
        jti = str(verdict.claims.get("jti", ""))
        if verdict.ok and self._seen.get(jti, entry.seq) != entry.seq:
            return Verdict(False, f"the token was already used by ledger record {self._seen[jti]}")
        if verdict.ok:
            self._seen[jti] = entry.seq
        return verdict

    def vouches(self, entry: Entry[TestEvidence | Pir | Notice | IncidentOpened | Delegation]) -> Verdict:
        """Whether a record the gate counts (test evidence, a PIR, an incident) carries the signature of a
        CI job of this repository run by the record's actor — for test evidence, run on the commit it names
        (REL-P1: the tests ran on what is deployed). So its actor is who the platform says, for the role
        checks that follow. A GitLab job's token signs every record the job writes without naming one: it
        vouches for one report of each kind per commit, and for one PIR, notice or incident (its copy onto a
        forged record, which comes later in the ledger, is refused)."""
        payload = entry.payload
        verdict = self._verified(
            entry,
            payload.attestation,
            scope="record",
            absent="the record carries no signature of a CI job",
            proved="signed",
            commit=payload.commit if isinstance(payload, TestEvidence) else "",
        )
        if verdict.ok and provider_of(entry.actor_source) == "gitlab":
            jti = str(verdict.claims.get("jti", ""))
            # Approvals, PIRs, notices and incidents share the one-record-per-token rule (`verdict`'s `jti`).
            key = f"{jti}|{payload.kind}|{payload.commit}" if isinstance(payload, TestEvidence) else jti
            first = self._seen.setdefault(key, entry.seq)
            if first != entry.seq:
                return Verdict(False, f"the job's token already vouched for ledger record {first}")
        return verdict

    def _verified(
        self,
        entry: Entry[Any],
        attestation: Mapping[str, Any] | None,
        *,
        scope: str,
        absent: str,
        proved: str,
        commit: str = "",
    ) -> Verdict:
        """`domain.attestation.verify` of a typed record's token against its own digest, time and actor and
        the configured expectation (`scope`: "approval" or "record"); `absent` says a record without one,
        `proved` what a workstation's record cannot be."""
        from gatekeeper.domain.attestation import draft_digest, verify

        provider = provider_of(entry.actor_source)
        if attestation is None:
            return Verdict(False, absent)
        if provider is None:
            return Verdict(False, f"a record written by a {entry.actor_source} actor cannot be {proved}")
        expect = expectation(self.config, self.env, provider)
        if expect is None:
            return Verdict(
                False,
                f"the repository is unknown here: set platform.{provider}.oidc.repository to verify tokens "
                "outside CI",
            )
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
        payload = entry.payload
        vouched = isinstance(
            payload, (TestEvidence, Pir, Notice, IncidentOpened, Delegation, *CLOSURE_PAYLOADS)
        )
        verdict = self.vouches(entry) if vouched else self.verdict(entry)
        if not verdict.ok:
            self.refused[entry.seq] = verdict.reason
        return verdict.ok


def sign_record(
    config: Config, root: Path, env: Mapping[str, str], now: datetime, draft: Any
) -> dict[str, Any] | None:
    """The CI platform's signature of a record a job writes (any kind but `approval`, which `approve`
    attests with its stricter checks): an OIDC ID token bound to the record's digest (GitHub: its audience;
    GitLab: its `jti` and job id stored with it) and the issuer's key that verifies it. None where the job
    has no token (no `id-token` permission, no `id_tokens:`) or runs on a workstation. Raises
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
    record_scope = dataclasses.replace(expect, scope="record")
    verdict = verify(
        signed, expect=record_scope, actor=draft.actor, moment=draft.at, digest=digest, trust=ring
    )
    return signed if verdict.ok else None


def record_verdict(record: Any, config: Config, env: Mapping[str, str], trust: KeyTrust) -> str:
    """Whether a record other than an approval carries a signature that verifies: "signed", "unsigned",
    or why not."""
    from gatekeeper.domain.attestation import draft_digest, verify

    data = record.data if isinstance(record.data, Mapping) else {}
    signed = data.get("attestation")
    if signed is None:
        return "unsigned"
    if not isinstance(signed, Mapping):
        return "the signature is not an object"
    provider = provider_of(record.actor_source)
    expect = expectation(config, env, provider) if provider is not None else None
    if expect is None:
        return "the repository is unknown here: set platform.<name>.oidc.repository"
    try:
        moment = datetime.fromisoformat(record.at)
    except (TypeError, ValueError):
        return "the record's time is not a time"
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
    return "signed" if verdict.ok else verdict.reason


def recheck(
    records: Iterable[Any], config: Config, root: Path, env: Mapping[str, str], now: datetime
) -> Iterator[tuple[Any, str]]:
    """(record, verdict) for every approval record — "attested", "unattested", or why its attestation does
    not verify — and every other record — "signed", "unsigned" or why its signature does not verify
    (`ledger verify --attestations`). Raises IssuerUnavailable when the keys cannot be had."""
    from gatekeeper.domain.records import PayloadError, read

    attestor = Attestor(config, root, env, now)
    for record in records:
        carries = isinstance(record.data, Mapping) and "attestation" in record.data
        if record.kind in VERIFIED_KINDS and record.kind != "approval" and carries:
            try:  # as the gate reads it (test evidence: signed by a job that ran on the commit it names)
                counted = read(record)
            except PayloadError as exc:
                yield record, f"malformed: {exc}"
                continue
            verdict = attestor.vouches(counted)
            yield record, "signed" if verdict.ok else verdict.reason
            continue
        if record.kind != "approval":
            provider = provider_of(record.actor_source)
            if provider is None and isinstance(record.data, Mapping) and "attestation" not in record.data:
                continue  # a workstation's record: nothing to sign it
            yield record, record_verdict(record, config, env, attestor.ring(provider or "github"))
            continue
        try:
            entry = read(record)
        except PayloadError as exc:
            yield record, f"malformed: {exc}"
            continue
        if entry.payload.attestation is None:
            yield record, "unattested"
            continue
        verdict = attestor.verdict(entry)
        yield record, "attested" if verdict.ok else verdict.reason
