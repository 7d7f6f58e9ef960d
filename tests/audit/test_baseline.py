"""Configuration baselines: create, diff with the commits and RFCs behind each change, verify, and the pure
`baseline.drift` rule the gate runs."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path

import pytest

from gatekeeper.baseline import (
    BaselineDiff,
    CommitRef,
    DriftFacts,
    FileChange,
    ItemDiff,
    ItemSnapshot,
    Snapshot,
    diff_items,
    matches,
)
from gatekeeper.config import load_policy
from gatekeeper.domain import ChangeType, Grade, Severity
from gatekeeper.ledger.sqlite import SqliteLedger
from gatekeeper.resources import policies_dir
from gatekeeper.rules import RuleContext
from gatekeeper.rules.baseline import findings
from tests.audit.conftest import AUDIT_AT, AUDIT_CONFIG, AuditRepo
from tests.audit.history import KST
from tests.helpers import GitRepo, run_cli


def _ctx(grade: int) -> RuleContext:
    policy = load_policy("kr-ap-sop", relative_to=policies_dir())
    return RuleContext(policy, Grade(grade), ChangeType.NORMAL, datetime(2026, 11, 24, tzinfo=KST))


@pytest.mark.parametrize(
    ("path", "patterns", "expected"),
    [
        ("app/main.py", ["app/**/*.py"], True),
        ("app/a/b/c.py", ["app/**/*.py"], True),
        ("application/main.py", ["app/**/*.py"], False),
        ("db/schema.sql", ["db/*.sql"], True),
        ("db/old/schema.sql", ["db/*.sql"], True),  # fnmatch's * crosses folders; documented glob semantics
        ("README.md", ["docs/*.md"], False),
    ],
)
def test_glob_matching(path: str, patterns: list[str], expected: bool) -> None:
    assert matches(path, patterns) is expected


def test_diff_items_added_removed_changed() -> None:
    before = Snapshot(
        "a",
        "t1",
        (
            ItemSnapshot("src", "source", {"x.py": "1", "y.py": "2"}),
            ItemSnapshot("old", "document", {"d.md": "9"}),
        ),
    )
    after = Snapshot(
        "b",
        "t2",
        (
            ItemSnapshot("src", "source", {"x.py": "1", "y.py": "3", "z.py": "4"}),
            ItemSnapshot("new", "schema", {"s.sql": "5"}),
        ),
    )
    ref = CommitRef("c" * 40, "RFC-2026-0001 change y", ("RFC-2026-0001",))
    items = {i.id: i for i in diff_items(before, after, {"y.py": (ref,)})}
    assert items["old"].status == "removed" and items["new"].status == "added"
    assert [(c.path, c.status, c.explained) for c in items["src"].changes] == [
        ("y.py", "changed", True),
        ("z.py", "added", False),
    ]
    assert [c.path for c in items["src"].drifted] == ["z.py"]
    assert ItemSnapshot("s", "source", {"a": "1"}).digest == ItemSnapshot("s", "source", {"a": "1"}).digest
    assert ItemSnapshot("s", "source", {"a": "1"}).digest != ItemSnapshot("s", "source", {"a": "2"}).digest


def _facts(explained: bool) -> DriftFacts:
    commits = (CommitRef("d" * 40, "tweak", ("RFC-2026-0009",) if explained else ()),)
    change = FileChange("db", "db/schema.sql", "changed", "1", "2", commits)
    return DriftFacts(
        BaselineDiff(3, "1.0", "a" * 40, "b" * 40, (ItemDiff("db", "schema", "changed", (change,)),)), 1
    )


def test_drift_rule_grades_and_explanations() -> None:
    [finding] = findings(_facts(explained=False), _ctx(1))
    assert (finding.rule, finding.severity, finding.sop, finding.subject) == (
        "baseline.drift",
        Severity.ERROR,
        "CFG-P1",
        "db",
    )
    assert "db/schema.sql" in finding.message and "dddddddddd" in finding.message
    assert findings(_facts(explained=False), _ctx(3))[0].severity is Severity.WARNING
    assert findings(_facts(explained=True), _ctx(1)) == []
    assert findings(DriftFacts(None, 0), _ctx(1)) == []


def test_create_records_tree_and_file_digests(audit_repo: AuditRepo) -> None:
    ledger = SqliteLedger(audit_repo.path / ".gatekeeper" / "ledger.db")
    try:
        record = next(ledger.find(kind="baseline.created"))
    finally:
        ledger.close()
    data = record.data
    assert data["label"] == "1.0" and len(data["commit"]) == 40 and len(data["tree"]) == 40
    items = {i["id"]: i for i in data["items"]}
    assert set(items) == {"source", "db-schema", "settings"}
    assert list(items["source"]["files"]) == ["app/main.py"]
    assert items["settings"]["digest"].startswith("sha256:")


def test_diff_names_commits_and_rfcs(audit_repo: AuditRepo) -> None:
    result = run_cli(["--format", "json", "baseline", "diff"], cwd=audit_repo.path, now=AUDIT_AT)
    assert result.code == 0, result.stderr
    body = json.loads(result.stdout)
    items = {i["id"]: i for i in body["items"]}
    assert items["settings"]["status"] == "unchanged"
    [source] = items["source"]["changes"]
    assert (source["path"], source["rfcs"], source["drift"]) == ("app/main.py", ["RFC-2026-0002"], False)
    [schema] = items["db-schema"]["changes"]
    assert schema["drift"] is True and schema["commits"][0]["sha"] == audit_repo.drifted_commit
    text = run_cli(["--lang", "ko", "baseline", "diff"], cwd=audit_repo.path, now=AUDIT_AT).stdout
    assert "✗ 변경" in text and "변경요청 없는 변경: 형상항목 1개" in text


def test_verify_blocks_on_drift_and_passes_once_rebaselined(audit_repo: AuditRepo) -> None:
    result = run_cli(["--format", "json", "baseline", "verify"], cwd=audit_repo.path, now=AUDIT_AT)
    assert result.code == 1
    [finding] = json.loads(result.stdout)["findings"]
    assert finding["rule"] == "baseline.drift" and finding["subject"] == "db-schema"
    assert run_cli(["baseline", "create"], cwd=audit_repo.path, now=AUDIT_AT).stdout.startswith(
        "baseline 2.0 recorded"
    )
    assert run_cli(["baseline", "verify"], cwd=audit_repo.path, now=AUDIT_AT).code == 0
    # An older baseline can still be compared with by its label.
    older = run_cli(
        ["--format", "json", "baseline", "diff", "--label", "1.0"], cwd=audit_repo.path, now=AUDIT_AT
    )
    assert json.loads(older.stdout)["baseline"]["label"] == "1.0"


def test_artifacts_are_digested_from_disk(tmp_path: Path) -> None:
    config = AUDIT_CONFIG + "    - {id: package, kind: artifact, paths: ['dist/*.whl']}\n"
    repo = GitRepo.create(tmp_path / "r", config=config)
    repo.commit("RFC-2026-0001 first", files={"app/main.py": "x\n"})
    (repo.path / "dist").mkdir()
    (repo.path / "dist" / "app-1.0.whl").write_bytes(b"wheel one")
    assert run_cli(["baseline", "create"], cwd=repo.path).code == 0
    (repo.path / "dist" / "app-1.0.whl").write_bytes(b"wheel two")
    result = run_cli(["--format", "json", "baseline", "verify"], cwd=repo.path)
    assert result.code == 1
    assert json.loads(result.stdout)["findings"][0]["subject"] == "package"


def test_errors_are_clear(tmp_path: Path) -> None:
    repo = GitRepo.create(tmp_path / "r", config=AUDIT_CONFIG)
    repo.commit("RFC-2026-0001 first", files={"app/main.py": "x\n"})
    missing = run_cli(["baseline", "diff"], cwd=repo.path)
    assert missing.code == 2 and "baseline create" in missing.stderr
    unknown = run_cli(["baseline", "diff", "no-such-rev"], cwd=repo.path)
    assert run_cli(["baseline", "create"], cwd=repo.path).code == 0
    unknown = run_cli(["baseline", "diff", "no-such-rev"], cwd=repo.path)
    assert unknown.code == 2 and "unknown revision" in unknown.stderr
    bare = GitRepo.create(tmp_path / "bare")
    bare.commit("RFC-2026-0001 first")
    none = run_cli(["baseline", "create"], cwd=bare.path)
    assert none.code == 2 and "baseline.items" in none.stderr
