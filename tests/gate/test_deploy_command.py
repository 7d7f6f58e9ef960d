"""`deploy start` and `deploy finish` on a real repository and sqlite ledger."""

from __future__ import annotations

import json
import threading
from datetime import datetime

from gatekeeper.config import load_config
from gatekeeper.ledger.backends import open_ledger
from tests.acceptance import RFC_ID, build
from tests.helpers import GitRepo, run_cli
from tests.platform.oidc import record_baseline

EVENING = datetime.fromisoformat("2026-11-24T20:00:00+09:00")


def records(repo: GitRepo, kind: str) -> list:  # type: ignore[type-arg]
    ledger = open_ledger(load_config(repo.path / ".gatekeeper.yml"), repo.path, {})
    try:
        return list(ledger.find(kind=kind))
    finally:
        ledger.close()


def start(repo: GitRepo, at: datetime = EVENING) -> tuple[int, dict]:  # type: ignore[type-arg]
    result = run_cli(["--format", "json", "deploy", "start", "--rfc", RFC_ID], cwd=repo.path, now=at)
    return result.code, (json.loads(result.stdout) if result.stdout else {"stderr": result.stderr})


def test_start_records_the_deployment_and_prints_its_id(repo: GitRepo) -> None:
    build(repo, {})
    code, body = start(repo)
    assert code == 0 and body["decision"] == "allow"
    (started,) = records(repo, "deployment.started")
    assert body["deployment_id"] == started.id
    assert started.data["change_type"] == "normal" and started.data["environment"] == "production"
    text = run_cli(["gate", "--rfc", RFC_ID], cwd=repo.path, now=EVENING)
    assert text.code == 1 and "deploy.concurrent" in text.stdout


def test_start_writes_nothing_when_blocked(repo: GitRepo) -> None:
    build(repo, {})
    code, body = start(repo, datetime.fromisoformat("2026-11-24T10:00:00+09:00"))
    assert code == 1 and "deployment_id" not in body
    assert records(repo, "deployment.started") == []


def test_start_refuses_to_move_the_record_time(repo: GitRepo) -> None:
    build(repo, {})
    result = run_cli(
        ["deploy", "start", "--rfc", RFC_ID, "--at", "2026-11-23T20:00:00+09:00"], cwd=repo.path, now=EVENING
    )
    assert result.code == 2 and "gate --at" in result.stderr


