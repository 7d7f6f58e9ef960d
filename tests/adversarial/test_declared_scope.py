"""Declared scope: one environment has one name, a standard change is one defined in advance, and an RFC
deploys only while active, for its own system (issues 16.7, 17.3, 17.4).

Each test is an attack a developer with write access tried through the real CLI on a real repository and
SQLite ledger (the acceptance world of `tests.acceptance`), and what stopped it.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from gatekeeper.config import load_config
from gatekeeper.ledger.backends import open_ledger
from tests.acceptance import FULL_CHAIN, RFC_ID, TUESDAY_EVENING, build
from tests.adversarial.conftest import Recorder
from tests.helpers import GitRepo, run_cli
from tests.platform.oidc import gitlab_job

EVENING = datetime.fromisoformat(TUESDAY_EVENING)
TUESDAY_MORNING = datetime.fromisoformat("2026-11-24T10:00:00+09:00")
ENVIRONMENTS = {
    "environments": {
        "production": {"kind": "production", "aliases": ["prod", "운영계"]},
        "staging": {"kind": "staging", "aliases": ["stg"]},
    }
}
REVIEW_AND_RELEASE = [
    {"step": "change-review", "actor": "kim"},
    {"step": "release-first", "actor": "han"},
    {"step": "release-second", "actor": "lee"},
]


def _start(repo: GitRepo, at: datetime, *extra: str) -> tuple[int, dict[str, Any], str]:
    result = run_cli(["--format", "json", "deploy", "start", "--rfc", RFC_ID, *extra], cwd=repo.path, now=at)
    body = json.loads(result.stdout) if result.stdout.strip() else {}
    return result.code, body, result.stderr


def _started(repo: GitRepo) -> list[Any]:
    ledger = open_ledger(load_config(repo.path / ".gatekeeper.yml"), repo.path, {})
    try:
        return list(ledger.find(kind="deployment.started"))
    finally:
        ledger.close()


SPELLINGS = ["Production", "PRODUCTION", "production ", " prod", "PROD", "운영계", "ｐｒｏｄｕｃｔｉｏｎ"]


@pytest.mark.parametrize("spelling", SPELLINGS)
def test_a_second_deployment_of_production_under_another_spelling_is_refused(
    repo: GitRepo, reliability: Recorder, spelling: str
) -> None:
    build(repo, {"config": ENVIRONMENTS})
    first, body, _ = _start(repo, EVENING)
    assert first == 0, body
    code, body, stderr = _start(repo, EVENING, "--env", spelling)
    assert code == 1, (body, stderr)
    assert "deploy.concurrent" in {f["rule"] for f in body["findings"]}
    (only,) = _started(repo)
    assert only.data["environment"] == "production"
    reliability.row(
        f"`deploy start --env {spelling!r}` while production is open",
        "environment spelled otherwise (case, whitespace, alias, full-width)",
        "exit 1 deploy.concurrent; one deployment.started",
    )


def test_the_recorded_environment_is_the_canonical_name(repo: GitRepo, reliability: Recorder) -> None:
    build(repo, {"config": ENVIRONMENTS})
    code, body, _ = _start(repo, EVENING, "--env", " Prod ")
    assert code == 0, body
    (started,) = _started(repo)
    assert started.data["environment"] == "production"
    finish = run_cli(
        ["deploy", "finish", started.id, "--result", "success", "--env", "PROD"], cwd=repo.path, now=EVENING
    )
    assert finish.code == 0, finish.stderr
    again, body, _ = _start(repo, EVENING)
    assert again == 0, body
    reliability.row(
        "`deploy start --env ' Prod '`, `deploy finish --env PROD`",
        "alias with whitespace",
        "recorded as production; the finish releases production's lock",
    )


HOSTILE_NAMES = ["staging", "prod", "::set-output name=x::1", "\x1b[31mproduction", "p" * 5000, ""]


@pytest.mark.parametrize("name", HOSTILE_NAMES, ids=["staging", "prod", "workflow", "ansi", "long", "empty"])
def test_an_undeclared_environment_is_an_input_error(repo: GitRepo, reliability: Recorder, name: str) -> None:
    build(repo, {})  # no `environments:`: production alone is declared
    for command in (["gate"], ["deploy", "start"]):
        result = run_cli([*command, "--rfc", RFC_ID, "--env", name], cwd=repo.path, now=EVENING)
        assert result.code == 2, (command, result.stdout, result.stderr)
        assert "--env" in result.stderr and "declared: production" in result.stderr
        assert "Traceback" not in result.stderr and len(result.stderr) < 2000
    korean = run_cli(["--lang", "ko", "gate", "--rfc", RFC_ID, "--env", name], cwd=repo.path, now=EVENING)
    assert korean.code == 2 and "선언된 배포 환경이 아닙니다" in korean.stderr
    assert _started(repo) == []
    reliability.row(
        f"`--env {name[:30]!r}` (not declared)",
        "undeclared or hostile environment name",
        "exit 2 naming --env and the declared names (en, ko); nothing recorded",
    )


def test_the_overdue_pir_of_production_follows_every_spelling(repo: GitRepo, reliability: Recorder) -> None:
    chain = [*FULL_CHAIN, {"step": "cab", "actor": "choi", "rfc": "RFC-2026-0041"}]
    earlier = {"rfcs": ["RFC-2026-0041"]}
    owing = [
        {"kind": "deployment.started", "hours_ago": 480, "data": {"environment": "Prod"}, **earlier},
        {
            "kind": "deployment.finished",
            "hours_ago": 479,
            "closes": 0,
            "data": {"result": "success"},
            **earlier,
        },
    ]
    build(repo, {"config": ENVIRONMENTS, "approvals": chain, "records": owing})
    for spelling in ("production", "Production", "prod", "운영계"):
        code, body, _ = _start(repo, EVENING, "--env", spelling)
        assert code == 1 and "deploy.pir-overdue" in {f["rule"] for f in body["findings"]}, body
    assert _started(repo)[-1].data["environment"] == "Prod"  # only the owing one
    reliability.row(
        "a normal change deployed while production's PIR is overdue, `--env Production|prod|운영계`",
        "environment spelled otherwise; the debt recorded under an alias",
        "exit 1 deploy.pir-overdue",
    )


def test_an_invented_standard_template_does_not_skip_the_cab_or_the_manager(
    repo: GitRepo, reliability: Recorder
) -> None:
    build(
        repo,
        {
            "rfc": {"type": "standard", "standard_template": "STD-INVENTED"},
            "approvals": REVIEW_AND_RELEASE,
            "at": "2026-11-24T10:00:00+09:00",
        },
    )
    code, body, _ = _start(repo, TUESDAY_MORNING)
    rules = {f["rule"] for f in body["findings"]}
    assert code == 1 and body["change_type"] == "normal", body
    assert {"standard.template-unknown", "window.business-hours", "cab.missing", "approval.missing"} <= rules
    assert _started(repo) == []
    reliability.row(
        "grade-1 `type: standard`, `standard_template: STD-INVENTED`, Tuesday 10:00 KST, no CAB, no manager",
        "standard change defined nowhere",
        "judged as normal: exit 1 (business hours, cab.missing, approval.missing); nothing recorded",
    )


def test_a_standard_change_that_leaves_its_entry_is_judged_normal(
    repo: GitRepo, reliability: Recorder
) -> None:
    build(
        repo,
        {
            "rfc": {"type": "standard", "standard_template": "STD-DB-INDEX"},
            "files": {"db/index/001.sql": "CREATE INDEX a ON b (c);\n", "app/service.py": "x = 1\n"},
            "approvals": REVIEW_AND_RELEASE,
            "at": "2026-11-24T10:00:00+09:00",
        },
    )
    code, body, _ = _start(repo, TUESDAY_MORNING)
    assert code == 1 and "standard.out-of-scope" in {f["rule"] for f in body["findings"]}, body
    assert "standard_changes" not in body
    reliability.row(
        "a catalogued standard change (STD-DB-INDEX) that also edits app/service.py, Tuesday 10:00",
        "standard change outside its paths",
        "judged as normal: exit 1; the finding names the file",
    )


CATALOGUES = {
    "missing file": None,
    "not YAML": "changes: [\n",
    "unknown key": "version: 1\nchanges: []\napproved_by_me: true\n",
    "5,000-digit size": "version: 1\nchanges:\n- {id: STD-DB-INDEX, title: t, systems: [minwon-portal], "
    "paths: ['**'], max_lines: " + "9" * 5000 + ", report_to: [agency-officer]}\n",
    "entry with no scope": "version: 1\nchanges:\n- {id: STD-DB-INDEX, title: t, systems: [minwon-portal], "
    "report_to: [agency-officer]}\n",
}


@pytest.mark.parametrize("how", list(CATALOGUES))
def test_a_catalogue_that_cannot_be_read_blocks(repo: GitRepo, reliability: Recorder, how: str) -> None:
    build(repo, {"rfc": {"type": "standard", "standard_template": "STD-DB-INDEX"}})
    text = CATALOGUES[how]
    if text is None:
        (repo.path / "standard-changes.yml").unlink()
    else:
        (repo.path / "standard-changes.yml").write_text(text, encoding="utf-8")
    result = run_cli(["--format", "json", "gate", "--rfc", RFC_ID], cwd=repo.path, now=EVENING)
    assert result.code == 1 and "Traceback" not in result.stderr, result.stderr
    errors = [f for f in json.loads(result.stdout)["findings"] if f["rule"] == "gate.error"]
    assert errors and "standard-changes.yml" in errors[0]["message"], errors
    reliability.row(
        f"standard-change catalogue: {how}",
        "malformed or missing catalogue",
        "gate.error naming standard-changes.yml (blocks)",
    )


@pytest.mark.parametrize(
    ("rfc", "rule"),
    [({"status": "cancelled"}, "rfc.inactive"), ({"status": "draft"}, "rfc.inactive"),
     ({"systems": ["hometax-portal"]}, "rfc.other-system")],
    ids=["cancelled", "draft", "other-system"],
)  # fmt: skip
def test_an_rfc_deploys_only_while_active_and_for_its_own_system(
    repo: GitRepo, reliability: Recorder, rfc: dict[str, Any], rule: str
) -> None:
    build(repo, {"rfc": rfc})
    code, body, _ = _start(repo, EVENING)
    assert code == 1 and rule in {f["rule"] for f in body["findings"]}, body
    assert _started(repo) == []
    reliability.row(
        f"`deploy start` of a fully approved RFC with {rfc}",
        "RFC not active / for another system",
        f"exit 1 {rule}; nothing recorded",
    )


def test_a_gitlab_job_deploying_to_production_cannot_be_judged_as_staging(
    repo: GitRepo, reliability: Recorder
) -> None:
    build(repo, {"config": ENVIRONMENTS, "approvals": [], "at": "2026-11-24T10:00:00+09:00"})
    head = repo.head()
    env = {
        "GITLAB_CI": "true",
        "CI_COMMIT_SHA": head,
        "CI_COMMIT_REF_NAME": "main",
        "CI_PROJECT_PATH": "agency/minwon-portal",
        "GITLAB_USER_LOGIN": "dev",
        "CI_ENVIRONMENT_NAME": "production",
    }
    args = ["--format", "json", "gate", "--rfc", RFC_ID, "--env", "staging"]
    result = run_cli(args, cwd=repo.path, env=env, now=TUESDAY_MORNING)
    errors = [f["message"] for f in json.loads(result.stdout)["findings"] if f["rule"] == "gate.error"]
    assert result.code == 1 and any("GitLab environment 'production'" in e for e in errors), result.stdout
    same = run_cli(
        [*args[:-1], "stg"], cwd=repo.path, env={**env, "CI_ENVIRONMENT_NAME": "Staging"}, now=TUESDAY_MORNING
    )
    assert not any("GitLab environment" in f["message"] for f in json.loads(same.stdout)["findings"])
    reliability.row(
        "`gate --env staging` in a GitLab job whose `environment:` is production",
        "environment of the job and of --env differ (staging has fewer rules)",
        "gate.error naming both (blocks)",
    )


def test_commits_naming_no_rfc_count_against_the_standard_entry(repo: GitRepo, reliability: Recorder) -> None:
    build(
        repo,
        {
            "rfc": {"type": "standard", "standard_template": "STD-DB-INDEX"},
            "approvals": REVIEW_AND_RELEASE,
            "at": "2026-11-24T10:00:00+09:00",
        },
    )
    repo.commit("화면 문구 수정", files={"app/views.py": "TITLE = '민원'\n"})  # names no RFC
    code, body, _ = _start(repo, TUESDAY_MORNING)
    found = {f["rule"]: f for f in body["findings"]}
    assert code == 1 and "app/views.py" in found["standard.out-of-scope"]["message"], body
    reliability.row(
        "`deploy start --rfc <standard RFC>` over a range with a commit that names no RFC and edits app code",
        "change smuggled past the standard entry in an unattributed commit",
        "judged as normal: exit 1; the finding names the file",
    )


@given(
    text=st.one_of(
        st.text(max_size=120),
        st.from_regex(r"(\d{4}-\d{2}-\d{2} )?\d{1,2}:\d{2}\s*[-~–]\s*\d{1,2}:\d{2}", fullmatch=True),
        st.builds(lambda a, b: f"{a}/{b}", st.text(max_size=40), st.text(max_size=40)),
    ),
    moment=st.datetimes(timezones=st.timezones()),
)
def test_the_window_parser_never_crashes(reliability: Recorder, text: str, moment: datetime) -> None:
    from zoneinfo import ZoneInfo

    from gatekeeper.domain.schedule import parse_window

    try:
        window = parse_window(text)
    except ValueError as exc:
        assert "window" in str(exc) or "time" in str(exc) or "date" in str(exc), exc
        return
    if window is not None:
        assert window.contains(moment, ZoneInfo("Asia/Seoul")) in (True, False)
    if not reliability.rows:
        reliability.row(
            "generated `schedule.window` / catalogue `window` texts and instants",
            "arbitrary text, clock times out of range, ISO intervals",
            "a window or a ValueError naming the forms read; never a crash",
        )


def test_a_multi_system_release_reaches_its_systems_in_the_rfcs_order(
    tmp_path: Any, reliability: Recorder
) -> None:
    """Two systems share the agency's ledger; the RFC lists the address service first (CHG-PLAN: a release
    for many systems goes to them one after another). The portal cannot go first, nor while the address
    service's deployment is open or failed; each system keeps its own lock and records."""
    shared = tmp_path / "agency-ledger.db"
    order = {"systems": ["juso-api", "minwon-portal"]}
    ledger = {"ledger": {"backend": "sqlite", "path": str(shared)}}
    juso, portal = GitRepo.create(tmp_path / "juso"), GitRepo.create(tmp_path / "portal")
    # The address service is deployed by the GitLab jobs of its own repository, which sign its records; the
    # portal's registry names that repository (grade 1: the portal counts only what its jobs signed).
    juso_project = {"platform": {"gitlab": {"oidc": {"repository": "minwon/juso-api"}}}}
    build(
        juso,
        {"system": {"id": "juso-api", "name": "주소"}, "rfc": order, "config": {**ledger, **juso_project}},
    )
    registry = {"systems": [{"id": "juso-api", "name": "주소", "grade": 1, "repository": "minwon/juso-api"}]}
    build(portal, {"rfc": order, "config": {**ledger, **registry}})

    def juso_job() -> dict[str, str]:
        job = gitlab_job(juso.head(), "ci", EVENING, project_path="minwon/juso-api")
        return {**job, "CI_PROJECT_PATH": "minwon/juso-api"}

    def start(repo: GitRepo) -> tuple[int, dict[str, Any]]:
        env = juso_job() if repo is juso else None
        args = ["--format", "json", "deploy", "start", "--rfc", RFC_ID]
        result = run_cli(args, cwd=repo.path, now=EVENING, env=env)
        assert result.code in (0, 1), result.stderr
        return result.code, json.loads(result.stdout)

    def sequence_findings(body: dict[str, Any]) -> list[str]:
        return [f["message"] for f in body["findings"] if f["rule"] == "deploy.sequence"]

    code, body = start(portal)
    assert code == 1 and "juso-api" in sequence_findings(body)[0], body["findings"]
    code, first = start(juso)
    assert code == 0 and not sequence_findings(first), first["findings"]
    code, body = start(portal)  # the address service is still being deployed
    assert code == 1 and "still being deployed" in sequence_findings(body)[0]
    assert "deploy.concurrent" not in {f["rule"] for f in body["findings"]}, "each system has its own lock"
    failed = run_cli(
        ["deploy", "finish", first["deployment_id"], "--result", "failure"],
        cwd=juso.path,
        now=EVENING,
        env=juso_job(),
    )
    assert failed.code == 0, failed.stderr
    code, body = start(portal)
    assert code == 1 and "failure" in sequence_findings(body)[0]
    code, again = start(juso)
    assert code == 0, again["findings"]
    done = run_cli(
        ["deploy", "finish", again["deployment_id"], "--result", "success"],
        cwd=juso.path,
        now=EVENING,
        env=juso_job(),
    )
    assert done.code == 0, done.stderr
    code, body = start(portal)
    assert code == 0 and not sequence_findings(body), body["findings"]
    config = load_config(portal.path / ".gatekeeper.yml")
    reader = open_ledger(config, portal.path, {})
    try:
        started = [(r.system, r.seq) for r in reader.find(kind="deployment.started")]
    finally:
        reader.close()
    assert [s for s, _ in started] == ["juso-api", "juso-api", "minwon-portal"]
    form = run_cli(
        ["--lang", "ko", "report", "form", "release-plan", RFC_ID],
        cwd=portal.path,
        now=EVENING,
    )
    assert form.code == 0, form.stderr
    text = form.stdout
    assert "시스템별 배포 순서" in text, text
    assert "| 1 | juso\\-api | 성공 |" in text and "| 2 | minwon\\-portal | 배포 중 |" in text
    reliability.row(
        "a two-system RFC deployed to the second system first, while the first is open, after it failed",
        "forgery",
        "block: deploy.sequence each time, nothing recorded; allowed once the first succeeded",
    )
