"""Faults each give a clear message and the right exit code, never a traceback, and store nothing."""

from __future__ import annotations

import base64
import os
import subprocess
from pathlib import Path

import pytest

from gatekeeper.errors import ExitCode, LedgerError
from gatekeeper.ledger.git import GitLedger
from tests.helpers import BASE_CONFIG, GitRepo, run_cli
from tests.ledger.spec import BackendSpec, make_draft

PG_CONFIG = BASE_CONFIG.replace(
    "ledger: {backend: sqlite, path: .gatekeeper/ledger.db}", "ledger: {backend: postgres}"
)


def _bare(path: Path) -> Path:
    subprocess.run(["git", "init", "-q", "--bare", str(path)], check=True)
    return path


def _grade_3(repo: GitRepo) -> None:
    """Grade 3: a workstation's decision is recorded (with warnings), so each test reaches the ledger."""
    config = repo.path / ".gatekeeper.yml"
    config.write_text(config.read_text(encoding="utf-8").replace("grade: 1", "grade: 3"), encoding="utf-8")


def _approve(repo: GitRepo, env: dict[str, str] | None = None) -> tuple[int, str]:
    _grade_3(repo)
    repo.add_rfc("RFC-2026-0001")
    subprocess.run(
        ["git", "commit", "-q", "--allow-empty", "-m", "RFC-2026-0001 base"], cwd=repo.path, check=True
    )
    result = run_cli(
        ["approve", "RFC-2026-0001", "--step", "cab", "--decision", "approve"], cwd=repo.path, env=env
    )
    assert "Traceback" not in result.stderr
    return result.code, result.stderr


# ------------------------------------------------------------------------------------------ git


def test_an_unreachable_git_remote_is_a_ledger_error(tmp_path: Path) -> None:
    ledger = GitLedger(_bare(tmp_path / "clone.git"), remote=str(tmp_path / "missing.git"), env=os.environ)
    with pytest.raises(LedgerError, match="cannot reach the ledger remote") as caught:
        ledger.append(make_draft())
    assert caught.value.exit_code == ExitCode.INTERNAL
    assert "nothing was stored" in caught.value.hint


def test_a_read_only_git_remote_refuses_and_is_not_retried(tmp_path: Path) -> None:
    remote = _bare(tmp_path / "remote.git")
    hook = remote / "hooks" / "pre-receive"
    hook.write_text("#!/bin/sh\necho 'this repository is read-only' >&2\nexit 1\n")
    hook.chmod(0o755)
    slept: list[float] = []
    ledger = GitLedger(_bare(tmp_path / "clone.git"), remote=str(remote), env=os.environ, sleep=slept.append)
    with pytest.raises(LedgerError, match=r"refused the push.*read-only") as caught:
        ledger.append(make_draft())
    assert caught.value.exit_code == ExitCode.INTERNAL
    assert "write access" in caught.value.hint
    assert slept == [] and ledger.attempts == 1


def _racing(tmp_path: Path, retries: int, losses: int) -> tuple[GitLedger, GitLedger, list[float]]:
    """A ledger whose first `losses` pushes are beaten by another pipeline appending just before."""
    remote = _bare(tmp_path / "remote.git")
    rival = GitLedger(_bare(tmp_path / "rival.git"), remote=str(remote), env=os.environ)
    slept: list[float] = []
    ledger = GitLedger(
        _bare(tmp_path / "clone.git"), remote=str(remote), env=os.environ, retries=retries, sleep=slept.append
    )
    build = ledger._commit
    lost = 0

    def beaten(tip: str | None, record: object) -> str:
        nonlocal lost
        commit = build(tip, record)  # type: ignore[arg-type]
        if lost < losses:
            lost += 1
            rival.append(make_draft(100 + lost))
        return commit

    ledger._commit = beaten  # type: ignore[method-assign]
    return ledger, rival, slept


def test_a_rejected_push_is_rechained_and_retried_with_jittered_backoff(tmp_path: Path) -> None:
    ledger, _rival, slept = _racing(tmp_path, retries=5, losses=3)
    record = ledger.append(make_draft(1))
    assert ledger.attempts == 4 and len(slept) == 3
    assert all(0 <= s <= min(2.0, 0.05 * 2**i) for i, s in enumerate(slept))
    assert record.seq == 4  # chained after the rival's three records
    check = GitLedger(_bare(tmp_path / "check.git"), remote=str(tmp_path / "remote.git"), env=os.environ)
    assert check.verify().ok and [r.seq for r in check.records()] == [1, 2, 3, 4]


