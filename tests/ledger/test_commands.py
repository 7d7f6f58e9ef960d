"""The ledger's commands end to end through the CLI (in-process, injected env and clock)."""

from __future__ import annotations

import csv
import hashlib
import io
import json
import shutil
import sqlite3
from pathlib import Path

import pytest

from gatekeeper.adapters.rfcstore import FileRfcStore
from gatekeeper.config import load_config
from tests.helpers import GitRepo, git, run_cli

RFC = "RFC-2026-0001"


def _ready(repo: GitRepo) -> str:
    # Grade 3: the pack counts workstation records and only recommends attestation there, so approve records
    # these decisions (with warnings); the grade-1 refusals are tests/gate and tests/adversarial's business.
    config = repo.path / ".gatekeeper.yml"
    config.write_text(config.read_text(encoding="utf-8").replace("grade: 1", "grade: 3"), encoding="utf-8")
    repo.add_rfc(RFC)
    return repo.commit(f"{RFC} add the RFC")


def _digest(repo: GitRepo) -> str:
    entry = FileRfcStore(repo.path, load_config(repo.path / ".gatekeeper.yml")).get(RFC)
    assert entry is not None
    return entry.digest


def _records(repo: GitRepo) -> list[dict[str, object]]:
    result = run_cli(["--format", "json", "ledger", "log"], cwd=repo.path)
    assert result.code == 0, result.stderr
    records: list[dict[str, object]] = json.loads(result.stdout)
    return records


def test_approve_binds_the_rfc_digest_and_the_local_git_identity(repo: GitRepo) -> None:
    _ready(repo)
    result = run_cli(
        [
            "--format",
            "json",
            "approve",
            RFC,
            "--step",
            "cab",
            "--decision",
            "approve",
            "--comment",
            "CAB 11/24",
        ],
        cwd=repo.path,
    )
    assert result.code == 0, result.stderr
    record = json.loads(result.stdout)["record"]
    assert record["kind"] == "approval" and record["rfcs"] == [RFC] and record["system"] == "minwon-portal"
    assert record["data"] == {
        "step": "cab",
        "decision": "approve",
        "rfc_digest": _digest(repo),
        "comment": "CAB 11/24",
    }
    assert (record["actor"], record["actor_source"]) == ("dev", "local")
    assert _records(repo) == [record]


def test_in_ci_the_actor_is_the_ci_identity(repo: GitRepo) -> None:
    repo.keep_ledger_outside()  # CI refuses a ledger in the checkout
    head = _ready(repo)
    env = {
        "GITLAB_CI": "true",
        "GITLAB_USER_LOGIN": "park",
        "CI_COMMIT_SHA": head,
        "CI_PIPELINE_SOURCE": "web",
    }
    result = run_cli(
        ["--format", "json", "approve", RFC, "--step", "cab", "--decision", "reject"], cwd=repo.path, env=env
    )
    assert result.code == 0, result.stderr
    record = json.loads(result.stdout)["record"]
    assert (record["actor"], record["actor_source"], record["data"]["decision"]) == (
        "park",
        "gitlab-ci",
        "reject",
    )


def test_approve_refuses_an_unknown_step_an_unknown_rfc_and_an_actor_flag(repo: GitRepo) -> None:
    _ready(repo)
    bad_step = run_cli(["approve", RFC, "--step", "lunch", "--decision", "approve"], cwd=repo.path)
    assert bad_step.code == 1 and "change-review, change-approval, cab" in bad_step.stdout
    assert "approval.unauthorized" in bad_step.stdout
    missing = run_cli(["approve", "RFC-2026-0999", "--step", "cab", "--decision", "approve"], cwd=repo.path)
    assert missing.code == 1 and "no RFC RFC-2026-0999" in missing.stdout
    assert "commit.rfc-unknown" in missing.stdout
    flag = run_cli(
        ["approve", RFC, "--step", "cab", "--decision", "approve", "--actor", "boss"], cwd=repo.path
    )
    assert flag.code == 2
    assert not (repo.path / ".gatekeeper" / "ledger.db").exists() or _records(repo) == []


def test_pir_and_notice_are_recorded(repo: GitRepo) -> None:
    _ready(repo)
    git(repo.path, "config", "user.email", "kim@example.org")  # an agency officer and CAB member runs the PIR
    pir = run_cli(
        ["pir", RFC, "--result", "not-achieved", "--note", "rollback needed", "--follow-up", "RFC-2026-0009"],
        cwd=repo.path,
    )
    notice = run_cli(["notice", RFC, "--to", "행정안전부", "KISA", "--note", "공문 2026-77"], cwd=repo.path)
    assert pir.code == 0 and notice.code == 0, pir.stderr + notice.stderr
    assert "recorded pir #1" in pir.stdout and "recorded notice #2" in notice.stdout
    first, second = _records(repo)
    assert first["data"] == {
        "result": "not-achieved",
        "note": "rollback needed",
        "rfc_digest": _digest(repo),
        "follow_up": "RFC-2026-0009",
    }
    assert second["kind"] == "notice"
    assert second["data"] == {
        "to": ["행정안전부", "KISA"],
        "note": "공문 2026-77",
        "rfc_digest": _digest(repo),
    }


