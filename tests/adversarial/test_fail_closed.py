"""The fail-closed matrix: whatever fact the gate cannot gather blocks it with `gate.error` naming the cause.

Each case starts from the allowed baseline deployment (tests/acceptance.py) and breaks one adapter.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
import yaml

from tests.acceptance import RFC_ID
from tests.adversarial.conftest import Recorder
from tests.adversarial.test_forgery import Deployment, deployed
from tests.ledger.pgcluster import _free_port


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