def test_two_racing_starts_have_exactly_one_winner(repo: GitRepo) -> None:
    build(repo, {})
    codes: list[int] = []
    threads = [threading.Thread(target=lambda: codes.append(start(repo)[0])) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(codes) == [0, 1]
    assert len(records(repo, "deployment.started")) == 1


def test_finish_releases_the_lock(repo: GitRepo) -> None:
    build(repo, {})
    _, body = start(repo)
    done = run_cli(
        [
            "deploy",
            "finish",
            body["deployment_id"],
            "--result",
            "success",
            "--verifier",
            "kim",
            "--monitoring",
            "정상",
        ],
        cwd=repo.path,
        now=EVENING,
    )
    assert done.code == 0, done.stderr
    (finished,) = records(repo, "deployment.finished")
    assert finished.data["started"] == body["deployment_id"] and finished.data["verifier"] == "kim"
    assert records(repo, "incident.opened") == []
    assert start(repo)[0] == 0  # the lock is free again


def test_rollback_outside_hours_opens_a_lowered_incident(repo: GitRepo) -> None:
    build(repo, {})
    _, body = start(repo)
    result = run_cli(
        [
            "--format",
            "json",
            "deploy",
            "finish",
            body["deployment_id"],
            "--result",
            "rolled-back",
            "--errors",
            "500 on submit",
        ],
        cwd=repo.path,
        now=EVENING,
    )
    assert result.code == 0, result.stderr
    (incident,) = records(repo, "incident.opened")
    # Grade-1 system, Tuesday 20:00 (outside internal hours), fixed by the rollback before Wednesday 09:00.
    assert incident.data["grade"] == 2 and incident.data["status"] == "resolved"
    assert json.loads(result.stdout)["incident"]["grade"] == 2


def test_failure_keeps_the_system_grade(repo: GitRepo) -> None:
    build(repo, {})
    _, body = start(repo)
    run_cli(["deploy", "finish", body["deployment_id"], "--result", "failure"], cwd=repo.path, now=EVENING)
    (incident,) = records(repo, "incident.opened")
    assert incident.data["grade"] == 1 and incident.data["status"] == "open"


def test_finishing_an_unknown_deployment_is_an_input_error(repo: GitRepo) -> None:
    build(repo, {})
    result = run_cli(["deploy", "finish", "nope", "--result", "success"], cwd=repo.path, now=EVENING)
    assert result.code == 2 and "no deployment.started" in result.stderr


def test_emergency_deployment_is_recorded_as_such(repo: GitRepo) -> None:
    opened = {  # the incident it fixes, recorded by the operator manager in the pipeline
        "kind": "incident.opened",
        "actor": "han",
        "hours_ago": 10.2,
        "rfcs": [],
        "data": {"incident_id": "INC-2026-0007", "type": "service-outage", "title": "t", "grade": 3},
    }
    build(
        repo,
        {"rfc": {"type": "emergency", "incident": "INC-2026-0007"}, "approvals": [], "records": [opened]},
    )
    code, body = start(repo, datetime.fromisoformat("2026-11-24T10:30:00+09:00"))
    assert code == 0, body
    (started,) = records(repo, "deployment.started")
    assert started.data["change_type"] == "emergency"
    assert started.data["incident"] == "INC-2026-0007"  # what a later emergency's debt is compared with


def test_start_in_github_actions_sets_the_deployment_id_step_output(repo: GitRepo, tmp_path) -> None:  # type: ignore[no-untyped-def]
    build(repo, {})
    event, outputs, summary = tmp_path / "event.json", tmp_path / "output", tmp_path / "summary.md"
    event.write_text("{}", encoding="utf-8")
    env = {
        "GITHUB_ACTIONS": "true",
        "GITHUB_ACTOR": "choi",
        "GITHUB_EVENT_NAME": "workflow_dispatch",
        "GITHUB_EVENT_PATH": str(event),
        "GITHUB_SHA": repo.head(),
        "GITHUB_REF": "refs/heads/main",
        "GITHUB_OUTPUT": str(outputs),
        "GITHUB_STEP_SUMMARY": str(summary),
    }
    result = run_cli(["deploy", "start", "--rfc", RFC_ID], cwd=repo.path, env=env, now=EVENING)
    assert result.code == 0, result.stdout + result.stderr
    (started,) = records(repo, "deployment.started")
    values = _step_outputs(outputs.read_text(encoding="utf-8"))
    assert values["deployment-id"] == started.id
    assert values["decision"] == "allow"
    assert "ALLOWED" in summary.read_text(encoding="utf-8") or "허용" in summary.read_text(encoding="utf-8")


def _step_outputs(text: str) -> dict[str, str]:
    """Parse $GITHUB_OUTPUT as the runner does: `name=value` lines and `name<<DELIMITER` blocks."""
    values: dict[str, str] = {}
    lines = iter(text.splitlines())
    for line in lines:
        if "<<" in line:
            name, delimiter = line.split("<<", 1)
            body = []
            for inner in lines:
                if inner == delimiter:
                    break
                body.append(inner)
            values[name] = "\n".join(body)
        elif "=" in line:
            name, value = line.split("=", 1)
            values[name] = value
    return values


def _finish(repo: GitRepo, deployment: str, *extra: str) -> tuple[int, str]:
    result = run_cli(
        ["deploy", "finish", deployment, "--result", "success", *extra], cwd=repo.path, now=EVENING
    )
    return result.code, result.stderr


def test_finish_records_the_deployed_artefacts_and_the_baseline_compares_them(repo: GitRepo) -> None:
    import hashlib

    import yaml

    build(repo, {})
    config = yaml.safe_load((repo.path / ".gatekeeper.yml").read_text(encoding="utf-8"))
    config["baseline"] = {"items": [{"id": "changes", "kind": "document", "paths": ["changes/*.yml"]}]}
    repo.write(".gatekeeper.yml", yaml.safe_dump(config, allow_unicode=True))
    (repo.path / "dist").mkdir()
    wheel = repo.path / "dist" / "app.whl"
    wheel.write_bytes(b"release one")
    (repo.path / "dist" / "site.tar").write_bytes(b"static site")

    _, first = start(repo)
    assert (
        _finish(
            repo, first["deployment_id"], "--artifact", "dist/app.whl", "--artifact", "site=dist/site.tar"
        )[0]
        == 0
    )
    (finished,) = records(repo, "deployment.finished")
    assert finished.data["artifacts"] == {
        "app.whl": "sha256:" + hashlib.sha256(b"release one").hexdigest(),
        "site": "sha256:" + hashlib.sha256(b"static site").hexdigest(),
    }
    record_baseline(repo.path, "1.0", EVENING, "han")  # the operator manager's, in the pipeline

    wheel.write_bytes(b"release two")
    _, second = start(repo)
    assert _finish(repo, second["deployment_id"], "--artifact", "dist/app.whl")[0] == 0
    diff = run_cli(["--format", "json", "baseline", "diff"], cwd=repo.path, now=EVENING)
    body = json.loads(diff.stdout)
    (change,) = body["artifacts"]  # the site was not redeployed: its digest stands
    assert change["name"] == "production:app.whl" and change["status"] == "changed"
    assert change["after"] == "sha256:" + hashlib.sha256(b"release two").hexdigest()
    assert change["deployment_id"] == second["deployment_id"] and change["rfcs"] == [RFC_ID]
    assert body["ok"] is True and change["drift"] is False


def test_finish_refuses_artefacts_it_cannot_read_and_writes_nothing(repo: GitRepo) -> None:
    build(repo, {})
    (repo.path / "app.whl").write_bytes(b"x")
    _, body = start(repo)
    code, err = _finish(repo, body["deployment_id"], "--artifact", "dist/missing.whl")
    assert code == 2 and "cannot read the artefact dist/missing.whl" in err
    code, err = _finish(repo, body["deployment_id"], "--artifact", "app.whl", "--artifact", "app.whl")
    assert code == 2 and "names 'app.whl' twice" in err
    code, err = _finish(repo, body["deployment_id"], "--artifact", "app=")
    assert code == 2 and "names no file" in err
    assert records(repo, "deployment.finished") == []
    assert start(repo)[0] == 1  # the deployment is still open: its lock holds


def test_workspace_evidence_is_recorded_and_the_audit_agrees_with_the_gate(repo: GitRepo) -> None:
    """The gate allowed on JUnit reports found in the workspace: `deploy start` records them as
    `test.evidence` (with their digests and the commit) before the deployment, which names them, so the
    audit finds the deployment tested — the answer the gate gave."""
    at, head = build(repo, {})
    code, body = start(repo, at)
    assert code == 0, body
    # [0]: the integration evidence the case world records before the release approvals it certifies
    evidence = records(repo, "test.evidence")[1:]
    assert {(r.data["kind"], r.data["commit"], r.data["source"]) for r in evidence} == {
        ("unit", head, "workspace"),
        ("integration", head, "workspace"),
    }
    assert all(r.data["digest"].startswith("sha256:") for r in evidence)
    (started,) = records(repo, "deployment.started")
    facts = started.data["facts"]
    assert sorted(facts["evidence"]) == sorted(r.seq for r in records(repo, "test.evidence"))
    assert {a["step"] for a in facts["approvals"]} == {
        "change-review",
        "change-approval",
        "cab",
        "release-first",
        "release-second",
    }
    assert facts["policy"]["name"] == "kr-ap-sop" and facts["config"].startswith("sha256:")
    assert "dev" in facts["identities"]  # the commit's author may approve nothing of this change
    finish = run_cli(
        ["deploy", "finish", body["deployment_id"], "--result", "success"], cwd=repo.path, now=at
    )
    assert finish.code == 0, finish.stderr
    audit = run_cli(["--format", "json", "audit", "--no-record"], cwd=repo.path, now=at)
    items = {i["id"]: i for i in json.loads(audit.stdout)["items"]}
    for item in ("release.tested", "change.approvals", "change.business-hours", "release.exclusive"):
        assert items[item]["result"] == "conform", items[item]
        assert f"seq:{started.seq}" in items[item]["evidence"], item
    # A second start of the same commit records the same reports no second time.
    again = run_cli(["deploy", "start", "--rfc", RFC_ID], cwd=repo.path, now=at)
    assert again.code == 0, again.stdout
    assert len(records(repo, "test.evidence")) == 3  # with the one the release approvals certify


def test_a_report_already_recorded_with_evidence_add_is_not_recorded_again(repo: GitRepo) -> None:
    at, _ = build(repo, {})
    for kind, folder in (("unit", "unit"), ("integration", "it")):
        added = run_cli(
            ["evidence", "add", "--kind", kind, f"reports/{folder}/result.xml"], cwd=repo.path, now=at
        )
        assert added.code == 0, added.stderr
    code, body = start(repo, at)
    assert code == 0, body
    evidence = records(repo, "test.evidence")[1:]  # [0]: what the release approvals certify
    assert len(evidence) == 2 and all("source" not in r.data for r in evidence)  # both from `evidence add`
    (started,) = records(repo, "deployment.started")
    assert sorted(started.data["facts"]["evidence"]) == sorted(r.seq for r in records(repo, "test.evidence"))
