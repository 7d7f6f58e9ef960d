"""A change cannot weaken its own gate: every attack of the issue "tamper-proof configuration", through the
real CLI, in a CI job whose clone has the project's `origin` with a protected `main`.

The attacker is a developer with write access: their branch names a valid, fully approved RFC and edits
the governance files — `.gatekeeper.yml`, the standard-change catalogue, CI files — so that the gate of
Tuesday 10:00 KST (business hours, grade 1: blocked) would allow. In CI the configuration comes from the
default branch's tip, and the edit itself is `config.changed`.
"""

from __future__ import annotations

import json
import os
import subprocess
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.acceptance import CATALOGUE, FULL_CHAIN, RELEASE_STEPS, RFC_ID, TUESDAY_EVENING, append_approvals
from tests.adversarial.conftest import Recorder
from tests.adversarial.test_forgery import Deployment, deployed
from tests.helpers import run_cli

MORNING = datetime.fromisoformat("2026-11-24T10:00:00+09:00")  # Tuesday, business hours
EVENING = datetime.fromisoformat(TUESDAY_EVENING)


def _git(repo: Path, *args: str) -> str:
    done = subprocess.run(["git", *args], cwd=repo, capture_output=True, text=True, check=True)
    return done.stdout.strip()


@dataclass
class Governed:
    """A fully approved deployment whose `main` is pushed to `origin`; work goes on in branch `feature`."""

    deployment: Deployment
    origin: Path
    tmp: Path

    @property
    def path(self) -> Path:
        return self.deployment.repo.path

    def config(self) -> dict[str, Any]:
        loaded: dict[str, Any] = yaml.safe_load((self.path / ".gatekeeper.yml").read_text(encoding="utf-8"))
        return loaded

    def commit(self, files: dict[str, str], message: str = f"{RFC_ID} 신청 화면 입력 검증을 보완한다") -> str:
        for name, text in files.items():
            target = self.path / name
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(text, encoding="utf-8")
        # Only these files: the test reports in the workspace stay the job's own (untracked).
        _git(self.path, "add", "--", *files)
        _git(self.path, "commit", "-q", "--no-verify", "-m", message)
        for report in (self.path / "reports").rglob("*.xml"):
            os.utime(report)  # this job's tests ran after its checkout
        return _git(self.path, "rev-parse", "HEAD")

    def approve_release(self) -> None:
        """The release plan's approvals again, for the commit now at HEAD (REL-P1: one commit each)."""
        from gatekeeper.adapters.rfcstore import FileRfcStore
        from gatekeeper.config import load_config
        from gatekeeper.ledger.backends import open_ledger

        config = load_config(self.path / ".gatekeeper.yml")
        entry = FileRfcStore(self.path, config).get(RFC_ID)
        assert entry is not None
        releases = [a for a in FULL_CHAIN if a["step"] in RELEASE_STEPS]
        ledger = open_ledger(config, self.path, self.deployment.env)
        try:
            moment = self.deployment.at.replace(hour=0, minute=0)
            append_approvals(ledger, config, releases, entry.digest, self.deployment.repo.head(), moment)
        finally:
            ledger.close()

    def edit_config(self, change: Callable[[dict[str, Any]], None]) -> str:
        config = self.config()
        change(config)
        return self.commit({".gatekeeper.yml": yaml.safe_dump(config, allow_unicode=True)})

    def ci(self, actor: str = "dev") -> dict[str, str]:
        event = self.tmp / "event.json"
        payload = {"repository": {"default_branch": "main"}, "inputs": {}}
        event.write_text(json.dumps(payload), encoding="utf-8")
        return {
            **self.deployment.env,
            "CI": "true",
            "GITHUB_ACTIONS": "true",
            "GITHUB_ACTOR": actor,
            "GITHUB_EVENT_NAME": "workflow_dispatch",
            "GITHUB_EVENT_PATH": str(event),
            "GITHUB_SHA": self.deployment.repo.head(),
            "GITHUB_REF": "refs/heads/feature",
            "HOME": str(self.tmp / "runner-home"),
        }

    def run(self, *args: str, at: datetime = MORNING, env: dict[str, str] | None = None) -> Any:
        return run_cli(["--format", "json", *args], cwd=self.path, env=env or self.ci(), now=at)

    def gate(self, at: datetime = MORNING) -> tuple[int, dict[str, Any]]:
        result = self.run("gate", "--rfc", RFC_ID, at=at)
        assert result.code in (0, 1), result.stdout + result.stderr
        return result.code, json.loads(result.stdout)


