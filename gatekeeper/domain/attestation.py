"""Attested approvals: the CI platform's OIDC ID token, verified (pure; the keys come from `adapters.oidc`).

An approval recorded in a CI job carries `data.attestation`: the platform's signed token, the JWK that
verified it, and the digest of the record it was requested for. The token says who ran the job (GitHub
`actor`, GitLab `user_login`), in which repository, environment and workflow, on which ref. Anyone can
write a record claiming an actor; only the platform can sign a token saying so.

- GitHub Actions tokens are requested with the audience `gatekeeper:sha256:<digest>`, the digest of the
  canonical record draft (`draft_digest`): the token vouches for this one record and no other.
- GitLab's `id_tokens:` have a fixed audience; the record stores the token's `jti` and `job_id` with the
  digest, and a `jti` counts once in a ledger.

`verify` checks the signature against the stored JWK (only asymmetric algorithms, the one the key's type
allows: `alg: none` and HS* "signed" with a public key are refused before any cryptography), that the key is
one the issuer publishes or the configuration pins (`KeyTrust`), `iss`, `aud`, the token's times around the
record's time with a small leeway, the repository / project path, the actor, the approvals environment
(protected, on GitLab), the protected default branch, and the approval workflow on the default branch.
The gate re-verifies every approval from the ledger with the record's own time, so a token that was valid
when it was recorded stays valid evidence, and one that never was never becomes so.
"""

from __future__ import annotations

import base64
import contextlib
import functools
import hashlib
import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, Literal, Protocol
from urllib.parse import urlsplit

from gatekeeper.domain.canonical import canonical_json
from gatekeeper.messages import Message, msg

Provider = Literal["github", "gitlab"]
# The records whose attestation the gate verifies as it reads them: a person's decision or word (an approval,
# a PIR, a prior notice, an incident an emergency change answers for, a release's acceptance, review or
# closure, a delegation to a deputy), test evidence, the deployments (their start and their result) and the
# configuration baselines.
VERIFIED_KINDS = frozenset(
    {
        "deployment.started",
        "deployment.finished",
        "approval",
        "test.evidence",
        "pir",
        "notice",
        "incident.opened",
        "release.accepted",
        "release.reviewed",
        "change.closed",
        "delegation",
        "baseline.created",
    }
)
LEEWAY = timedelta(seconds=60)
AUDIENCE_PREFIX = "gatekeeper:"
# The algorithms a key of each type may sign with; anything else (none, HS*, a mismatch) is refused.
ALGORITHMS: Mapping[str, tuple[str, ...]] = {
    "RSA": ("RS256", "RS384", "RS512", "PS256", "PS384", "PS512"),
    "EC": ("ES256", "ES384", "ES512"),
}
# JWK members that define a public key (RFC 7638 thumbprint input), per key type.
_THUMBPRINT_MEMBERS: Mapping[str, tuple[str, ...]] = {
    "RSA": ("e", "kty", "n"),
    "EC": ("crv", "kty", "x", "y"),
}


class KeyTrust(Protocol):
    """Whether a key is one the issuer signs with (published or pinned) for a token issued at `issued_at`.
    May raise a GatekeeperError when that cannot be established (the issuer cannot be reached)."""

    def trusts(self, jwk: Mapping[str, Any], issued_at: datetime) -> bool: ...


def draft_digest(
    *,
    record_id: str,
    kind: str,
    system: str,
    rfcs: Sequence[str],
    actor: str,
    actor_source: str,
    at: datetime,
    data: Mapping[str, Any],
) -> str:
    """SHA-256 over the canonical JSON of a record before it is placed (no seq, prev, hash), without its
    attestation: what a token's audience binds. The data of a record the gate verifies (`VERIFIED_KINDS`)
    is taken as its typed payload writes it, and `at` in UTC, so that spellings the readers treat alike
    cannot make a digest differ."""
    from gatekeeper.domain.records import PAYLOADS, PayloadError

    if kind in VERIFIED_KINDS:  # the gate verifies these from their typed payloads (`adapters.oidc.Attestor`)
        with contextlib.suppress(PayloadError):  # else digested as it stands: such a record never counts
            data = PAYLOADS[kind].parse(data).dump()
    body = {
        "id": record_id,
        "kind": kind,
        "system": system,
        "rfcs": list(rfcs),
        "actor": actor,
        "actor_source": actor_source,
        "at": at.astimezone(UTC).isoformat(),
        "data": {k: v for k, v in data.items() if k != "attestation"},
    }
    return "sha256:" + hashlib.sha256(canonical_json(body).encode("utf-8")).hexdigest()


