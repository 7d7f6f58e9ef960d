"""Fixtures of the auditor suite: a real repository whose ledger holds the hand-checked history of
`tests/audit/history.py`, a configuration baseline, and optionally a file that drifted from it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
import yaml

from gatekeeper.config.models import Rfc
from gatekeeper.ledger import Draft
from gatekeeper.ledger.sqlite import SqliteLedger
from tests.audit.history import drafts
from tests.helpers import BASE_CONFIG, GitRepo
from tests.ledger.conftest import pg_dsn  # noqa: F401 - the shared throw-away PostgreSQL
from tests.platform.oidc import pin, record_baseline, sign

AUDIT_CONFIG = BASE_CONFIG + (
    "baseline:\n"
    "  items:\n"
    "    - {id: source, kind: source, paths: ['app/**/*.py']}\n"
    "    - {id: db-schema, kind: schema, paths: ['db/*.sql']}\n"
    "    - {id: settings, kind: environment, paths: ['config/*.env']}\n"
)
TYPES = {
    "RFC-2026-0001": "normal",
    "RFC-2026-0002": "normal",
    "RFC-2026-0003": "emergency",
    "RFC-2026-0004": "standard",
}
BASELINE_AT = datetime(2026, 11, 1, 3, 0, tzinfo=UTC)  # 12:00 KST
AUDIT_AT = datetime(2026, 11, 24, 11, 0, tzinfo=UTC)  # 20:00 KST


def write_rfcs(repo: GitRepo) -> None:
    for rfc_id, change_type in TYPES.items():
        path = repo.add_rfc(rfc_id, type=change_type)
        extra = {"standard": "standard_template: STD-DB-INDEX\n", "emergency": "incident: INC-2026-0007\n"}
        path.write_text(path.read_text(encoding="utf-8") + extra.get(change_type, ""), encoding="utf-8")


def rfc_models() -> dict[str, Rfc | None]:
    import yaml

    from tests.helpers import VALID_RFC

    out: dict[str, Rfc | None] = {}
    for rfc_id, change_type in TYPES.items():
        body = yaml.safe_load(VALID_RFC.format(id=rfc_id, type=change_type, requester="lee", status="active"))
        body.update(
            {
                "standard": {"standard_template": "STD-DB-INDEX"},
                "emergency": {"incident": "INC-2026-0007"},
            }.get(change_type, {})
        )
        out[rfc_id] = Rfc.model_validate(body, strict=False)
    return out


@dataclass
class AuditRepo:
    repo: GitRepo
    drifted_commit: str | None

    @property
    def path(self) -> Path:
        return self.repo.path


def commit_at(
    repo: GitRepo, monkeypatch: pytest.MonkeyPatch, when: str, message: str, files: dict[str, str]
) -> str:
    monkeypatch.setenv("GIT_AUTHOR_DATE", when)
    monkeypatch.setenv("GIT_COMMITTER_DATE", when)
    return repo.commit(message, files=files)


def make_audit_repo(path: Path, monkeypatch: pytest.MonkeyPatch, *, drift: bool) -> AuditRepo:
    repo = GitRepo.create(path, config=AUDIT_CONFIG)
    # The ledger file and reports stay out of the commits, so commit ids are the same on every run.
    repo.write(".gitignore", ".gatekeeper/\n*.html\n")
    write_rfcs(repo)
    commit_at(
        repo,
        monkeypatch,
        "2026-10-30T10:00:00+09:00",
        "RFC-2026-0001 민원 신청 화면 입력 검증 추가",
        {
            "app/main.py": "LIMIT = 1\n",
            "db/schema.sql": "create table complaint (id int);\n",
            "config/production.env": "POOL=10\n",
        },
    )
    ledger = SqliteLedger(path / ".gatekeeper" / "ledger.db")
    try:
        for draft in drafts():
            ledger.append(draft)
        if not drift:
            for draft in closure_of_d1():
                ledger.append(draft)
    finally:
        ledger.close()
    # The operator manager sets baseline 1.0 in the pipeline of the default branch (seed 002 형상관리 1.2).
    record_baseline(path, "1.0", BASELINE_AT)
    commit_at(
        repo,
        monkeypatch,
        "2026-11-03T10:00:00+09:00",
        "RFC-2026-0002 민원 신청 화면의 입력 검증 강화\n\nRefs: RFC-2026-0002",
        {"app/main.py": "LIMIT = 2\n"},
    )
    drifted = None
    if drift:
        drifted = commit_at(
            repo,
            monkeypatch,
            "2026-11-12T10:00:00+09:00",
            "hotfix: widen the complaint table",
            {"db/schema.sql": "create table complaint (id int, body text);\n"},
        )
    # The auditor's configuration pins the pipelines' signing key and names the repository their tokens
    # name (`tests.platform.oidc.pin`), so signed records verify outside CI; left out of the commits, whose
    # ids the golden reports show.
    settings = yaml.safe_dump({"platform": pin(path)}, allow_unicode=True)
    (path / ".gatekeeper.yml").write_text(AUDIT_CONFIG + settings, encoding="utf-8")
    return AuditRepo(repo, drifted)


def closure_of_d1() -> list[Draft]:
    """D1 tested in production, accepted, reviewed and closed in October (배포관리 3.1–4.3), each record
    signed by the pipeline job that wrote it. Appended after the history so that its ids stay as they are."""
    started = next(d for d in drafts() if d.kind == "deployment.started")
    about = {"deployment": started.id}
    totals = {"tests": 8, "passed": 8, "failed": 0, "errors": 0, "skipped": 0}
    moment = datetime(2026, 10, 21, 10, tzinfo=ZoneInfo("Asia/Seoul"))
    records = [
        ("test.evidence", {"kind": "unit", "commit": started.data["commit"], "totals": totals}, "choi"),
        (
            "test.evidence",
            {"kind": "integration", "commit": started.data["commit"], "totals": totals},
            "choi",
        ),
        ("release.accepted", {"result": "accepted", "note": "인수테스트 통과"}, "lee"),
        ("release.reviewed", {"consistent": True, "note": "계획·배포·결과 일치"}, "choi"),
        ("change.closed", {"note": "종료"}, "kim"),
    ]
    return [
        sign(Draft(kind, started.system, actor, "github-actions", moment, {**data, **about}, started.rfcs))
        for kind, data, actor in records
    ]


@pytest.fixture
def audit_repo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> AuditRepo:
    """The history, a baseline 1.0 on 11-01, an RFC-linked change and an unexplained schema change."""
    return make_audit_repo(tmp_path / "repo", monkeypatch, drift=True)


@pytest.fixture
def clean_repo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> AuditRepo:
    return make_audit_repo(tmp_path / "repo", monkeypatch, drift=False)
