"""Anchors on the CI platform: a job that stores records posts the ledger's head as the `gatekeeper/ledger`
commit status of its commit, and `ledger verify --anchors-from` reads every such status back. Whoever can
rewrite the ledger (its branch, its database file) cannot delete those statuses, so a rebuilt or shortened
ledger fails against them — and a status forged under gatekeeper's name is reported, never trusted.

The platform APIs answer from recorded responses on 127.0.0.1 (tests/platform/replay.py); the ledger, the
repository and the CLI are real.
"""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path
from typing import Any

import pytest

from tests.adversarial.conftest import Recorder
from tests.helpers import GitRepo, git, run_cli
from tests.platform.replay import serve

RFC = "RFC-2026-0001"
TOKEN = "ghp_AnchorTestToken0123456789abcdef"
GL_TOKEN = "glpat-AnchorTestToken0123"


def _ready(repo: GitRepo) -> Path:
    """A grade-3 system whose sqlite ledger lives beside the checkout (CI refuses one inside it), with the
    RFC committed and two approvals recorded from a workstation."""
    ledger = repo.keep_ledger_outside()
    config = repo.path / ".gatekeeper.yml"
    config.write_text(config.read_text(encoding="utf-8").replace("grade: 1", "grade: 3"), encoding="utf-8")
    repo.add_rfc(RFC)
    repo.commit(f"{RFC} add the RFC")
    for step in ("change-review", "cab"):
        assert run_cli(["approve", RFC, "--step", step, "--decision", "approve"], cwd=repo.path).code == 0
    return ledger


def _github_job(repo: GitRepo, api: str, tmp_path: Path) -> dict[str, str]:
    event = tmp_path / "event.json"
    event.write_text(json.dumps({"sender": {"login": "kim"}, "ref": "refs/heads/main"}), encoding="utf-8")
    summary, output = tmp_path / "summary.md", tmp_path / "output.txt"
    summary.touch()
    output.touch()
    return {
        "GITHUB_ACTIONS": "true",
        "GITHUB_ACTOR": "kim",
        "GITHUB_EVENT_NAME": "workflow_dispatch",
        "GITHUB_EVENT_PATH": str(event),
        "GITHUB_SHA": repo.head(),
        "GITHUB_REF": "refs/heads/main",
        "GITHUB_REPOSITORY": "agency/minwon",
        "GITHUB_RUN_ID": "4242",
        "GITHUB_TOKEN": TOKEN,
        "GITHUB_API_URL": api,
        "GITHUB_STEP_SUMMARY": str(summary),
        "GITHUB_OUTPUT": str(output),
    }


def _auditor(api: str) -> dict[str, str]:
    """An auditor's workstation (no CI): the API token and repository are all `--anchors-from` needs."""
    return {"GITHUB_TOKEN": TOKEN, "GITHUB_REPOSITORY": "agency/minwon", "GITHUB_API_URL": api}


def _head(repo: GitRepo) -> str:
    body = json.loads(run_cli(["--format", "json", "ledger", "head"], cwd=repo.path).stdout)
    return str(body["anchor"])


def _status(description: str, login: str = "github-actions[bot]", context: str = "gatekeeper/ledger") -> Any:
    return {
        "context": context,
        "state": "success",
        "description": description,
        "creator": {"login": login},
        "created_at": "2026-11-24T01:00:00Z",
    }


def _statuses(repo: GitRepo, *statuses: Any, empty_commits: bool = True) -> list[dict[str, Any]]:
    """The commit statuses GitHub answers: `statuses` on HEAD, none on its other commits."""
    head = repo.head()
    exchanges = [
        {"method": "GET", "path": f"/repos/agency/minwon/commits/{head}/statuses", "body": list(statuses)}
    ]
    if empty_commits:
        for sha in git(repo.path, "rev-list", "HEAD").split()[1:]:
            exchanges.append(
                {"method": "GET", "path": f"/repos/agency/minwon/commits/{sha}/statuses", "body": []}
            )
    return exchanges