def digest_of(draft: Any) -> str:
    """`draft_digest` of a draft (a `ledger.Draft`, before the ledger places it)."""
    return draft_digest(
        record_id=draft.id,
        kind=draft.kind,
        system=draft.system,
        rfcs=draft.rfcs,
        actor=draft.actor,
        actor_source=draft.actor_source,
        at=draft.at,
        data=draft.data,
    )


def audience(digest: str) -> str:
    return AUDIENCE_PREFIX + digest


def thumbprint(jwk: Mapping[str, Any]) -> str:
    """The RFC 7638 thumbprint of a public JWK (raises ValueError for a key type that is not RSA or EC)."""
    members = _THUMBPRINT_MEMBERS.get(str(jwk.get("kty")))
    if members is None or not all(isinstance(jwk.get(m), str) for m in members):
        raise ValueError(f"not an RSA or EC public key (kty {str(jwk.get('kty'))[:20]!r})")
    return _thumbprint(tuple((m, jwk[m]) for m in members))


@functools.lru_cache(maxsize=256)
def _thumbprint(members: tuple[tuple[str, str], ...]) -> str:
    # A ledger's records carry a handful of keys: each is digested once, not once per record.
    material = json.dumps(dict(members), separators=(",", ":"), sort_keys=True)
    digest = hashlib.sha256(material.encode("utf-8")).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


@functools.lru_cache(maxsize=256)
def _public_key(members: str, algorithm: str) -> Any:
    """The public key of a JWK (its members as canonical JSON) for `algorithm`, built once per key."""
    import jwt

    return jwt.PyJWK(json.loads(members), algorithm=algorithm).key


_SEGMENT_BYTES = re.compile(rb"[A-Za-z0-9_-]*")


def decode_segment(segment: bytes, name: str) -> bytes:
    """A base64url segment of a compact JWS, with the checks PyJWT makes (GHSA-hxm8-2xgr-2p9m: at most two
    `=` of padding and only where the length allows it, nothing outside the alphabet, the one canonical
    encoding), by one compiled pattern: PyJWT's loop over every byte in Python was half the time of
    verifying a ledger's signatures. Raises jwt.DecodeError as PyJWT does."""
    import jwt

    stripped = segment.rstrip(b"=")
    padding = len(segment) - len(stripped)
    if (
        padding > 2
        or (padding and len(segment) % 4 != 0)
        or len(stripped) % 4 == 1
        or not _SEGMENT_BYTES.fullmatch(stripped)
    ):
        raise jwt.DecodeError(f"Invalid {name} padding")
    decoded = base64.urlsafe_b64decode(stripped + b"=" * (-len(stripped) % 4))
    if base64.urlsafe_b64encode(decoded).rstrip(b"=") != stripped:
        raise jwt.DecodeError(f"Invalid {name} padding")
    return decoded


@functools.lru_cache(maxsize=1)
def _decoder() -> Any:
    """PyJWT's decoder, reading segments with `decode_segment` (every other check is PyJWT's own)."""
    import jwt

    class Jws(jwt.PyJWS):
        _decode_base64url_segment = staticmethod(decode_segment)

    class Jwt(jwt.PyJWT):
        def __init__(self) -> None:
            super().__init__()
            self._jws = Jws(options=self._get_sig_options())

    return Jwt()


def _header(token: str) -> dict[str, Any]:
    """The JOSE header of a compact JWS, read (by `decode_segment`, as the signature check reads it) without
    its payload. Raises ValueError when the header is not base64url-encoded JSON."""
    import jwt

    try:
        raw = decode_segment(token.split(".", 1)[0].encode("utf-8"), "header")
    except jwt.DecodeError as exc:
        raise ValueError(str(exc)) from None
    header = json.loads(raw)
    if not isinstance(header, dict):
        raise ValueError("Invalid header string: must be a json object")
    return header


