"""Attested CI jobs for tests: a real local OIDC issuer (adapters.localissuer) and the environment a
GitHub Actions or GitLab CI approval job gets, with its ID token coming from that issuer."""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml

from gatekeeper.adapters.localissuer import LocalIssuer, SigningKey, github_claims, gitlab_claims
from gatekeeper.domain.attestation import audience, digest_of
from gatekeeper.ledger import Draft

REPOSITORY = "minwon/minwon-portal"


def oidc_settings(issuer: LocalIssuer, **extra: Any) -> dict[str, Any]:
    """`platform:` of .gatekeeper.yml trusting `issuer` for both platforms."""
    return {
        "github": {"oidc": {"issuer": issuer.url, "repository": REPOSITORY, **extra}},
        "gitlab": {"oidc": {"issuer": issuer.url, "repository": REPOSITORY, **extra}},
    }


def add_oidc(config_path: Path, issuer: LocalIssuer, **extra: Any) -> None:
    """Point an existing .gatekeeper.yml's platforms at `issuer`."""
    config = yaml.safe_load(config_path.read_text(encoding="utf-8"))
    config["platform"] = oidc_settings(issuer, **extra)
    config_path.write_text(yaml.safe_dump(config, allow_unicode=True), encoding="utf-8")


@dataclass
class Jobs:
    """Environments of approval jobs, as the platforms give them to a step."""

    issuer: LocalIssuer
    workdir: Path
    head: str = "0" * 40

    def github(
        self,
        who: str,
        *,
        triggering: str | None = None,
        token: bool = True,
        answer: Callable[[str], str] | None = None,
        **claims: Any,
    ) -> dict[str, str]:
        event = self.workdir / f"event-{who}.json"
        payload = {"inputs": {}, "repository": {"full_name": REPOSITORY, "default_branch": "main"}}
        event.write_text(json.dumps(payload), encoding="utf-8")
        env = {
            "CI": "true",
            "GITHUB_ACTIONS": "true",
            "GITHUB_ACTOR": who,
            "GITHUB_EVENT_NAME": "workflow_dispatch",
            "GITHUB_EVENT_PATH": str(event),
            "GITHUB_SHA": self.head,
            "GITHUB_REF": "refs/heads/main",
            "GITHUB_REPOSITORY": REPOSITORY,
        }
        if triggering is not None:
            env["GITHUB_TRIGGERING_ACTOR"] = triggering
        if token:
            shaped = {
                k: claims.pop(k) for k in ("environment", "workflow", "ref", "protected") if k in claims
            }
            shaped.setdefault("sha", self.head)
            job_claims = {**github_claims(REPOSITORY, claims.pop("actor", who), **shaped), **claims}
            env.update(self.issuer.actions_job(job_claims, answer=answer))
        return env

    def gitlab(self, who: str, *, token: str | None = None, **claims: Any) -> dict[str, str]:
        env = {
            "CI": "true",
            "GITLAB_CI": "true",
            "GITLAB_USER_LOGIN": who,
            "CI_COMMIT_SHA": self.head,
            "CI_COMMIT_REF_NAME": "main",
            "CI_PIPELINE_SOURCE": "web",
            "CI_PROJECT_PATH": REPOSITORY,
        }
        host = self.issuer.url.split("://", 1)[1]
        if token is None:
            token = self.issuer.mint(
                gitlab_claims(host, REPOSITORY, claims.pop("user", who), **{"sha": self.head, **claims}),
                "gatekeeper",
            )
        if token:
            env["GATEKEEPER_ID_TOKEN"] = token
        return env


GITHUB_ISSUER = "https://token.actions.githubusercontent.com"
GITLAB_ISSUER = "https://gitlab.example.go.kr"  # the GitLab instance `pin` trusts


@lru_cache(maxsize=1)
def pinned_key() -> SigningKey:
    """One signing key for the whole run: a JWKS pinned in the test repository's configuration trusts it
    without any network (as an air-gapped GitHub Enterprise Server or GitLab instance would)."""
    return SigningKey.generate("pinned-1")


def pin(repo_path: Path, relative: str = ".gatekeeper/oidc-keys.json") -> dict[str, Any]:
    """Write the pinned JWKS into the repository; returns the `platform:` settings that trust it."""
    target = repo_path / relative
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(json.dumps({"keys": [pinned_key().jwk]}), encoding="utf-8")
    settings = {"repository": REPOSITORY, "keys_file": relative}
    return {
        "github": {"oidc": dict(settings)},
        "gitlab": {"oidc": {**settings, "issuer": GITLAB_ISSUER}},
    }


