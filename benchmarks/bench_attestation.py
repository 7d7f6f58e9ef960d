"""What attested approvals cost: `approve` with an ID token from a local OIDC issuer against `approve`
without one, and the gate reading 100 attested approvals against the same gate reading 100 approvals that
carry no token; likewise 100 test records, and 100 deployment records (50 deployments' start and result)
signed by the deploying job against the same records unsigned (the gate and `deploy start`'s lock verify
each one).

Both run in-process against a real sqlite ledger and a real issuer on 127.0.0.1 (adapters.localissuer):
an attested `approve` asks the issuer's token endpoint once, and its discovery document and key set; the
gate fetches the key set once per run (nothing on the machine is trusted to stand in for it) and verifies
every stored token (an RSA signature each) with it. The median of several runs is compared, as ratios
measured in the same run.
"""

from __future__ import annotations

import dataclasses
import io
import json
import os
import statistics
import subprocess
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

from gatekeeper.adapters.localissuer import LocalIssuer, github_claims, gitlab_claims
from gatekeeper.cli import main as cli_main
from gatekeeper.config import load_config
from gatekeeper.domain.attestation import audience, digest_of
from gatekeeper.ledger import Draft
from gatekeeper.ledger.backends import open_ledger
from gatekeeper.runtime import Runtime

NOW = datetime(2026, 11, 24, 11, 0, tzinfo=UTC)
REPOSITORY = "minwon/minwon-portal"
REPEATS = 9
APPROVALS = 100
RFC_ID = "RFC-2026-0042"
CONFIG = """\
version: 1
system: {{id: minwon-portal, name: 민원포털, grade: {grade}, audience: internal}}
policy: kr-ap-sop
roles: {{agency-manager: [park], agency-officer: [kim, lee], operator-manager: [han], cab: [kim, park, choi]}}
ledger: {{backend: sqlite, path: '../{name}.db'}}  # outside the work tree, as CI requires
platform:
  github: {{oidc: {{issuer: '{issuer}', repository: {repository}}}}}
  gitlab: {{oidc: {{issuer: '{issuer}', repository: {repository}}}}}
"""
RFC = f"""\
id: {RFC_ID}
title: 민원 신청 화면 개선
type: normal
requester: lee
systems: [minwon-portal]
reason: 민원인 입력 오류를 줄이기 위해 신청 화면의 검증을 강화한다
test_plan: 단위테스트 40건, 통합테스트 12건, 사전검증 시나리오 5건을 수행한다
rollback_plan: 이전 릴리스 태그로 재배포하고 신청 테이블 정합성을 점검한다
"""


def _repo(root: Path, issuer: LocalIssuer, grade: int) -> Path:
    root.mkdir(parents=True)
    (root / "changes").mkdir()
    (root / ".gatekeeper.yml").write_text(
        CONFIG.format(grade=grade, issuer=issuer.url, repository=REPOSITORY, name=root.name), encoding="utf-8"
    )
    (root / "changes" / f"{RFC_ID}.yml").write_text(RFC, encoding="utf-8")
    env = {**os.environ, "GIT_AUTHOR_NAME": "dev", "GIT_AUTHOR_EMAIL": "dev@example.org"}
    env.update(GIT_COMMITTER_NAME="dev", GIT_COMMITTER_EMAIL="dev@example.org", GIT_CONFIG_NOSYSTEM="1")
    for args in (["init", "-q", "-b", "main"], ["add", "-A"], ["commit", "-q", "-m", f"{RFC_ID} the change"]):
        subprocess.run(["git", *args], cwd=root, check=True, env=env, capture_output=True)
    return root


def _head(root: Path) -> str:
    return subprocess.run(
        ["git", "rev-parse", "HEAD"], cwd=root, capture_output=True, text=True
    ).stdout.strip()