def test_a_job_that_stores_a_record_anchors_the_head_on_its_commit(
    repo: GitRepo, tmp_path: Path, reliability: Recorder
) -> None:
    _ready(repo)
    with serve([]) as api:
        head_sha = repo.head()
        api.add(
            {"method": "POST", "path": f"/repos/agency/minwon/statuses/{head_sha}", "status": 201, "body": {}}
        )
        env = _github_job(repo, api.base, tmp_path)
        stored = run_cli(["notice", RFC, "--to", "KISA"], cwd=repo.path, env=env)
        assert stored.code == 0, stored.stdout + stored.stderr
        posted = api.requests("POST", f"/repos/agency/minwon/statuses/{head_sha}")
        assert not api.unmatched
    head = _head(repo)
    assert head.startswith("3:")
    assert len(posted) == 1 and posted[0].body["context"] == "gatekeeper/ledger"
    assert posted[0].body["state"] == "success" and head in posted[0].body["description"]
    assert posted[0].body["target_url"] == "https://github.com/agency/minwon/actions/runs/4242"
    assert head in Path(env["GITHUB_STEP_SUMMARY"]).read_text(encoding="utf-8")
    assert "ledger-head<<" in Path(env["GITHUB_OUTPUT"]).read_text(encoding="utf-8")
    assert f"ledger head {head}" in stored.stderr
    reliability.row(
        "a job stores a record (`notice` in GitHub Actions)",
        "none: the anchor itself",
        "head posted as commit status `gatekeeper/ledger`, in the job summary and output",
    )


def test_an_unreachable_platform_leaves_the_record_and_warns(
    repo: GitRepo, tmp_path: Path, reliability: Recorder
) -> None:
    _ready(repo)
    env = _github_job(repo, "http://127.0.0.1:9", tmp_path)  # nothing listens on the discard port
    stored = run_cli(["notice", RFC, "--to", "KISA"], cwd=repo.path, env=env)
    assert stored.code == 0, stored.stderr
    assert "could not anchor the ledger head" in stored.stderr and "Traceback" not in stored.stderr
    assert _head(repo).startswith("3:")
    assert TOKEN not in stored.stderr.replace(f"::add-mask::{TOKEN}", "")
    reliability.row(
        "the platform API is down when a job anchors its head",
        "dead server",
        "record stored (exit 0), warning; the job log and summary still hold the head",
    )


def test_verify_holds_against_the_platform_anchors(repo: GitRepo, reliability: Recorder) -> None:
    _ready(repo)
    head = _head(repo)
    with serve(_statuses(repo, _status(f"gatekeeper ledger head {head}"))) as api:
        verified = run_cli(
            ["--format", "json", "ledger", "verify", "--anchors-from", "github"],
            cwd=repo.path,
            env=_auditor(api.base),
        )
        assert not api.unmatched
    body = json.loads(verified.stdout)
    assert verified.code == 0 and body["ok"] is True and body["anchors"] == [head]
    assert body["anchors_from"] == "github"
    reliability.row(
        "`ledger verify --anchors-from github` on an intact ledger", "none", "exit 0, anchor held"
    )


def test_a_rebuilt_ledger_fails_against_the_anchor_it_cannot_delete(
    repo: GitRepo, reliability: Recorder
) -> None:
    ledger = _ready(repo)
    head = _head(repo)
    db = sqlite3.connect(ledger)
    with db:
        db.execute("DELETE FROM records WHERE seq = 2")  # the last decision, cut off
    db.close()
    plain = run_cli(["ledger", "verify"], cwd=repo.path)
    assert plain.code == 0, "the shorter chain verifies on its own: only an anchor can tell"
    with serve(_statuses(repo, _status(f"gatekeeper ledger head {head}"))) as api:
        checked = run_cli(
            ["ledger", "verify", "--anchors-from", "github"], cwd=repo.path, env=_auditor(api.base)
        )
    assert checked.code == 1
    assert "records were removed" in checked.stdout and "by github-actions[bot]" in checked.stdout
    with serve(_statuses(repo, _status(f"gatekeeper ledger head {head}"))) as api:
        korean = run_cli(
            ["--lang", "ko", "ledger", "verify", "--anchors-from", "github"],
            cwd=repo.path,
            env=_auditor(api.base),
        )
    assert korean.code == 1 and "레코드가 삭제되었습니다" in korean.stdout
    reliability.row(
        "the ledger's last record deleted from the database file (the chain still verifies)",
        "forgery",
        "`ledger verify --anchors-from github` exit 1: records were removed, naming the status",
    )


