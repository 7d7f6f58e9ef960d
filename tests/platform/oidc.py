"""Attested CI jobs for tests: a real local OIDC issuer (gatekeeper.localissuer) and the environment a
GitHub Actions or GitLab CI approval job gets, with its ID token coming from that issuer."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from gatekeeper.localissuer import LocalIssuer, github_claims, gitlab_claims

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
        self, actor: str, *, triggering: str | None = None, token: bool = True, **claims: Any
    ) -> dict[str, str]:
        event = self.workdir / f"event-{actor}.json"
        event.write_text(json.dumps({"inputs": {}}), encoding="utf-8")
        env = {
            "CI": "true",
            "GITHUB_ACTIONS": "true",
            "GITHUB_ACTOR": actor,
            "GITHUB_EVENT_NAME": "workflow_dispatch",
            "GITHUB_EVENT_PATH": str(event),
            "GITHUB_SHA": self.head,
            "GITHUB_REF": "refs/heads/main",
            "GITHUB_REPOSITORY": REPOSITORY,
        }
        if triggering is not None:
            env["GITHUB_TRIGGERING_ACTOR"] = triggering
        if token:
            env.update(
                self.issuer.actions_job(github_claims(REPOSITORY, claims.pop("actor", actor), **claims))
            )
        return env

    def gitlab(self, user: str, *, token: str | None = None, **claims: Any) -> dict[str, str]:
        env = {
            "CI": "true",
            "GITLAB_CI": "true",
            "GITLAB_USER_LOGIN": user,
            "CI_COMMIT_SHA": self.head,
            "CI_COMMIT_REF_NAME": "main",
            "CI_PIPELINE_SOURCE": "web",
            "CI_PROJECT_PATH": REPOSITORY,
        }
        host = self.issuer.url.split("://", 1)[1]
        if token is None:
            token = self.issuer.mint(
                gitlab_claims(host, REPOSITORY, claims.pop("user", user), **claims), "gatekeeper"
            )
        if token:
            env["GATEKEEPER_ID_TOKEN"] = token
        return env