def _ci_env(root: Path, issuer: LocalIssuer | None, actor: str, home: Path) -> dict[str, str]:
    event = root.parent / f"event-{actor}.json"
    event.write_text("{}", encoding="utf-8")
    head = _head(root)
    env = {
        "HOME": str(home),
        "PATH": os.environ.get("PATH", ""),
        "GITHUB_ACTIONS": "true",
        "GITHUB_ACTOR": actor,
        "GITHUB_EVENT_NAME": "workflow_dispatch",
        "GITHUB_EVENT_PATH": str(event),
        "GITHUB_SHA": head,
        "GITHUB_REF": "refs/heads/main",
        "GITHUB_REPOSITORY": REPOSITORY,
    }
    if issuer is not None:
        env.update(issuer.actions_job(github_claims(REPOSITORY, actor)))
    return env


def _run(args: list[str], root: Path, env: dict[str, str], at: datetime) -> tuple[int, float]:
    runtime = Runtime(env=env, cwd=root, stdout=io.StringIO(), stderr=io.StringIO(), clock=lambda: at)
    start = time.perf_counter()
    code = cli_main(args, runtime)
    took = time.perf_counter() - start
    if code not in (0, 1):
        shown = runtime.stderr.getvalue()  # type: ignore[attr-defined]
        raise SystemExit(f"gatekeeper {' '.join(args)} exited {code}: {shown}")
    return code, took


def _approve_times(root: Path, issuer: LocalIssuer, attested: bool, home: Path) -> list[float]:
    times = []
    for i in range(REPEATS):
        env = _ci_env(root, issuer if attested else None, "choi", home)
        # A rejection by a role holder: recorded each time, and never a second step of one person.
        code, took = _run(
            ["approve", RFC_ID, "--step", "cab", "--decision", "reject", "--comment", f"run {i}"],
            root,
            env,
            NOW + timedelta(seconds=i),
        )
        assert code == 0, f"approve exited {code}"
        times.append(took)
    return times


def _fill(root: Path, issuer: LocalIssuer, attested: bool) -> None:
    config = load_config(root / ".gatekeeper.yml")
    ledger = open_ledger(config, root, {})
    try:
        for i in range(APPROVALS):
            moment = NOW - timedelta(hours=2) + timedelta(seconds=i)
            data = {"step": "cab", "decision": "approve", "rfc_digest": "sha256:0", "comment": ""}
            draft = Draft("approval", "minwon-portal", "choi", "github-actions", moment, data, (RFC_ID,))
            ledger.append(_signed(draft, issuer, github_claims(REPOSITORY, "choi")) if attested else draft)
    finally:
        ledger.close()


def _signed(draft: Draft, issuer: LocalIssuer, claims: dict[str, object]) -> Draft:
    """`draft` carrying the token a job with `claims` gets for it from `issuer`, as `approve` or a signing
    job stores it."""
    digest = digest_of(draft)
    token = issuer.mint(claims, audience(digest), issued=draft.at)
    attestation = {"provider": "github", "token": token, "jwk": issuer.keys[0].jwk, "digest": digest}
    return dataclasses.replace(draft, data={**draft.data, "attestation": attestation})


def _fill_evidence(root: Path, issuer: LocalIssuer, signed: bool) -> None:
    """APPROVALS test records of the head, signed (as a CI job on that commit signs them) or not."""
    head = _head(root)
    ledger = open_ledger(load_config(root / ".gatekeeper.yml"), root, {})
    try:
        for i in range(APPROVALS):
            moment = NOW - timedelta(hours=3) + timedelta(seconds=i)
            totals = {"tests": 12, "passed": 12, "failed": 0, "errors": 0, "skipped": 0}
            data: dict[str, object] = {"kind": "integration", "commit": head, "totals": totals}
            draft = Draft("test.evidence", "minwon-portal", "ci", "github-actions", moment, data, (RFC_ID,))
            ledger.append(
                _signed(draft, issuer, github_claims(REPOSITORY, "ci", sha=head)) if signed else draft
            )
    finally:
        ledger.close()