def test_evidence_add_records_counts_digests_and_the_commit(repo: GitRepo, corpora: Path) -> None:
    source = corpora / "test-results/enricomi/python/test/files/junit-xml/minimal-attributes.xml"
    shutil.copy(source, repo.path / "results.xml")
    head = _ready(repo)
    result = run_cli(
        ["--format", "json", "evidence", "add", "--kind", "unit", "--rfc", RFC, "results.xml"], cwd=repo.path
    )
    assert result.code == 0, result.stderr
    data = json.loads(result.stdout)["record"]["data"]
    assert data["kind"] == "unit" and data["commit"] == head
    assert data["totals"] == {"tests": 4, "passed": 1, "failed": 1, "errors": 1, "skipped": 1}
    [entry] = data["files"]
    assert entry["path"] == "results.xml"
    assert entry["digest"] == "sha256:" + hashlib.sha256(source.read_bytes()).hexdigest()
    assert data["success_rate"] == round(100 / 3, 2)


def test_evidence_add_stores_nothing_when_a_file_is_bad(repo: GitRepo, corpora: Path) -> None:
    _ready(repo)
    shutil.copy(
        corpora / "test-results/enricomi/python/test/files/junit-xml/minimal-attributes.xml",
        repo.path / "a.xml",
    )
    repo.write("b.xml", "<not-a-test-report/>")
    result = run_cli(["evidence", "add", "--kind", "unit", "a.xml", "b.xml"], cwd=repo.path)
    assert result.code == 2 and "b.xml" in result.stderr
    assert _records(repo) == []


def test_ledger_verify_export_and_a_tampered_ledger(repo: GitRepo) -> None:
    _ready(repo)
    for step in ("change-review", "change-approval", "cab"):
        assert run_cli(["approve", RFC, "--step", step, "--decision", "approve"], cwd=repo.path).code == 0
    ok = run_cli(["ledger", "verify"], cwd=repo.path)
    assert ok.code == 0 and "3 records, chain intact" in ok.stdout

    jsonl = run_cli(["ledger", "export", "--format", "jsonl"], cwd=repo.path)
    lines = jsonl.stdout.splitlines()
    assert [json.loads(line)["seq"] for line in lines] == [1, 2, 3]
    assert run_cli(["ledger", "export", "--format", "csv", "-o", "out.csv"], cwd=repo.path).code == 0
    rows = list(csv.DictReader(io.StringIO((repo.path / "out.csv").read_text(encoding="utf-8"))))
    assert [row["seq"] for row in rows] == ["1", "2", "3"] and rows[0]["rfcs"] == RFC
    assert rows[2]["hash"] == json.loads(lines[2])["hash"]

    db = sqlite3.connect(repo.path / ".gatekeeper" / "ledger.db")
    with db:
        body = json.loads(lines[1])
        body["data"]["decision"] = "reject"
        db.execute("UPDATE records SET body = ? WHERE seq = 2", (json.dumps(body),))
    db.close()
    broken = run_cli(["ledger", "verify"], cwd=repo.path)
    assert broken.code == 1 and "BROKEN at seq 2" in broken.stdout
    as_json = json.loads(run_cli(["--format", "json", "ledger", "verify"], cwd=repo.path).stdout)
    assert as_json["ok"] is False and as_json["first_bad_seq"] == 2 and as_json["count"] == 1


def test_ledger_log_filters_and_limits(repo: GitRepo) -> None:
    _ready(repo)
    run_cli(["approve", RFC, "--step", "cab", "--decision", "approve"], cwd=repo.path)
    git(repo.path, "config", "user.email", "kim@example.org")  # the agency officer records the PIR
    assert run_cli(["pir", RFC, "--result", "achieved"], cwd=repo.path).code == 0
    git(repo.path, "config", "user.email", "dev@example.org")
    run_cli(["approve", RFC, "--step", "change-review", "--decision", "approve"], cwd=repo.path)
    text = run_cli(["ledger", "log", "--kind", "approval"], cwd=repo.path)
    assert text.code == 0 and len(text.stdout.splitlines()) == 2
    last = json.loads(run_cli(["--format", "json", "ledger", "log", "--limit", "1"], cwd=repo.path).stdout)
    assert [r["seq"] for r in last] == [3]
    none = run_cli(["ledger", "log", "--since", "2030-01-01T00:00:00+09:00"], cwd=repo.path)
    assert none.stdout.strip() == "no records"
    bad = run_cli(["ledger", "log", "--since", "yesterday"], cwd=repo.path)
    assert bad.code == 2