@dataclass(frozen=True)
class Expectation:
    """What a token must say for an approval of this system (from the configuration, never the change)."""

    provider: Provider
    issuer: str
    repository: str  # owner/name, or GitLab's group/project path
    environment: str  # the approvals environment; `NAME/<anything>` matches too
    workflow: str  # the approval workflow's path in the repository
    default_branch: str = "main"
    audience: str = "gatekeeper"  # GitLab's fixed `aud`; GitHub's is bound to each record (`audience`)
    leeway: timedelta = LEEWAY
    # "approval": a decision, given in the approval workflow of the protected default branch, in its
    # environment. "record": any other record a CI job writes (evidence, deployments, incidents ...): the
    # signature proves which repository's job, run by whom, wrote exactly this record. "baseline": a record
    # of a job of the protected default branch (a configuration baseline: what the branch holds, CFG-P1).
    scope: str = "approval"

    @property
    def workflow_ref(self) -> str:
        """The `job_workflow_ref` (GitHub) or `ci_config_ref_uri` (GitLab) of the approval workflow on the
        default branch."""
        ref = f"refs/heads/{self.default_branch}"
        if self.provider == "github":
            return f"{self.repository}/{self.workflow}@{ref}"
        host = urlsplit(self.issuer).netloc
        return f"{host}/{self.repository}//{self.workflow}@{ref}"


@dataclass(frozen=True)
class Verdict:
    ok: bool
    reason: str = ""  # why not, in English (the token's own words are never shown raw)
    claims: Mapping[str, Any] = field(default_factory=dict)
    key: str = ""  # the thumbprint of the key that verified it
    reason_ko: str = ""  # why not, in Korean

    @property
    def reasons(self) -> tuple[str, str]:
        """Why not (en, ko); ("", "") for a verdict that verified."""
        return self.reason, self.reason_ko or self.reason

    @classmethod
    def refusing(cls, reason: tuple[str, str], claims: Mapping[str, Any] | None = None) -> Verdict:
        """A verdict that does not verify, for `reason` (en, ko)."""
        return cls(False, reason[0], claims or {}, reason_ko=reason[1])


def _refuse(en: str, ko: str, claims: Mapping[str, Any] | None = None) -> Verdict:
    return Verdict.refusing((en, ko), claims)


# Why PyJWT refused a token, by the error's class (its English message names the same fact; these say it in
# the other languages).
_DOES_NOT_VERIFY: Mapping[str, Message] = {
    "InvalidSignatureError": msg("the signature does not match the token's content"),
    "InvalidAudienceError": msg("the token's aud (audience) is not the one expected"),
    "InvalidIssuerError": msg("the token's iss (issuer) is not the configured issuer"),
    "MissingRequiredClaimError": msg("the token lacks a required claim"),
    "DecodeError": msg("the token cannot be decoded"),
    "InvalidAlgorithmError": msg("the signing algorithm is not allowed"),
    "InvalidKeyError": msg("the stored key cannot verify this token"),
    "PyJWKError": msg("the stored key (JWK) cannot be read"),
}


def _does_not_verify(exc: Exception) -> Message:
    """Why the token does not verify: PyJWT's words in English; elsewhere the kind of error, and the claim
    PyJWT names missing."""
    name = type(exc).__name__
    why = next(
        (_DOES_NOT_VERIFY[c.__name__] for c in type(exc).__mro__ if c.__name__ in _DOES_NOT_VERIFY),
        msg("the token or the stored key is malformed"),
    )
    claim = getattr(exc, "claim", None)
    if name == "MissingRequiredClaimError" and isinstance(claim, str):
        why = msg("the token lacks the required claim {claim!r}", claim=claim[:20])
    return msg("the token does not verify: {name}: {detail}", name=name, detail=str(exc)[:160], why=why)


def _flag(value: Any) -> bool:
    # Both platforms give these claims as the strings "true"/"false".
    return value is True or value == "true"


def _show(value: Any) -> str:
    return repr(str(value)[:120])