def _fill_deployments(root: Path, issuer: LocalIssuer, signed: bool) -> None:
    """APPROVALS deployment records of the head — each deployment's start and its result, a day apart —
    signed by the deploying job (on the deployed commit) or not."""
    head = _head(root)
    ledger = open_ledger(load_config(root / ".gatekeeper.yml"), root, {})
    try:
        for i in range(APPROVALS // 2):
            moment = NOW - timedelta(days=APPROVALS // 2 - i, hours=1)
            started = {"environment": "staging", "change_type": "normal", "commit": head}
            draft = Draft(
                "deployment.started", "minwon-portal", "ci", "github-actions", moment, started, (RFC_ID,)
            )
            claims = github_claims(REPOSITORY, "ci", sha=head)
            record = ledger.append(_signed(draft, issuer, claims) if signed else draft)
            result = {"started": record.id, "result": "success", "environment": "staging"}
            later = moment + timedelta(minutes=30)
            draft = Draft(
                "deployment.finished", "minwon-portal", "ci", "github-actions", later, result, (RFC_ID,)
            )
            ledger.append(_signed(draft, issuer, claims) if signed else draft)
    finally:
        ledger.close()


def _fill_gitlab_deployments(root: Path, issuer: LocalIssuer, signed: bool) -> None:
    """As `_fill_deployments`, by GitLab deploy jobs: one ID token per job signs its start and its result,
    the result opening the start's seal (`adapters.oidc.chain_link`, through the ledger as `deploy finish`
    does) — so the gate reads each token's other records from the ledger (`Attestor._replay`)."""
    import jwt

    head = _head(root)
    host = issuer.url.split("://", 1)[1]
    ledger = open_ledger(load_config(root / ".gatekeeper.yml"), root, {})
    try:
        for i in range(APPROVALS // 2):
            moment = NOW - timedelta(days=APPROVALS // 2 - i, hours=1)
            claims = gitlab_claims(host, REPOSITORY, "ci", sha=head, job_id=str(5000 + i))
            token = issuer.mint(claims, "gatekeeper", issued=moment)
            minted = jwt.decode(token, options={"verify_signature": False})
            env = {"CI_JOB_TOKEN": f"glcbt-64_job-{i}"}
            started = {"environment": "staging", "change_type": "normal", "commit": head}
            draft = Draft(
                "deployment.started", "minwon-portal", "ci", "gitlab-ci", moment, started, (RFC_ID,)
            )
            record = ledger.append(
                _gitlab_signed(draft, issuer, token, minted, env, ledger) if signed else draft
            )
            result = {"started": record.id, "result": "success", "environment": "staging"}
            later = moment + timedelta(minutes=30)
            draft = Draft("deployment.finished", "minwon-portal", "ci", "gitlab-ci", later, result, (RFC_ID,))
            ledger.append(_gitlab_signed(draft, issuer, token, minted, env, ledger) if signed else draft)
    finally:
        ledger.close()


def _gitlab_signed(
    draft: Draft,
    issuer: LocalIssuer,
    token: str,
    claims: dict[str, object],
    env: dict[str, str],
    ledger: object,
) -> Draft:
    """`draft` carrying a GitLab job's token as `adapters.oidc.sign_record` stores it, chained."""
    from gatekeeper.adapters.oidc import chain_link

    attestation = {
        "provider": "gitlab",
        "token": token,
        "jwk": issuer.keys[0].jwk,
        "digest": digest_of(draft),
        "jti": claims["jti"],
        "job_id": claims["job_id"],
        **chain_link(env, claims, token, ledger),  # type: ignore[arg-type]
    }
    return dataclasses.replace(draft, data={**draft.data, "attestation": attestation})


def _lock_times(root: Path, home: Path) -> list[float]:
    """`deploy start`'s lock precondition (grade 1: each deployment record's signature verified) over the
    ledger, as the critical section reads it."""
    from gatekeeper.adapters.oidc import Attestor
    from gatekeeper.ledger.lock import open_deployments

    config = load_config(root / ".gatekeeper.yml")
    times = []
    for _ in range(REPEATS):
        ledger = open_ledger(config, root, {})
        try:
            start = time.perf_counter()
            attest = Attestor(config, root, {"HOME": str(home)}, NOW, ledger=ledger)
            open_deployments(ledger, "minwon-portal", "staging", attest=attest)
            times.append(time.perf_counter() - start)
        finally:
            ledger.close()
    return times


def _gate_times(root: Path, issuer: LocalIssuer, home: Path) -> list[float]:
    times = []
    for _ in range(REPEATS):
        env = _ci_env(root, None, "han", home)
        code, took = _run(["--format", "json", "gate", "--rfc", RFC_ID], root, env, NOW)
        assert code in (0, 1), f"gate exited {code}"
        times.append(took)
    return times


def _gate_pair(
    base: Path, issuer: LocalIssuer, home: Path, fill: Callable[[Path, LocalIssuer, bool], None]
) -> tuple[float, float, float]:
    """The gate's median time over a grade-1 ledger `fill` left unsigned and over one it left signed, and
    their ratio."""
    unsigned, signed = _repo(base.with_name(base.name + "-plain"), issuer, 1), _repo(base, issuer, 1)
    fill(unsigned, issuer, False)
    fill(signed, issuer, True)
    reference = statistics.median(_gate_times(unsigned, issuer, home))
    verified = statistics.median(_gate_times(signed, issuer, home))
    return reference, verified, verified / reference


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp, LocalIssuer(clock=lambda: NOW) as issuer:
        base = Path(tmp)
        home = base / "home"
        home.mkdir()
        plain = _approve_times(_repo(base / "plain", issuer, 3), issuer, attested=False, home=home)
        signed = _approve_times(_repo(base / "signed", issuer, 3), issuer, attested=True, home=home)
        ratio = statistics.median(signed) / statistics.median(plain)
        print(
            f"approve: {statistics.median(plain) * 1000:.1f} ms without attestation, "
            f"{statistics.median(signed) * 1000:.1f} ms with an ID token from the local issuer "
            f"(median of {REPEATS}); ratio {ratio:.2f}"
        )
        reference, verified, ratio = _gate_pair(base / "approvals", issuer, home, _fill)
        print(
            f"gate: {reference * 1000:.1f} ms reading {APPROVALS} approvals without tokens, "
            f"{verified * 1000:.1f} ms verifying {APPROVALS} attested approvals (median of {REPEATS}); "
            f"ratio {ratio:.2f}"
        )
        reference, verified, ratio = _gate_pair(base / "evidence", issuer, home, _fill_evidence)
        print(
            f"gate: {reference * 1000:.1f} ms reading {APPROVALS} unsigned test records, "
            f"{verified * 1000:.1f} ms verifying {APPROVALS} signed ones (each against the commit it names; "
            f"median of {REPEATS}); ratio {ratio:.2f}"
        )
        reference, verified, ratio = _gate_pair(base / "deployments", issuer, home, _fill_deployments)
        print(
            f"gate: {reference * 1000:.1f} ms reading {APPROVALS} unsigned deployment records, "
            f"{verified * 1000:.1f} ms verifying {APPROVALS} signed ones (each against the deployed commit; "
            f"median of {REPEATS}); ratio {ratio:.2f}"
        )
        reference, verified, ratio = _gate_pair(base / "gitlab", issuer, home, _fill_gitlab_deployments)
        print(
            f"gate: {reference * 1000:.1f} ms reading {APPROVALS} unsigned deployment records, "
            f"{verified * 1000:.1f} ms verifying {APPROVALS} records of GitLab deploy jobs (one token per "
            f"job, each token's records read from the ledger and their seals checked; median of {REPEATS}); "
            f"ratio {ratio:.2f}"
        )
        unsigned_locks = _repo(base / "lock-plain", issuer, 1)
        signed_locks = _repo(base / "lock-signed", issuer, 1)
        _fill_deployments(unsigned_locks, issuer, False)
        _fill_deployments(signed_locks, issuer, True)
        reference = statistics.median(_lock_times(unsigned_locks, home))
        verified = statistics.median(_lock_times(signed_locks, home))
        print(
            f"lock: {reference * 1000:.1f} ms over {APPROVALS} unsigned deployment records, "
            f"{verified * 1000:.1f} ms verifying {APPROVALS} signed ones (median of {REPEATS}); "
            f"ratio {verified / reference:.2f}"
        )
        print(json.dumps({"issuer_requests": len(issuer.requests)}))


if __name__ == "__main__":
    main()