def test_a_push_storm_beyond_the_retry_bound_fails_and_stores_nothing(tmp_path: Path) -> None:
    ledger, _rival, _slept = _racing(tmp_path, retries=2, losses=10)
    draft = make_draft(1)
    with pytest.raises(LedgerError, match="3 pushes were rejected") as caught:
        ledger.append(draft)
    assert "push_retries" in caught.value.hint
    check = GitLedger(_bare(tmp_path / "check.git"), remote=str(tmp_path / "remote.git"), env=os.environ)
    assert draft.id not in {r.id for r in check.records()}
    assert check.verify().ok


def test_tokens_go_through_the_environment_and_never_into_messages(tmp_path: Path) -> None:
    token = "ghs_secretTOKENvalue123"
    env = {**os.environ, "GITHUB_ACTIONS": "true", "GITHUB_TOKEN": token}
    url = "https://x-access-token:ghs_inlineSECRET@127.0.0.1:9/org/repo.git"
    ledger = GitLedger(_bare(tmp_path / "clone.git"), remote=url, env=env)
    header = base64.b64encode(f"x-access-token:{token}".encode()).decode()
    configured = {k: v for k, v in ledger.git.env.items() if k.startswith("GIT_CONFIG_")}
    assert configured["GIT_CONFIG_KEY_0"] == "http.https://127.0.0.1:9/.extraheader"
    assert configured["GIT_CONFIG_VALUE_0"] == f"AUTHORIZATION: basic {header}"
    with pytest.raises(LedgerError) as caught:
        ledger.append(make_draft())
    said = caught.value.render()
    assert token not in said and header not in said and "ghs_inlineSECRET" not in said
    assert "127.0.0.1" in said


def test_the_git_ledger_never_touches_the_working_tree_index_or_branches(repo: GitRepo) -> None:
    repo.add_rfc("RFC-2026-0001")
    repo.commit("RFC-2026-0001 start")
    repo.write(
        ".gatekeeper.yml",
        BASE_CONFIG.replace("{backend: sqlite, path: .gatekeeper/ledger.db}", "{backend: git}"),
    )
    _grade_3(repo)
    repo.write("work-in-progress.txt", "unstaged")
    subprocess.run(["git", "add", ".gatekeeper.yml"], cwd=repo.path, check=True)
    before = subprocess.run(
        ["git", "status", "--porcelain"], cwd=repo.path, capture_output=True, text=True
    ).stdout
    head = repo.head()
    result = run_cli(["approve", "RFC-2026-0001", "--step", "cab", "--decision", "approve"], cwd=repo.path)
    assert result.code == 0, result.stderr
    after = subprocess.run(
        ["git", "status", "--porcelain"], cwd=repo.path, capture_output=True, text=True
    ).stdout
    assert after == before and repo.head() == head
    files = subprocess.run(
        ["git", "ls-tree", "-r", "--name-only", "gatekeeper/ledger"],
        cwd=repo.path,
        capture_output=True,
        text=True,
    ).stdout.split()
    assert files == ["HEAD.json", "records/000000/000000001.json"]


# ------------------------------------------------------------------------------------------ sqlite


def test_a_corrupt_sqlite_file_is_a_ledger_error(repo: GitRepo) -> None:
    repo.write(".gatekeeper/ledger.db", "this is not a database" * 100)
    code, err = _approve(repo)
    assert code == ExitCode.INTERNAL, err
    assert "cannot open the SQLite ledger" in err and "fix:" in err


# ------------------------------------------------------------------------------------------ postgres


def test_postgres_without_its_dsn_variable_says_which_variable(repo: GitRepo) -> None:
    repo.write(".gatekeeper.yml", PG_CONFIG)
    code, err = _approve(repo)
    assert code == ExitCode.INTERNAL
    assert "GATEKEEPER_LEDGER_DSN" in err and "not set" in err


@pytest.mark.parametrize(
    ("dsn", "expected"),
    [
        ("postgresql://gatekeeper@127.0.0.1:1/postgres", "cannot connect to the PostgreSQL ledger"),
        ("host=127.0.0.1 port=notaport", "cannot connect to the PostgreSQL ledger"),
        ("postgresql://gatekeeper:hunter2@127.0.0.1:1/postgres", "cannot connect"),
    ],
)
def test_a_wrong_dsn_or_a_server_that_is_down_is_a_clear_error(
    repo: GitRepo, dsn: str, expected: str
) -> None:
    repo.write(".gatekeeper.yml", PG_CONFIG)
    code, err = _approve(repo, env={"GATEKEEPER_LEDGER_DSN": dsn})
    assert code == ExitCode.INTERNAL
    assert expected in err and "$GATEKEEPER_LEDGER_DSN" in err
    assert "hunter2" not in err


def test_a_wrong_database_name_is_a_clear_error(pg_dsn: str) -> None:
    spec = BackendSpec("postgres", pg_dsn.rsplit("/", 1)[0] + "/no_such_db", "x")
    with pytest.raises(LedgerError, match=r"no_such_db.*does not exist"):
        spec.open()