def _environment_matches(found: Any, wanted: str) -> bool:
    return isinstance(found, str) and (found == wanted or found.startswith(wanted + "/"))


def _claim_checks(
    claims: Mapping[str, Any], expect: Expectation, actor: str, commit: str = ""
) -> tuple[str, str] | None:
    """The first claim that does not fit, as a reason (en, ko); None when all fit."""
    branch = f"refs/heads/{expect.default_branch}"
    if expect.scope in ("record", "baseline"):
        if expect.provider == "github":
            checks = [
                ("repository", claims.get("repository") == expect.repository, expect.repository),
                ("actor", str(claims.get("actor", "")).casefold() == actor.casefold(), actor),
            ]
            ref = ("ref", claims.get("ref") == branch, branch)
        else:
            checks = [
                ("project_path", claims.get("project_path") == expect.repository, expect.repository),
                ("user_login", str(claims.get("user_login", "")).casefold() == actor.casefold(), actor),
            ]
            ref = ("ref_path", claims.get("ref_path", f"refs/heads/{claims.get('ref')}") == branch, branch)
        if expect.scope == "baseline":  # the protected default branch, as an approval's
            checks += [ref, ("ref_protected", _flag(claims.get("ref_protected")), "true")]
        if commit:  # the job ran on the commit the record speaks for (both platforms' `sha` claim)
            sha = claims.get("sha")
            checks.append(("sha", isinstance(sha, str) and sha.strip().lower() == commit.lower(), commit))
    elif expect.provider == "github":
        checks = [
            ("repository", claims.get("repository") == expect.repository, expect.repository),
            ("actor", str(claims.get("actor", "")).casefold() == actor.casefold(), actor),
            ("environment", _environment_matches(claims.get("environment"), expect.environment), ""),
            ("ref", claims.get("ref") == branch, branch),
            ("ref_protected", _flag(claims.get("ref_protected")), "true"),
            ("job_workflow_ref", claims.get("job_workflow_ref") == expect.workflow_ref, expect.workflow_ref),
        ]
    else:
        checks = [
            ("project_path", claims.get("project_path") == expect.repository, expect.repository),
            ("user_login", str(claims.get("user_login", "")).casefold() == actor.casefold(), actor),
            ("environment", _environment_matches(claims.get("environment"), expect.environment), ""),
            ("environment_protected", _flag(claims.get("environment_protected")), "true"),
            ("ref_path", claims.get("ref_path", f"refs/heads/{claims.get('ref')}") == branch, branch),
            ("ref_protected", _flag(claims.get("ref_protected")), "true"),
            (
                "ci_config_ref_uri",
                claims.get("ci_config_ref_uri") == expect.workflow_ref,
                expect.workflow_ref,
            ),
        ]
    for name, fits, wanted in checks:
        if not fits:
            found = _show(claims.get(name))
            if name == "environment":
                return msg(
                    "the token's {name} is {found}, not {environment_or_below}",
                    name=name,
                    found=found,
                    environment_or_below=repr(f"{expect.environment} (or {expect.environment}/...)"),
                    environment=expect.environment,
                ).pair
            return msg(
                "the token's {name} is {found}, not {wanted!r}", name=name, found=found, wanted=wanted
            ).pair
    return None