def test_a_rebuilt_chain_fails_against_its_anchor(repo: GitRepo, reliability: Recorder) -> None:
    """Record 2's decision turned into a rejection and every hash recomputed: the chain verifies, the
    anchored hash is no longer there."""
    from gatekeeper.ledger import GENESIS, canonical_json, record_hash

    ledger = _ready(repo)
    head = _head(repo)
    db = sqlite3.connect(ledger)
    prev = GENESIS
    with db:
        for seq, text in db.execute("SELECT seq, body FROM records ORDER BY seq").fetchall():
            body = json.loads(text)
            body["prev"] = prev
            if seq == 2:
                body["data"]["decision"] = "REJECT"
            body["hash"] = prev = record_hash(body)
            db.execute(
                "UPDATE records SET hash = ?, body = ? WHERE seq = ?", (prev, canonical_json(body), seq)
            )
    db.close()
    assert run_cli(["ledger", "verify"], cwd=repo.path).code == 0, "the rebuilt chain verifies on its own"
    with serve(_statuses(repo, _status(f"gatekeeper ledger head {head}"))) as api:
        checked = run_cli(
            ["--format", "json", "ledger", "verify", "--anchors-from", "github"],
            cwd=repo.path,
            env=_auditor(api.base),
        )
    body = json.loads(checked.stdout)
    assert checked.code == 1 and body["ok"] is False
    assert any("was rewritten" in p for p in body["anchor_problems"]), body
    reliability.row(
        "the ledger rebuilt with a decision changed and every hash recomputed",
        "forgery",
        "`ledger verify --anchors-from github` exit 1: the ledger was rewritten",
    )


@pytest.mark.parametrize(
    ("description", "said"),
    [
        ("all good", "is not an anchor"),
        (f"gatekeeper ledger head 9:{'a' * 64}", "records were removed"),
        (f"gatekeeper ledger head 1:{'a' * 64}", "was rewritten"),
        ("::stop-commands::x\n\x1b[31mhead 1:" + "a" * 64 + " 2:" + "b" * 64, "is not an anchor"),
    ],
    ids=["junk", "beyond-the-end", "another-hash", "hostile-text-two-heads"],
)
def test_a_status_forged_under_gatekeepers_name_is_reported_not_trusted(
    repo: GitRepo, description: str, said: str, reliability: Recorder
) -> None:
    _ready(repo)
    head = _head(repo)
    statuses = (_status(f"gatekeeper ledger head {head}"), _status(description, login="dev"))
    with serve(_statuses(repo, *statuses)) as api:
        checked = run_cli(
            ["ledger", "verify", "--anchors-from", "github"], cwd=repo.path, env=_auditor(api.base)
        )
    assert checked.code == 1 and said in checked.stdout and "by dev" in checked.stdout
    assert "\x1b" not in checked.stdout and "\n::" not in "\n" + checked.stdout
    reliability.row(
        f"a developer posts a `gatekeeper/ledger` status: {description[:40]!r}",
        "forgery",
        f"exit 1: {said}, naming who posted it",
    )


