"""The fail-closed matrix: whatever fact the gate cannot gather blocks it with `gate.error` naming the cause.

Each case starts from the allowed baseline deployment (tests/acceptance.py) and breaks one adapter.
"""

from __future__ import annotations

import json
import subprocess
import threading
import time
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
import yaml

from gatekeeper.adapters.localissuer import LocalIssuer
from tests.acceptance import RFC_ID
from tests.adversarial.conftest import Recorder
from tests.adversarial.test_forgery import Deployment, deployed
from tests.ledger.pgcluster import _free_port
from tests.platform.oidc import Jobs, add_oidc


def _blocked(deployment: Deployment, *extra: str, env: dict[str, str] | None = None) -> list[dict[str, str]]:
    result = deployment.cli("--format", "json", "gate", "--rfc", RFC_ID, *extra, env=env)
    assert result.code == 1, f"exit {result.code}: {result.stdout}{result.stderr}"
    body = json.loads(result.stdout)
    assert body["decision"] == "block"
    return [f for f in body["findings"] if f["rule"] == "gate.error"]


def _edit_config(deployment: Deployment, change: Callable[[dict[str, object]], None]) -> None:
    path = deployment.repo.path / ".gatekeeper.yml"
    config = yaml.safe_load(path.read_text(encoding="utf-8"))
    change(config)
    path.write_text(yaml.safe_dump(config, allow_unicode=True), encoding="utf-8")


@pytest.fixture
def issuer(baseline: Deployment) -> Iterator[LocalIssuer]:
    with LocalIssuer(clock=lambda: baseline.at) as running:
        yield running


def _attested_job(deployment: Deployment, issuer: LocalIssuer, tmp_path: Path, actor: str) -> dict[str, str]:
    """The environment of an approval job whose platform attests `actor` (approvals in CI must be). The
    configuration as edited is committed to `main`: in CI it is read from the default branch."""
    add_oidc(deployment.repo.path / ".gatekeeper.yml", issuer)
    _git(deployment.repo.path, "add", ".gatekeeper.yml")
    _git(deployment.repo.path, "commit", "-q", "-m", f"{RFC_ID} 원장 설정")
    return Jobs(issuer, tmp_path, deployment.repo.head()).github(actor)