@pytest.fixture
def governed(tmp_path: Path, request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> Governed:
    deployment = deployed("git", tmp_path, request, monkeypatch, {})
    origin = tmp_path / "origin.git"
    subprocess.run(["git", "init", "-q", "--bare", "-b", "main", str(origin)], check=True)
    _git(deployment.repo.path, "remote", "add", "origin", str(origin))
    _git(deployment.repo.path, "push", "-q", "origin", "main")
    _git(deployment.repo.path, "checkout", "-q", "-b", "feature")
    return Governed(deployment, origin, tmp_path)


def _rules(body: dict[str, Any]) -> set[str]:
    return {f["rule"] for f in body["findings"]}


def test_the_control_case_allows_in_the_evening_and_blocks_in_business_hours(
    governed: Governed, reliability: Recorder
) -> None:
    head = governed.commit({"app/form.py": "VALIDATE = True\n"})
    code, body = governed.gate(EVENING)
    assert code == 1 and _rules(body) == {"approval.other-commit"}, body["findings"]  # approved: the old one
    governed.approve_release()
    code, body = governed.gate(EVENING)
    assert code == 0, body["findings"]
    assert body["configuration"] == {"branch": "main", "commit": _git(governed.path, "rev-parse", "main")}
    code, body = governed.gate(MORNING)
    assert code == 1 and "window.business-hours" in _rules(body), body
    assert "config.changed" not in _rules(body)
    assert head == governed.deployment.repo.head()
    reliability.row(
        "a fully approved change of application code, gated in CI",
        "none (the control case)",
        "block until the release is approved for its own commit, then allow at 20:00 KST and block at "
        "10:00 KST; configuration from main",
    )


def _grade_4(config: dict[str, Any]) -> None:
    config["system"]["grade"] = 4


def _utc(config: dict[str, Any]) -> None:
    config["timezone"] = "UTC"


def _closed_today(config: dict[str, Any]) -> None:
    config["calendar"] = {"extra_closed_days": [MORNING.date().isoformat()]}


def _minimal(config: dict[str, Any]) -> None:
    config["policy"] = "minimal"


def _own_ledger(config: dict[str, Any]) -> None:
    config["ledger"] = {"backend": "sqlite", "path": "forged/ledger.db"}


WEAKENINGS: dict[str, Callable[[dict[str, Any]], None]] = {
    "system.grade 1 -> 4": _grade_4,
    "timezone: UTC": _utc,
    "calendar.extra_closed_days: today": _closed_today,
    "policy: minimal": _minimal,
    "ledger.path: a ledger file of the change's own": _own_ledger,
}


@pytest.mark.parametrize("how", sorted(WEAKENINGS))
def test_a_change_that_weakens_its_configuration_is_still_blocked(
    governed: Governed, reliability: Recorder, how: str
) -> None:
    governed.edit_config(WEAKENINGS[how])
    code, body = governed.gate(MORNING)
    rules = _rules(body)
    reliability.row(
        f"the deployed commit edits .gatekeeper.yml: {how}",
        "configuration edited by the change under deployment",
        "block at 10:00 KST: window.business-hours (main's configuration) and config.changed",
    )
    assert code == 1, body
    assert {"window.business-hours", "config.changed"} <= rules, body
    changed = next(f for f in body["findings"] if f["rule"] == "config.changed")
    assert ".gatekeeper.yml" in changed["message"] and "main" in changed["message"]


def test_check_commits_flags_the_edit_of_a_governance_file(governed: Governed, reliability: Recorder) -> None:
    governed.edit_config(_grade_4)
    governed.commit({".github/workflows/deploy.yml": "on: push\njobs: {}\n"})
    result = governed.run("check-commits", "--range", "main..feature")
    body = json.loads(result.stdout)
    changed = [f for f in body["findings"] if f["rule"] == "config.changed"]
    reliability.row(
        "check-commits over commits editing .gatekeeper.yml and a workflow",
        "governance files edited without a declaring RFC",
        "exit 1: config.changed for each commit",
    )
    assert result.code == 1, result.stdout
    assert len(changed) == 2, changed
    assert {".gatekeeper.yml" in f["message"] for f in changed} == {True, False}


def test_a_declared_governance_change_is_judged_by_the_configuration_it_replaces(
    governed: Governed, reliability: Recorder
) -> None:
    """Declaring the edit is not a way around the gate: the decision still uses main's configuration, so
    the grade-1 business-hours rule blocks at 10:00, and the evening deployment is allowed."""
    config = governed.config()
    _grade_4(config)
    rfc_path = governed.path / "changes" / f"{RFC_ID}.yml"
    rfc = yaml.safe_load(rfc_path.read_text(encoding="utf-8"))
    rfc["governance_files"] = [".gatekeeper.yml"]
    governed.commit(
        {
            ".gatekeeper.yml": yaml.safe_dump(config, allow_unicode=True),
            f"changes/{RFC_ID}.yml": yaml.safe_dump(rfc, allow_unicode=True),
        }
    )
    code, body = governed.gate(MORNING)
    assert code == 1 and "window.business-hours" in _rules(body), body
    assert "config.changed" not in _rules(body)
    assert body["grade"] == 1
    reliability.row(
        "an RFC declaring governance_files: [.gatekeeper.yml] with grade 4 in the edit",
        "declared governance change",
        "no config.changed; still grade 1 from main: block at 10:00 KST",
    )


def test_a_change_cannot_define_its_own_standard_entry(governed: Governed, reliability: Recorder) -> None:
    catalogue = {
        **CATALOGUE,
        "changes": [
            *CATALOGUE["changes"],
            {
                "id": "STD-MINE",
                "title": "anything",
                "systems": ["minwon-portal"],
                "paths": ["**"],
                "max_files": 1000,
                "max_lines": 100000,
                "report_to": ["agency-officer"],
            },
        ],
    }
    rfc_path = governed.path / "changes" / f"{RFC_ID}.yml"
    rfc = yaml.safe_load(rfc_path.read_text(encoding="utf-8"))
    rfc.update(type="standard", standard_template="STD-MINE")
    governed.commit(
        {
            "standard-changes.yml": yaml.safe_dump(catalogue, allow_unicode=True),
            f"changes/{RFC_ID}.yml": yaml.safe_dump(rfc, allow_unicode=True),
        }
    )
    code, body = governed.gate(MORNING)
    rules = _rules(body)
    reliability.row(
        "the deployed commit adds its own entry to the standard-change catalogue",
        "catalogue edited by the change under deployment",
        "main's catalogue has no such entry: standard.template-unknown, config.changed, block",
    )
    assert code == 1, body
    assert {"standard.template-unknown", "config.changed"} <= rules, body


def test_a_ledger_inside_the_work_tree_is_refused_in_ci(governed: Governed, reliability: Recorder) -> None:
    """main's own configuration keeps its ledger in the checkout: whatever the job wrote there would be
    gone with the job, and a change could supply the file."""
    _git(governed.path, "checkout", "-q", "main")
    config = governed.config()
    config["ledger"] = {"backend": "sqlite", "path": ".gatekeeper/ledger.db"}
    governed.commit({".gatekeeper.yml": yaml.safe_dump(config, allow_unicode=True)})
    _git(governed.path, "push", "-q", "origin", "main")
    result = governed.run("approve", RFC_ID, "--step", "cab", "--decision", "approve", at=EVENING)
    reliability.row(
        "approve in CI with ledger.path .gatekeeper/ledger.db (in the checkout)",
        "ledger inside the change's work tree",
        "exit 2 naming ledger.path; nothing recorded",
        lost=int(result.code == 0),
    )
    assert result.code == 2, result.stdout + result.stderr
    assert "ledger.path" in result.stderr and "work tree" in result.stderr
    assert not (governed.path / ".gatekeeper" / "ledger.db").exists()


def test_without_the_default_branch_nothing_is_decided(governed: Governed, reliability: Recorder) -> None:
    governed.commit({"app/form.py": "VALIDATE = True\n"})
    _git(governed.path, "remote", "set-url", "origin", str(governed.tmp / "gone.git"))
    result = governed.run("gate", "--rfc", RFC_ID, at=EVENING)
    reliability.row(
        "a CI job whose origin cannot be fetched",
        "default branch unreadable",
        "exit 3 naming the default branch; the change's own configuration is never used",
    )
    assert result.code == 3, result.stdout + result.stderr
    assert "default branch main" in result.stderr and "Traceback" not in result.stderr


def test_a_default_branch_without_a_configuration_is_a_clear_error(
    governed: Governed, reliability: Recorder
) -> None:
    _git(governed.path, "checkout", "-q", "--orphan", "empty")
    _git(governed.path, "rm", "-q", "-r", "--cached", ".")
    _git(governed.path, "commit", "-q", "--allow-empty", "-m", "empty")
    _git(governed.path, "push", "-q", "-f", "origin", "empty:main")
    _git(governed.path, "checkout", "-q", "-f", "feature")
    result = governed.run("gate", "--rfc", RFC_ID, at=EVENING)
    reliability.row(
        "a CI job on a repository whose default branch has no .gatekeeper.yml",
        "configuration only in the change",
        "exit 2: merge the configuration through review first",
    )
    assert result.code == 2, result.stdout + result.stderr
    assert "has no .gatekeeper.yml" in result.stderr