def verify(
    attestation: Mapping[str, Any],
    *,
    expect: Expectation,
    actor: str,
    moment: datetime,
    digest: str,
    trust: KeyTrust,
    commit: str = "",
) -> Verdict:
    """Whether `attestation` proves that `actor` gave the record with `digest` at `moment` (see the module
    docstring) — and, with `commit`, that the job ran on that commit (a record that speaks for a commit, as
    test evidence does). Never raises for a bad token; `trust` may raise when the issuer's keys cannot be
    had."""
    import jwt

    token, jwk = attestation.get("token"), attestation.get("jwk")
    if not isinstance(token, str) or not isinstance(jwk, Mapping):
        return _refuse(*msg("the attestation holds no token and key").pair)
    if attestation.get("provider") != expect.provider:
        shown = _show(attestation.get("provider"))
        return _refuse(
            *msg(
                "the attestation is from {shown}, not {provider}", shown=shown, provider=expect.provider
            ).pair
        )
    if attestation.get("digest") != digest:
        return _refuse(*msg("the attestation was made for another record (its digest differs)").pair)
    try:
        header = _header(token)
    except ValueError as exc:  # binascii.Error and JSONDecodeError are ValueErrors
        return _refuse(*msg("the token is not a JWT ({exc})", exc=str(exc)[:120]).pair)
    algorithm, kid = header.get("alg"), header.get("kid")
    kty = str(jwk.get("kty"))[:8]
    allowed = ALGORITHMS.get(str(jwk.get("kty")), ())
    if algorithm not in allowed:
        return _refuse(
            *msg(
                "the token is signed with {show_algorithm}, which a {kty} key cannot sign with "
                "(allowed: {allowed})",
                show_algorithm=_show(algorithm),
                kty=kty,
                allowed=", ".join(allowed) or msg("none"),
            ).pair
        )
    if not isinstance(kid, str) or kid != jwk.get("kid"):
        return _refuse(
            *msg("the token's key id {show_kid} is not the stored key's", show_kid=_show(kid)).pair
        )
    wanted_audience = audience(digest) if expect.provider == "github" else expect.audience
    try:
        key_id = thumbprint(jwk)
        public = _public_key(canonical_json(dict(jwk)), algorithm)
        claims = _decoder().decode(
            token,
            key=public,
            algorithms=[algorithm],
            audience=wanted_audience,
            issuer=[expect.issuer, expect.issuer + "/"],
            # The times are checked against the record's time below, not this machine's clock.
            options={
                "verify_exp": False,
                "verify_nbf": False,
                "verify_iat": False,
                "require": ["iss", "aud", "exp", "iat", "jti"],
            },
        )
    except (jwt.InvalidTokenError, jwt.PyJWKError, ValueError, TypeError) as exc:
        return _refuse(*_does_not_verify(exc).pair)
    try:
        issued = datetime.fromtimestamp(float(claims["iat"]), UTC)
        expires = datetime.fromtimestamp(float(claims["exp"]), UTC)
        not_before = datetime.fromtimestamp(float(claims.get("nbf", claims["iat"])), UTC)
    except (TypeError, ValueError, OverflowError):
        return _refuse(*msg("the token's times are not numbers").pair, claims)
    if moment > expires + expect.leeway:
        return _refuse(
            *msg(
                "the token expired at {expires}, before {moment}",
                expires=expires.isoformat(),
                moment=moment.isoformat(),
            ).pair,
            claims,
        )
    if moment < min(issued, not_before) - expect.leeway:
        return _refuse(
            *msg(
                "the token was issued at {issued}, after {moment}",
                issued=issued.isoformat(),
                moment=moment.isoformat(),
            ).pair,
            claims,
        )
    if not trust.trusts(jwk, issued):
        return _refuse(
            *msg(
                "the key {kid!r} is not one {issuer} publishes or the configuration pins",
                kid=kid[:40],
                issuer=expect.issuer,
            ).pair
        )
    mismatch = _claim_checks(claims, expect, actor, commit)
    if mismatch is not None:
        return Verdict.refusing(mismatch, claims)
    if expect.provider == "gitlab" and (
        attestation.get("jti") != claims.get("jti")
        or str(attestation.get("job_id")) != str(claims.get("job_id"))
    ):
        return _refuse(*msg("the record's jti and job id are not the token's").pair, claims)
    return Verdict(True, "", claims, key_id)


def hint(provider: str) -> tuple[str, str]:
    """How to make approvals attested (en, ko)."""
    if provider == "gitlab":
        return msg(
            "declare `id_tokens: {GATEKEEPER_ID_TOKEN: {aud: gatekeeper}}` in the approval job (the "
            ".gatekeeper:approve template does) and run it in a protected environment "
            "(`platform.gitlab.oidc` in .gatekeeper.yml names the issuer and environment)"
        ).pair
    return msg(
        "give the approval job `permissions: id-token: write` and run it in the protected environment of "
        "the approval workflow on the default branch (`platform.github.oidc` in .gatekeeper.yml)"
    ).pair