def sign(draft: Draft, **claims: Any) -> Draft:
    """`draft` (a record a CI job writes, such as test evidence) with the signature the job's token gives
    it (`adapters.oidc.sign_record`): a GitHub job of the repository run by the draft's actor on the commit
    the record names (`sha`), signed by the pinned key. `claims` override the token's."""
    job = github_claims(REPOSITORY, draft.actor, sha=str(draft.data.get("commit", "0" * 40)))
    return _signed(draft, {**job, **claims})


def attest(draft: Draft, **claims: Any) -> Draft:
    """`draft` with the attestation a GitHub approval job would record, signed by the pinned key."""
    return _signed(draft, {**github_claims(REPOSITORY, draft.actor), **claims})


def _signed(draft: Draft, claims: dict[str, Any]) -> Draft:
    """`draft` carrying a GitHub Actions ID token with `claims`, minted for its digest by the pinned key."""
    import jwt

    digest = digest_of(draft)
    moment = int(draft.at.timestamp())
    body = {
        "jti": str(uuid.uuid4()),
        "iss": GITHUB_ISSUER,
        "aud": audience(digest),
        "iat": moment,
        "nbf": moment - 5,
        "exp": moment + 300,
        **claims,
    }
    key = pinned_key()
    token = jwt.encode(body, key.private, algorithm="RS256", headers={"kid": key.kid})
    attestation = {"provider": "github", "token": token, "jwk": key.jwk, "digest": digest}
    return replace(draft, data={**draft.data, "attestation": attestation})


def gitlab_job(head: str, login: str, at: datetime, **claims: Any) -> dict[str, str]:
    """The environment of a GitLab CI job run by `login` on commit `head` at `at`, with the `id_tokens:`
    token the instance `pin` trusts (minted by the pinned key): what it records is signed
    (`adapters.oidc`)."""
    import jwt

    host = GITLAB_ISSUER.split("://", 1)[1]
    now = int(at.timestamp())
    body = {
        "jti": str(uuid.uuid4()),
        "iss": GITLAB_ISSUER,
        "aud": "gatekeeper",
        "iat": now,
        "nbf": now - 5,
        "exp": now + 300,
        **gitlab_claims(host, REPOSITORY, login, sha=head),
        **claims,
    }
    key = pinned_key()
    token = jwt.encode(body, key.private, algorithm="RS256", headers={"kid": key.kid})
    return {
        "CI": "true",
        "GITLAB_CI": "true",
        "GITLAB_USER_LOGIN": login,
        "CI_COMMIT_SHA": head,
        "CI_COMMIT_REF_NAME": "main",
        "CI_PIPELINE_SOURCE": "web",
        "CI_PROJECT_PATH": REPOSITORY,
        "GATEKEEPER_ID_TOKEN": token,
    }


def trust_pinned(repo_path: Path) -> None:
    """Make the repository's configuration trust the pinned key and name the repository the pipelines'
    tokens name (`pin`), so their signed records verify outside CI."""
    config = repo_path / ".gatekeeper.yml"
    body = yaml.safe_load(config.read_text(encoding="utf-8"))
    body["platform"] = pin(repo_path)
    config.write_text(yaml.safe_dump(body, allow_unicode=True, sort_keys=False), encoding="utf-8")


def record_baseline(
    repo_path: Path, label: str, at: datetime, login: str = "choi", revision: str = "HEAD"
) -> int:
    """Append the `baseline.created` that `baseline create --label LABEL` writes in the pipeline job of the
    protected default branch run by the operator manager `login` (seed 002 형상관리 1.2): a snapshot of
    `revision` with the deployed artefacts, signed by the job's token (the pinned key; `trust_pinned` makes
    the configuration trust it). Returns its ledger seq."""
    from gatekeeper.config import load_config
    from gatekeeper.domain.baseline import deployed_artifacts
    from gatekeeper.facts.baseline import snapshot
    from gatekeeper.ledger.backends import open_ledger

    config = load_config(repo_path / ".gatekeeper.yml")
    ledger = open_ledger(config, repo_path, {})
    try:
        artifacts = deployed_artifacts(ledger.find(kind="deployment.finished", system=config.system.id))
        data = snapshot(repo_path, config, revision, artifacts).data(label)
        draft = Draft("baseline.created", config.system.id, login, "github-actions", at, data)
        return ledger.append(sign(draft)).seq
    finally:
        ledger.close()