def test_csv_cells_that_a_spreadsheet_would_run_are_neutralised() -> None:
    from gatekeeper.commands.ledger import _cell

    assert [_cell(v) for v in ("=HYPERLINK(1)", "+1", "-x", "@SUM", "kim", "")] == [
        "'=HYPERLINK(1)",
        "'+1",
        "'-x",
        "'@SUM",
        "kim",
        "",
    ]


def test_the_git_backend_through_the_cli(repo: GitRepo, tmp_path: Path) -> None:
    remote = tmp_path / "ledger.git"
    import subprocess

    subprocess.run(["git", "init", "-q", "--bare", str(remote)], check=True)
    repo.write(
        ".gatekeeper.yml",
        (repo.path / ".gatekeeper.yml")
        .read_text()
        .replace(
            "{backend: sqlite, path: .gatekeeper/ledger.db}", f"{{backend: git, repository: '{remote}'}}"
        ),
    )
    _ready(repo)
    assert run_cli(["approve", RFC, "--step", "cab", "--decision", "approve"], cwd=repo.path).code == 0
    git(repo.path, "config", "user.email", "kim@example.org")  # the agency officer announces it
    assert run_cli(["notice", RFC, "--to", "KISA"], cwd=repo.path).code == 0
    verify = run_cli(["ledger", "verify"], cwd=repo.path)
    assert verify.code == 0 and "2 records" in verify.stdout
    shown = subprocess.run(
        ["git", f"--git-dir={remote}", "show", "gatekeeper/ledger:records/000000/000000002.json"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert json.loads(shown)["kind"] == "notice"


def test_ledger_head_and_verify_against_anchors(repo: GitRepo) -> None:
    _ready(repo)
    empty = json.loads(run_cli(["--format", "json", "ledger", "head"], cwd=repo.path).stdout)
    assert empty == {"seq": 0, "hash": "0" * 64, "anchor": "0:" + "0" * 64}
    for step in ("change-review", "cab"):
        assert run_cli(["approve", RFC, "--step", step, "--decision", "approve"], cwd=repo.path).code == 0
    head = json.loads(run_cli(["--format", "json", "ledger", "head"], cwd=repo.path).stdout)
    assert head["seq"] == 2 and head["anchor"] == f"2:{head['hash']}"
    assert head["anchor"] in run_cli(["ledger", "head"], cwd=repo.path).stdout
    assert "원장 head: seq 2" in run_cli(["--lang", "ko", "ledger", "head"], cwd=repo.path).stdout

    held = run_cli(
        ["ledger", "verify", "--anchor", head["anchor"], "--anchor", empty["anchor"]], cwd=repo.path
    )
    assert held.code == 0 and "all 2 held" in held.stdout
    other = run_cli(["ledger", "verify", "--anchor", f"2:{'a' * 64}"], cwd=repo.path)
    assert other.code == 1 and "record 2 has hash" in other.stdout and "rewritten" in other.stdout
    beyond = json.loads(
        run_cli(
            ["--format", "json", "ledger", "verify", "--anchor", f"9:{head['hash']}"], cwd=repo.path
        ).stdout
    )
    assert beyond["ok"] is False and "ends at seq 2" in beyond["anchor_problems"][0]
    repo.write("anchors.txt", f"# heads from job summaries\n{head['anchor']}\n\n{json.dumps(head)}\n")
    assert run_cli(["ledger", "verify", "--anchors", "anchors.txt"], cwd=repo.path).code == 0


@pytest.mark.parametrize(
    ("args", "said"),
    [
        (["--anchor", "2:xyz"], "is not SEQ:HASH"),
        (["--anchor=-1:" + "a" * 64], "is not SEQ:HASH"),
        (["--anchors", "anchors.txt"], "anchors.txt, line 2"),
        (["--anchors", "missing.txt"], "cannot read the anchors file"),
    ],
)
def test_a_malformed_anchor_is_an_input_error(repo: GitRepo, args: list[str], said: str) -> None:
    _ready(repo)
    repo.write("anchors.txt", "1:" + "a" * 64 + "\n{not json\n")
    result = run_cli(["ledger", "verify", *args], cwd=repo.path)
    assert result.code == 2 and said in result.stderr and "Traceback" not in result.stderr
