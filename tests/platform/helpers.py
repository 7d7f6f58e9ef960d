"""Shared pieces of the platform adapter tests."""

from __future__ import annotations

import json
import random
from pathlib import Path
from typing import Any

from gatekeeper.adapters.platforms.base import RetryPolicy
from gatekeeper.config.models import Config
from tests.platform.replay import RECORDINGS

TOKEN = "ghp_S3cretTokenValue0123456789abcdef"
GL_TOKEN = "glpat-S3cretTokenValue0123"
HEAD = "a" * 40
PATTERN = r"RFC-\d{4}-\d{4}"
MARKER = "<!-- gatekeeper:decision minwon -->"


def config(store: str = "files") -> Config:
    return Config.model_validate(
        {"version": 1, "system": {"id": "minwon", "name": "민원", "grade": 1}, "rfc": {"store": store}}
    )


class Sleeps(list[float]):
    """An injected sleep that records the waits instead of waiting."""

    def __call__(self, seconds: float) -> None:
        self.append(seconds)


def caller(sleeps: Sleeps, **policy: Any) -> dict[str, Any]:
    return {"policy": RetryPolicy(**policy), "sleep": sleeps, "rng": random.Random(7)}


def github_env(base: str) -> dict[str, str]:
    return {"GITHUB_TOKEN": TOKEN, "GITHUB_REPOSITORY": "agency/minwon", "GITHUB_API_URL": base}


def gitlab_env(base: str) -> dict[str, str]:
    return {
        "GATEKEEPER_GITLAB_TOKEN": GL_TOKEN,
        "CI_PROJECT_ID": "321",
        "CI_API_V4_URL": base,
        "CI_JOB_TOKEN": "job-token-cannot-read-issues",
        "CI_COMMIT_REF_NAME": "main",
    }


def error(platform: str, name: str, method: str, path: str, **extra: Any) -> dict[str, Any]:
    responses: dict[str, Any] = json.loads(
        (RECORDINGS / platform / "errors.json").read_text(encoding="utf-8")
    )
    return {**responses["responses"][name], "method": method, "path": path, **extra}


def recording_text() -> str:
    return "".join(p.read_text(encoding="utf-8") for p in sorted(Path(RECORDINGS).rglob("*.json")))