@pytest.fixture
def baseline(tmp_path: Path, request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> Deployment:
    deployment = deployed("sqlite", tmp_path, request, monkeypatch, {})
    assert deployment.cli("gate", "--rfc", RFC_ID).code == 0
    return deployment


def test_sqlite_ledger_unavailable(baseline: Deployment, reliability: Recorder) -> None:
    _edit_config(
        baseline, lambda c: c.update(ledger={"backend": "sqlite", "path": "no/such/dir/is/here/x.db"})
    )
    (baseline.repo.path / "no").write_text("a file where a folder should be", encoding="utf-8")
    errors = _blocked(baseline)
    assert errors and "ledger" in errors[0]["subject"]
    reliability.row("sqlite ledger path unusable", "ledger unavailable", "gate.error: the ledger")


def test_postgres_ledger_unavailable(baseline: Deployment, reliability: Recorder) -> None:
    _edit_config(baseline, lambda c: c.update(ledger={"backend": "postgres"}))
    env = {
        "GATEKEEPER_LEDGER_DSN": f"postgresql://nobody@127.0.0.1:{_free_port()}/postgres?connect_timeout=3"
    }
    errors = _blocked(baseline, env=env)
    assert errors and "ledger" in errors[0]["subject"]
    reliability.row(
        "PostgreSQL ledger on a port nobody listens on", "ledger unavailable", "gate.error: the ledger"
    )


def test_git_ledger_unavailable(baseline: Deployment, reliability: Recorder) -> None:
    _edit_config(
        baseline, lambda c: c.update(ledger={"backend": "git", "repository": "/nonexistent/ledger.git"})
    )
    errors = _blocked(baseline)
    assert errors and "ledger" in errors[0]["subject"]
    reliability.row("git ledger repository missing", "ledger unavailable", "gate.error: the ledger")


@pytest.mark.parametrize(
    ("name", "content"),
    [
        ("truncated", b'<?xml version="1.0"?><testsuite tests="3"><testcase name="a"/>'),
        ("binary", bytes(range(256)) * 4),
        ("empty", b""),
        ("unknown encoding", b'<?xml version="1.0" encoding="utf-9"?><testsuite tests="1"/>'),
        ("not a test report", b"<html><body>build log</body></html>"),
    ],
)
def test_unreadable_evidence(baseline: Deployment, reliability: Recorder, name: str, content: bytes) -> None:
    (baseline.repo.path / "reports" / "unit" / "result.xml").write_bytes(content)
    errors = _blocked(baseline)
    assert errors and errors[0]["subject"] == "test evidence reports/unit/result.xml", errors
    reliability.row(f"unit report {name}", "unreadable evidence", "gate.error naming the file")


def test_a_calendar_year_missing(baseline: Deployment, reliability: Recorder) -> None:
    from gatekeeper.domain.calendar import holiday_years

    year = holiday_years()[1] + 1
    errors = _blocked(baseline, "--at", f"{year}-11-24T20:00:00+09:00")
    assert errors and "calendar" in errors[0]["subject"], errors
    reliability.row(
        f"deployment in {year}, past the installed holiday data",
        "calendar year missing",
        "gate.error: the business calendar",
    )


def test_a_config_naming_an_unknown_policy_pack_is_exit_2(
    baseline: Deployment, reliability: Recorder
) -> None:
    _edit_config(baseline, lambda c: c.update(policy="no-such-pack"))
    result = baseline.cli("gate", "--rfc", RFC_ID)
    assert result.code == 2 and "no-such-pack" in result.stderr
    reliability.row("configuration naming a policy pack that does not exist", "bad configuration", "exit 2")


# --------------------------------------------------------------------------------- platform APIs


class _Failing(BaseHTTPRequestHandler):
    mode = "500"

    def do_GET(self) -> None:
        if self.mode == "timeout":
            time.sleep(20)
            return
        status = {"500": 500, "502": 502, "rate-limit": 403}[self.mode]
        body = json.dumps(
            {"message": "API rate limit exceeded" if self.mode == "rate-limit" else "boom"}
        ).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        if self.mode == "rate-limit":
            self.send_header("X-RateLimit-Remaining", "0")
            self.send_header("X-RateLimit-Reset", str(int(time.time()) + 3600))
            self.send_header("Retry-After", "3600")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    do_POST = do_GET

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def failing_api(request: pytest.FixtureRequest) -> Iterator[str]:
    handler = type("Handler", (_Failing,), {"mode": request.param})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


@pytest.mark.parametrize("failing_api", ["500", "502", "rate-limit", "timeout"], indirect=True)
def test_github_api_failures_block_with_gate_error(
    baseline: Deployment, failing_api: str, reliability: Recorder, request: pytest.FixtureRequest
) -> None:
    mode = request.node.callspec.params["failing_api"]
    reliability.row(f"GitHub API answering {mode}", "platform API failure", "gate.error: the RFC store")
    _edit_config(
        baseline,
        lambda c: (c["rfc"].update(store="github"), c.update(platform={"github": {"api_url": failing_api}})),
    )
    env = {"GITHUB_TOKEN": "t0ken", "GITHUB_REPOSITORY": "agency/minwon", "GITHUB_API_URL": failing_api}
    errors = _blocked(baseline, env=env)
    assert errors and "RFC store" in errors[0]["subject"], errors
    assert "t0ken" not in json.dumps(errors)


# ---------------------------------------------------------------- nothing acknowledged is lost (CI)


def _git(cwd: Path, *args: str) -> str:
    return subprocess.run(["git", *args], cwd=cwd, capture_output=True, text=True, check=True).stdout.strip()


def _bare(path: Path) -> Path:
    subprocess.run(["git", "init", "-q", "--bare", str(path)], check=True)
    return path


def _branches(git_dir: Path) -> str:
    return subprocess.run(
        ["git", f"--git-dir={git_dir}", "for-each-ref", "refs/heads/gatekeeper"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout


def _remotes(repo: Path, shared: Path, elsewhere: Path, case: str) -> dict[str, object]:
    """Set up the clone's remotes for `case`; returns the ledger configuration."""
    if case == "a clone whose only remote is not named origin":
        _git(repo, "remote", "add", "upstream", str(shared))
        return {"backend": "git"}
    if case == "ledger.remote misspelt (orgin)":
        _git(repo, "remote", "add", "origin", str(shared))
        return {"backend": "git", "remote": "orgin"}
    if case == "a clone without any remote":
        return {"backend": "git"}
    _git(repo, "remote", "add", "origin", str(shared))  # pushes go to another repository than reads
    _git(repo, "remote", "set-url", "--push", "origin", str(elsewhere))
    return {"backend": "git"}


LOSING_REMOTES = [
    "a clone whose only remote is not named origin",
    "ledger.remote misspelt (orgin)",
    "a clone without any remote",
    "pushes going elsewhere than the ledger everyone reads (pushurl)",
]


@pytest.mark.parametrize("case", LOSING_REMOTES)
def test_in_ci_a_record_that_cannot_reach_the_shared_ledger_is_never_acknowledged(
    baseline: Deployment, issuer: LocalIssuer, reliability: Recorder, tmp_path: Path, case: str
) -> None:
    shared, elsewhere = _bare(tmp_path / "shared.git"), _bare(tmp_path / "elsewhere.git")
    settings = _remotes(baseline.repo.path, shared, elsewhere, case)
    _edit_config(baseline, lambda c: c.update(ledger=settings))
    ci = _attested_job(baseline, issuer, tmp_path, "park")
    _git(baseline.repo.path, "push", "-q", str(shared), "main")  # what `origin` serves, where there is one
    result = baseline.cli("approve", RFC_ID, "--step", "cab", "--decision", "approve", env=ci)
    reliability.row(
        f"gatekeeper approve in CI, git ledger: {case}",
        "record would stay on the runner",
        "exit 3, nothing acknowledged",
        lost=int(result.code == 0 and not _branches(shared)),
    )
    assert result.code == 3, result.stdout + result.stderr
    assert "recorded" not in result.stdout and "Traceback" not in result.stderr
    assert _branches(shared) == "" and _branches(baseline.repo.path / ".git") == ""


def test_in_ci_a_record_reaches_the_shared_ledger_and_the_clone_stays_whole(
    baseline: Deployment, issuer: LocalIssuer, reliability: Recorder, tmp_path: Path
) -> None:
    shared = _bare(tmp_path / "shared.git")
    _git(baseline.repo.path, "remote", "add", "origin", str(shared))
    _edit_config(baseline, lambda c: c.update(ledger={"backend": "git"}))
    ci = _attested_job(baseline, issuer, tmp_path, "park")
    _git(baseline.repo.path, "push", "-q", str(shared), "main")  # the project's default branch
    result = baseline.cli("approve", RFC_ID, "--step", "cab", "--decision", "approve", env=ci)
    assert result.code == 0, result.stderr
    assert "refs/heads/gatekeeper/ledger" in _branches(shared)
    # The ledger is fetched into a cache beside the clone: the clone itself never becomes shallow.
    assert _git(baseline.repo.path, "rev-parse", "--is-shallow-repository") == "false"
    assert _branches(baseline.repo.path / ".git") == ""
    reliability.row(
        "gatekeeper approve in CI, git ledger on the clone's origin",
        "none (the control case)",
        "exit 0 only once the remote's branch holds the record",
    )