def test_other_contexts_are_not_anchors(repo: GitRepo) -> None:
    _ready(repo)
    with serve(_statuses(repo, _status("1:" + "a" * 64, context="ci/build"))) as api:
        checked = run_cli(
            ["ledger", "verify", "--anchors-from", "github"], cwd=repo.path, env=_auditor(api.base)
        )
    assert checked.code == 0 and "no anchors on github" in checked.stdout


def test_anchors_from_without_a_token_is_a_clear_input_error(repo: GitRepo, reliability: Recorder) -> None:
    _ready(repo)
    checked = run_cli(["ledger", "verify", "--anchors-from", "github"], cwd=repo.path, env={})
    assert checked.code == 2 and "no github token" in checked.stderr and "Traceback" not in checked.stderr
    korean = run_cli(["--lang", "ko", "ledger", "verify", "--anchors-from", "github"], cwd=repo.path, env={})
    assert korean.code == 2 and "토큰이 없습니다" in korean.stderr and "Traceback" not in korean.stderr
    bad_depth = run_cli(
        ["ledger", "verify", "--anchors-from", "github", "--anchor-depth", "0"], cwd=repo.path
    )
    assert bad_depth.code == 2 and "number of commits" in bad_depth.stderr
    reliability.row(
        "`--anchors-from github` with no token; `--anchor-depth 0`", "bad input", "exit 2, what to set"
    )


def test_an_unreachable_platform_fails_verify_rather_than_passing_it(
    repo: GitRepo, reliability: Recorder
) -> None:
    _ready(repo)
    checked = run_cli(
        ["ledger", "verify", "--anchors-from", "github"], cwd=repo.path, env=_auditor("http://127.0.0.1:9")
    )
    assert checked.code == 3 and "Traceback" not in checked.stderr, checked.stdout + checked.stderr
    reliability.row(
        "`ledger verify --anchors-from github` while the API is down", "dead server", "exit 3, never a pass"
    )


def test_gitlab_anchors_are_posted_per_seq_and_read_back(
    repo: GitRepo, tmp_path: Path, reliability: Recorder
) -> None:
    from gatekeeper.adapters.platforms.gitlab import GitlabPlatform
    from gatekeeper.config import load_config

    _ready(repo)
    head = _head(repo)
    sha = repo.head()
    config = load_config(repo.path / ".gatekeeper.yml")
    env = {"GATEKEEPER_GITLAB_TOKEN": GL_TOKEN, "CI_PROJECT_ID": "321", "CI_COMMIT_REF_NAME": "main"}
    status = {
        "name": "gatekeeper/ledger 2",
        "description": f"gatekeeper ledger head {head}",
        "author": {"username": "project_321_bot"},
        "created_at": "2026-11-24T01:00:00Z",
    }
    other = {"name": "test", "description": "1:" + "a" * 64, "author": {"username": "dev"}}
    exchanges = [
        {"method": "POST", "path": f"/projects/321/statuses/{sha}", "status": 201, "body": {"id": 1}},
        {
            "method": "GET",
            "path": f"/projects/321/repository/commits/{sha}/statuses",
            "query": {"all": "true"},
            "body": [status, other],
        },
    ]
    with serve(exchanges, prefix="/api/v4") as api:
        platform = GitlabPlatform.from_environment(config, {**env, "CI_API_V4_URL": api.base})
        assert platform is not None
        platform.anchor_head(sha=sha, seq=2, text=f"gatekeeper ledger head {head}", url="https://gl/p/1")
        found = platform.anchor_statuses([sha])
        assert not api.unmatched
        posted = api.requests("POST", f"/projects/321/statuses/{sha}")[0].body
    assert (
        posted["name"] == "gatekeeper/ledger 2" and posted["state"] == "success" and posted["ref"] == "main"
    )
    assert [s.text for s in found] == [f"gatekeeper ledger head {head}"]
    assert "by project_321_bot" in found[0].where
    reliability.row(
        "GitLab: the head as an external commit status named by seq (GitLab refuses success after success)",
        "none: the anchor itself",
        "posted, and read back with every retried status",
    )
