"""Configuration baselines: create, diff with the commits and RFCs behind each change, verify, and the pure
`baseline.drift` rule the gate runs."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from gatekeeper.config import load_policy
from gatekeeper.domain import ChangeType, Grade, Severity
from gatekeeper.domain.baseline import (
    ArtifactChange,
    BaselineDiff,
    CommitRef,
    DeploymentRef,
    DriftFacts,
    FileChange,
    ItemDiff,
    ItemSnapshot,
    Snapshot,
    deployed_artifacts,
    diff_artifacts,
    diff_items,
    matches,
)
from gatekeeper.ledger import GENESIS, Draft, Record
from gatekeeper.ledger.sqlite import SqliteLedger
from gatekeeper.reporters.sanitize import for_markdown
from gatekeeper.resources import policies_dir
from gatekeeper.rules import RuleContext
from gatekeeper.rules.baseline import findings
from tests.audit.conftest import AUDIT_AT, AUDIT_CONFIG, AuditRepo
from tests.audit.history import KST
from tests.helpers import GitRepo, git, run_cli
from tests.platform.oidc import record_baseline, trust_pinned


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
        (
            "db/old/schema.sql",
            ["db/*.sql"],
            True,
        ),  # * crosses folders (fnmatch), as docs/configuration.md says
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
    # The developer cannot rebaseline their own change from a workstation; the operator manager does, in
    # the pipeline of the default branch.
    local = run_cli(["baseline", "create"], cwd=audit_repo.path, now=AUDIT_AT)
    assert local.code == 2 and "this baseline would not count" in local.stderr
    record_baseline(audit_repo.path, "2.0", AUDIT_AT)
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
    trust_pinned(repo.path)
    record_baseline(repo.path, "1.0", AUDIT_AT)
    (repo.path / "dist" / "app-1.0.whl").write_bytes(b"wheel two")
    result = run_cli(["--format", "json", "baseline", "verify"], cwd=repo.path)
    assert result.code == 1
    assert json.loads(result.stdout)["findings"][0]["subject"] == "package"


def test_artefact_globs_match_as_git_item_globs_do(tmp_path: Path) -> None:
    """One glob language for every item: on disk, as in git, `*` crosses folders and `**/` matches none;
    `.git` is never read."""
    from gatekeeper.facts.baseline import _disk_files

    for name in ("dist/app.whl", "dist/old/app-0.9.whl", "dist/app.txt", "build/app.whl", ".git/x.whl"):
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_bytes(name.encode())
    found = _disk_files(tmp_path, ["dist/*.whl"])
    assert sorted(found) == ["dist/app.whl", "dist/old/app-0.9.whl"]
    assert sorted(found) == sorted(p for p in found if matches(p, ["dist/*.whl"]))
    assert sorted(_disk_files(tmp_path, ["**/*.whl"])) == [
        "build/app.whl",
        "dist/app.whl",
        "dist/old/app-0.9.whl",
    ]
    assert _disk_files(tmp_path, ["missing/*.whl"]) == {}
    assert list(_disk_files(tmp_path, ["build/app.whl"])) == ["build/app.whl"]


def test_errors_are_clear(tmp_path: Path) -> None:
    repo = GitRepo.create(tmp_path / "r", config=AUDIT_CONFIG)
    repo.commit("RFC-2026-0001 first", files={"app/main.py": "x\n"})
    missing = run_cli(["baseline", "diff"], cwd=repo.path)
    assert missing.code == 2 and "baseline create" in missing.stderr
    trust_pinned(repo.path)
    record_baseline(repo.path, "1.0", AUDIT_AT)
    unknown = run_cli(["baseline", "diff", "no-such-rev"], cwd=repo.path)
    assert unknown.code == 2 and "unknown revision" in unknown.stderr
    bare = GitRepo.create(tmp_path / "bare")
    bare.commit("RFC-2026-0001 first")
    none = run_cli(["baseline", "create"], cwd=bare.path)
    assert none.code == 2 and "baseline.items" in none.stderr


# ------------------------------------------------------------------------------------- deployed artefacts

AA, BB, CC = "sha256:" + "a" * 64, "sha256:" + "b" * 64, "sha256:" + "c" * 64
DEPLOYED_AT = datetime(2026, 11, 5, 20, 0, tzinfo=KST)


def _finished_draft(data: dict[str, object], rfcs: tuple[str, ...], result: str = "success") -> Draft:
    return Draft(
        kind="deployment.finished",
        system="minwon-portal",
        actor="choi",
        actor_source="local",
        at=DEPLOYED_AT,
        # A finish names the deployment it closes; tests that look at which one give its id.
        data={"environment": "production", "result": result, **data}
        | ({} if "deployment_id" in data else {"started": "dep"}),
        rfcs=rfcs,
    )


def _finished(
    seq: int,
    data: dict[str, object],
    rfcs: tuple[str, ...] = ("RFC-2026-0042",),
    result: str = "success",
) -> Record:
    return _finished_draft(data, rfcs, result).place(seq, GENESIS)


def test_artifact_changed_by_a_deployment_naming_an_rfc_is_explained() -> None:
    records = [
        _finished(2, {"artifacts": {"app.whl": AA}, "deployment_id": "dep-1"}),  # before the baseline
        _finished(7, {"artifacts": {"app.whl": BB}, "deployment_id": "dep-2"}),
    ]
    [change] = diff_artifacts({"production:app.whl": AA}, deployed_artifacts(records), records, since_seq=5)
    assert (change.name, change.status, change.before, change.after) == (
        "production:app.whl",
        "changed",
        AA,
        BB,
    )
    assert change.deployments == (DeploymentRef(7, "dep-2", ("RFC-2026-0042",), DEPLOYED_AT.isoformat()),)
    assert change.explained and change.rfcs == ("RFC-2026-0042",)


def test_artifact_changed_without_an_rfc_is_unexplained() -> None:
    records = [
        _finished(7, {"artifacts": {"app.whl": BB}, "deployment_id": "dep-7"}, rfcs=()),
        _finished(8, {"artifacts": {"app.whl": CC}}, result="failure"),  # failed deployments change nothing
    ]
    [change] = diff_artifacts({"production:app.whl": AA}, deployed_artifacts(records), records, since_seq=5)
    assert change.status == "changed" and change.after == BB
    # `deploy finish` stores the deployment's id as `started`.
    assert [d.deployment_id for d in change.deployments] == ["dep-7"]
    assert not change.explained and change.rfcs == ()


def test_artifact_digest_set_only_before_the_baseline_explains_nothing() -> None:
    # The baseline (seq 5) recorded AA although deployment 3 had deployed BB: no later deployment accounts
    # for the change, so it is unexplained and names no deployment.
    records = [_finished(3, {"artifacts": {"app.whl": BB}})]
    [change] = diff_artifacts({"production:app.whl": AA}, {"production:app.whl": BB}, records, since_seq=5)
    assert change.deployments == () and not change.explained


def test_artifact_added_and_unchanged() -> None:
    records = [
        _finished(6, {"artifacts": {"app.whl": AA, "migrate.sql": BB}, "deployment_id": "dep-6"}),
        _finished(9, {"artifact_digest": CC, "environment": "staging"}, rfcs=()),
    ]
    after = deployed_artifacts(records)
    assert after == {"production:app.whl": AA, "production:migrate.sql": BB, "staging:artifact": CC}
    changes = {c.name: c for c in diff_artifacts({"production:app.whl": AA}, after, records, since_seq=5)}
    assert set(changes) == {"production:migrate.sql", "staging:artifact"}  # app.whl is unchanged
    added = changes["production:migrate.sql"]
    assert (added.status, added.before, added.after, added.explained) == ("added", "", BB, True)
    assert [d.seq for d in added.deployments] == [6]
    assert changes["staging:artifact"].status == "added" and not changes["staging:artifact"].explained


def test_removed_artifact_is_explained_by_the_latest_deployment_of_its_environment() -> None:
    records = [
        _finished(6, {"artifacts": {"app.whl": AA}}, rfcs=()),
        _finished(8, {"artifacts": {"app.whl": AA}, "deployment_id": "dep-8"}),
        _finished(9, {"artifacts": {"web.tar": CC}, "environment": "staging"}, rfcs=()),
    ]
    before = {"production:app.whl": AA, "production:old.jar": BB}
    [removed] = diff_artifacts(before, {"production:app.whl": AA}, records, since_seq=5)
    assert (removed.name, removed.status, removed.before, removed.after) == (
        "production:old.jar",
        "removed",
        BB,
        "",
    )
    assert [d.deployment_id for d in removed.deployments] == ["dep-8"] and removed.explained
    # With no deployment of production since the baseline, nothing accounts for the removal.
    [unexplained] = diff_artifacts(before, {"production:app.whl": AA}, records[2:], since_seq=5)
    assert unexplained.deployments == () and not unexplained.explained


def test_the_cited_deployment_is_the_first_naming_an_rfc() -> None:
    records = [
        _finished(6, {"artifacts": {"app.whl": BB}, "deployment_id": "redeploy"}, rfcs=()),
        _finished(7, {"artifacts": {"app.whl": BB}, "deployment_id": "approved"}),
    ]
    [change] = diff_artifacts({"production:app.whl": AA}, {"production:app.whl": BB}, records, since_seq=5)
    assert [d.seq for d in change.deployments] == [6, 7]
    body = change.as_dict()
    assert (body["deployment_id"], body["seq"], body["rfcs"], body["drift"]) == (
        "approved",
        7,
        ["RFC-2026-0042"],
        False,
    )


def test_artifact_drift_is_separate_from_item_drift_and_additive_in_json() -> None:
    explained = ArtifactChange(
        "production:app.whl", "changed", AA, BB, (DeploymentRef(7, "d7", ("R-1",), "t"),)
    )
    unexplained = ArtifactChange("production:cfg.tar", "added", "", CC)
    diff = BaselineDiff(3, "1.0", "a" * 40, "b" * 40, (), (explained, unexplained))
    assert diff.drifted == () and diff.drifted_artifacts == (unexplained,) and diff.has_drift
    body = diff.as_dict()
    assert list(body) == ["baseline", "target", "items", "artifacts"]
    assert body["artifacts"][1] == {
        "name": "production:cfg.tar",
        "status": "added",
        "before": "",
        "after": CC,
        "deployment_id": None,
        "seq": None,
        "rfcs": [],
        "drift": True,
        "deployments": [],
    }
    # Without artefact changes the existing keys and values are exactly what they were.
    plain = _facts(explained=False).diff
    assert plain is not None and plain.as_dict()["artifacts"] == []
    assert {k: v for k, v in plain.as_dict().items() if k != "artifacts"} == {
        "baseline": {"seq": 3, "label": "1.0", "commit": "a" * 40},
        "target": "b" * 40,
        "items": [
            {
                "id": "db",
                "kind": "schema",
                "status": "changed",
                "changes": [
                    {
                        "path": "db/schema.sql",
                        "status": "changed",
                        "before": "1",
                        "after": "2",
                        "commits": [{"sha": "d" * 40, "subject": "tweak", "rfcs": []}],
                        "rfcs": [],
                        "drift": True,
                    }
                ],
            }
        ],
    }


def _artifact_facts(*changes: ArtifactChange) -> DriftFacts:
    return DriftFacts(BaselineDiff(3, "1.0", "a" * 40, "b" * 40, (), changes), 1)


def test_drift_rule_reports_unexplained_artifacts() -> None:
    by_deployment = ArtifactChange(
        "production:app.whl", "changed", AA, BB, (DeploymentRef(7, "dep-7", (), "t"),)
    )
    unrecorded = ArtifactChange("production:old.jar", "removed", CC, "")
    first, second = findings(_artifact_facts(by_deployment, unrecorded), _ctx(1))
    assert (first.rule, first.severity, first.subject) == (
        "baseline.drift",
        Severity.ERROR,
        "production:app.whl",
    )
    assert "sha256:aaaaaaaaaaaa… → sha256:bbbbbbbbbbbb…" in first.message
    assert "dep-7 (ledger #7) naming no RFC" in first.message and "baseline 1.0" in first.message
    assert "deploy start --rfc" in first.remediation and "baseline create" in first.remediation
    assert second.subject == "production:old.jar" and "no successful deployment" in second.message
    ctx_ko = RuleContext(_ctx(1).policy, Grade(1), ChangeType.NORMAL, _ctx(1).now, "ko")
    [korean] = findings(_artifact_facts(by_deployment), ctx_ko)
    assert (
        "배포 산출물 production:app.whl" in korean.message
        and "dep-7 (원장 #7)" in korean.message
        and "새 베이스라인" in korean.remediation
    )
    explained = ArtifactChange(
        "production:app.whl", "changed", AA, BB, (DeploymentRef(7, "d", ("R-1",), "t"),)
    )
    assert findings(_artifact_facts(explained), _ctx(1)) == []


def _append(ledger_path: Path, data: dict[str, object], rfcs: tuple[str, ...]) -> int:
    ledger = SqliteLedger(ledger_path)
    try:
        return ledger.append(_finished_draft(data, rfcs)).seq
    finally:
        ledger.close()


def test_diff_lists_deployed_artifact_changes_with_their_rfc_and_seq(tmp_path: Path) -> None:
    repo = GitRepo.create(tmp_path / "r", config=AUDIT_CONFIG)
    repo.write(".gitignore", ".gatekeeper/\n")
    repo.commit("RFC-2026-0001 first", files={"app/main.py": "x\n"})
    ledger_path = repo.path / ".gatekeeper" / "ledger.db"
    _append(ledger_path, {"deployment_id": "dep-1", "artifacts": {"app.whl": AA}}, ("RFC-2026-0001",))
    trust_pinned(repo.path)
    record_baseline(repo.path, "1.0", AUDIT_AT)
    seq = _append(ledger_path, {"deployment_id": "dep-42", "artifacts": {"app.whl": BB}}, ("RFC-2026-0042",))
    unexplained_seq = _append(ledger_path, {"deployment_id": "dep-43", "artifacts": {"cfg.tar": CC}}, ())

    result = run_cli(["--format", "json", "baseline", "diff"], cwd=repo.path)
    assert result.code == 0, result.stderr
    body = json.loads(result.stdout)
    assert body["ok"] is False
    assert all(item["status"] == "unchanged" for item in body["items"])
    changed, added = body["artifacts"]
    assert {k: v for k, v in changed.items() if k != "deployments"} == {
        "name": "production:app.whl",
        "status": "changed",
        "before": AA,
        "after": BB,
        "deployment_id": "dep-42",
        "seq": seq,
        "rfcs": ["RFC-2026-0042"],
        "drift": False,
    }
    assert (added["name"], added["status"], added["seq"], added["drift"]) == (
        "production:cfg.tar",
        "added",
        unexplained_seq,
        True,
    )

    text = run_cli(["baseline", "diff"], cwd=repo.path).stdout
    assert "changed  production:app.whl  sha256:aaaaaaaaaaaa… → sha256:bbbbbbbbbbbb…  (RFC-2026-0042)" in text
    assert f"deployment dep-42 (ledger #{seq})" in text
    assert "✗ added    production:cfg.tar" in text and "deployed without an RFC: 1 artefact(s)" in text
    assert "every change is explained" not in text
    korean = run_cli(["--lang", "ko", "baseline", "diff"], cwd=repo.path).stdout
    assert f"배포 dep-42 (원장 #{seq})" in korean and "변경요청 없는 배포: 산출물 1개" in korean
    markdown = run_cli(["--format", "markdown", "baseline", "diff"], cwd=repo.path).stdout
    assert "#### Deployed artefacts" in markdown
    row = next(line for line in markdown.splitlines() if for_markdown("production:app.whl") in line)
    assert f"ledger #{seq}" in row and for_markdown("RFC-2026-0042") in row and for_markdown("dep-42") in row
    assert "⛔ none" in next(line for line in markdown.splitlines() if for_markdown("cfg.tar") in line)

    verify = run_cli(["--format", "json", "baseline", "verify"], cwd=repo.path)
    assert verify.code == 1
    [finding] = json.loads(verify.stdout)["findings"]
    assert finding["rule"] == "baseline.drift" and finding["subject"] == "production:cfg.tar"


@pytest.mark.parametrize(
    ("pattern", "reason"),
    [
        ("/etc/*", "is absolute"),
        ("../outside/*.whl", "leaves the repository"),
        ("dist/../../*.whl", "leaves the repository"),
        ("C:/build/*.whl", "names a drive"),
        ("dist\\*.whl", "between folders"),
        ("", "is empty"),
    ],
)
def test_item_paths_must_stay_inside_the_repository(tmp_path: Path, pattern: str, reason: str) -> None:
    config = AUDIT_CONFIG + f"    - {{id: package, kind: artifact, paths: ['dist/*.whl', '{pattern}']}}\n"
    repo = GitRepo.create(tmp_path / "r", config=config)
    repo.commit("RFC-2026-0001 first", files={"app/main.py": "x\n"})
    result = run_cli(["baseline", "create"], cwd=repo.path)
    assert result.code == 2 and "Traceback" not in result.stderr
    assert ".gatekeeper.yml:" in result.stderr and "baseline.items[3].paths" in result.stderr
    assert repr(pattern) in result.stderr and reason in result.stderr
    assert "relative to the repository root" in result.stderr


def test_an_unreadable_artifact_file_is_an_input_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = AUDIT_CONFIG + "    - {id: package, kind: artifact, paths: ['dist/*.whl']}\n"
    repo = GitRepo.create(tmp_path / "r", config=config)
    repo.commit("RFC-2026-0001 first", files={"app/main.py": "x\n"})
    (repo.path / "dist").mkdir()
    locked = repo.path / "dist" / "app-1.0.whl"
    locked.write_bytes(b"wheel")
    open_file = Path.open

    def refuse(path: Path, *args: Any, **kwargs: Any) -> Any:
        # chmod cannot lock root out, so the refusal is simulated for this one file.
        if path == locked:
            raise PermissionError(13, "Permission denied", str(path))
        return open_file(path, *args, **kwargs)

    monkeypatch.setattr(Path, "open", refuse)
    result = run_cli(["baseline", "create"], cwd=repo.path)
    assert result.code == 2 and "Traceback" not in result.stderr
    assert "cannot read artefact file dist/app-1.0.whl: Permission denied" in result.stderr


def test_at_grade_3_the_operator_manager_may_record_the_baseline_on_a_workstation(tmp_path: Path) -> None:
    """kr-ap-sop lets grades 3–4 record from a workstation (`approvals.local_actor_grades`): the operator
    manager's baseline counts there, the developer's is refused all the same (`baseline.recorded_by`)."""
    repo = GitRepo.create(tmp_path / "r", config=AUDIT_CONFIG.replace("grade: 1", "grade: 3"))
    repo.commit("RFC-2026-0001 first", files={"app/main.py": "x\n"})
    developer = run_cli(["--lang", "ko", "baseline", "create"], cwd=repo.path)
    assert developer.code == 2 and "베이스라인 설정 역할(operator-manager)" in developer.stderr
    git(repo.path, "config", "user.email", "choi@example.org")
    assert run_cli(["baseline", "create"], cwd=repo.path).code == 0
    assert run_cli(["baseline", "verify"], cwd=repo.path).code == 0
