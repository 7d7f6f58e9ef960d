"""Test helpers: real temporary git repositories and an in-process CLI runner with injected env and clock."""

from __future__ import annotations

import io
import os
import subprocess
import textwrap
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from gatekeeper.cli import main
from gatekeeper.runtime import Runtime

BASE_CONFIG = """\
version: 1
system: {id: minwon-portal, name: 민원포털, grade: 1, audience: public}
policy: kr-ap-sop
timezone: Asia/Seoul
rfc: {id_pattern: 'RFC-\\d{4}-\\d{4}', store: files, dir: changes}
roles:
  agency-manager: [park]
  agency-officer: [kim, lee]
  operator-manager: [choi]
  cab: [kim, park, choi]
ledger: {backend: sqlite, path: .gatekeeper/ledger.db}
"""

VALID_RFC = """\
id: {id}
title: 민원 신청 화면 개선
type: {type}
requester: {requester}
worker: choi
systems: [minwon-portal]
reason: 민원인 입력 오류를 줄이기 위해 신청 화면의 검증을 강화한다
basis: 민원 개선 요청 2026-118
description: 신청 화면 입력 검증 추가
schedule: {{requested_at: '2026-11-20T10:00:00+09:00', window: '19:00-21:00'}}
work_plan: 검증 로직 추가 후 검증계에서 확인하고 운영계에 배포한다
deployment_plan: 야간 배포, 무중단 롤링 배포로 진행한다
test_plan: 단위테스트 40건, 통합테스트 12건, 사전검증 시나리오 5건을 수행한다
rollback_plan: 이전 릴리스 태그로 재배포하고 신청 테이블 정합성을 점검한다
status: {status}
"""


def git(cwd: Path, *args: str, env: Mapping[str, str] | None = None) -> str:
    result = subprocess.run(
        ["git", *args], cwd=cwd, check=True, capture_output=True, text=True, env=dict(env) if env else None
    )
    return result.stdout.strip()


@dataclass
class GitRepo:
    """A real git repository in a temporary folder."""

    path: Path

    @classmethod
    def create(cls, path: Path, *, config: str | None = BASE_CONFIG, branch: str = "main") -> GitRepo:
        path.mkdir(parents=True, exist_ok=True)
        git(path, "init", "-q", "-b", branch)
        git(path, "config", "user.name", "Dev Eloper")
        git(path, "config", "user.email", "dev@example.org")
        git(path, "config", "commit.gpgsign", "false")
        repo = cls(path)
        if config is not None:
            repo.write(".gatekeeper.yml", config)
        return repo

    def write(self, relative: str, text: str) -> Path:
        target = self.path / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(textwrap.dedent(text) if text.startswith("\n") else text, encoding="utf-8")
        return target

    def keep_ledger_outside(self) -> Path:
        """Move the sqlite ledger of `.gatekeeper.yml` out of the checkout (CI refuses one inside it), to
        `<repo>-ledger.db` beside the repository; the caller commits the configuration."""
        where = self.path.parent / f"{self.path.name}-ledger.db"
        config = self.path / ".gatekeeper.yml"
        text = config.read_text(encoding="utf-8")
        assert ".gatekeeper/ledger.db" in text, "the configuration keeps no ledger in the checkout"
        config.write_text(text.replace(".gatekeeper/ledger.db", str(where)), encoding="utf-8")
        return where

    def add_rfc(
        self, rfc_id: str, *, type: str = "normal", requester: str = "lee", status: str = "active"
    ) -> Path:
        return self.write(
            f"changes/{rfc_id}.yml",
            VALID_RFC.format(id=rfc_id, type=type, requester=requester, status=status),
        )

    def commit(
        self,
        message: str,
        *,
        files: Mapping[str, str] | None = None,
        author: str = "Dev Eloper <dev@example.org>",
        committer: tuple[str, str] = ("Dev Eloper", "dev@example.org"),
        allow_empty: bool = True,
    ) -> str:
        for relative, text in (files or {}).items():
            self.write(relative, text)
        git(self.path, "add", "-A")
        env = dict(os.environ, GIT_COMMITTER_NAME=committer[0], GIT_COMMITTER_EMAIL=committer[1])
        args = ["commit", "-q", "--no-verify", "-m", message, f"--author={author}"]
        if allow_empty:
            args.append("--allow-empty")
        git(self.path, *args, env=env)
        return git(self.path, "rev-parse", "HEAD")

    def head(self) -> str:
        return git(self.path, "rev-parse", "HEAD")


@dataclass
class CliResult:
    code: int
    stdout: str
    stderr: str


def run_cli(
    args: list[str],
    *,
    cwd: Path,
    env: Mapping[str, str] | None = None,
    now: datetime | None = None,
) -> CliResult:
    """Run the CLI in-process with an injected environment and clock (default: a fixed UTC instant)."""
    out, err = io.StringIO(), io.StringIO()
    moment = now or datetime(2026, 11, 24, 11, 0, tzinfo=UTC)  # Tuesday 20:00 KST
    base_env = {
        "PATH": os.environ.get("PATH", ""),
        "HOME": os.environ.get("HOME", ""),
        "LANG": "C.UTF-8",
        "GATEKEEPER_LANG": "en",  # English unless a test asks for Korean (`kr-ap-sop` alone speaks Korean)
    }
    runtime = Runtime(env={**base_env, **(env or {})}, cwd=cwd, stdout=out, stderr=err, clock=lambda: moment)
    code = main(args, runtime)
    return CliResult(code, out.getvalue(), err.getvalue())


def pipeline_job(repo: GitRepo, login: str) -> dict[str, str]:
    """The environment of a GitHub Actions job run by `login` on the repository's HEAD: the CI identity is
    the actor of what it records."""
    import json

    event = repo.path / ".git" / "event.json"
    event.write_text(json.dumps({"sender": {"login": login}}), encoding="utf-8")
    return {
        "GITHUB_ACTIONS": "true",
        "GITHUB_ACTOR": login,
        "GITHUB_EVENT_NAME": "workflow_dispatch",
        "GITHUB_EVENT_PATH": str(event),
        "GITHUB_SHA": git(repo.path, "rev-parse", "HEAD").strip(),
    }
