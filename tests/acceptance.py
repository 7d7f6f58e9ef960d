"""The world of the acceptance cases, one dialect for every rule: tests/cases/<rule>/{pass,fail}/*.yaml,
run by tests/test_cases.py.

Every case starts from a deployment that passes everything, in a real git repository with a sqlite ledger
— a grade-1 normal change `RFC-2026-0042` committed by `dev`, the full approval chain (kim, choi, park,
han, lee, in the SOP's order) bound to the RFC's digest, passing unit and integration reports in the
workspace, Tuesday 2026-11-24 20:00 KST — and changes what the case says:

- `system`: keys merged into `system` of the configuration (grade, audience)
- `config`: keys merged into the configuration (freeze periods, the calendar, ...)
- `rfc`: keys merged into the RFC file; `edit_rfc_after_approval: true` edits it after the approvals
- `rfcs`: other RFCs in the store, ID -> status, or ID -> keys merged into the RFC (an ID named nowhere
  here does not exist)
- `commit`: {message, author, committer, co_authors: [..]} of the deployed commit
- `approvals`: a list of {step, actor, decision, source, attested, commit} replacing the full chain (in
  ledger order); a release step names the deployed commit unless `commit` is `other` or `none`; an
  approval from CI carries the attestation an approval job records (a token signed by a key the
  configuration pins) unless it says `attested: false`, or `claims:` overriding the token's claims;
  `artifacts: {NAME: CONTENT}` names the builds it approved (their digests)
- `artifacts`: {NAME: CONTENT} the builds being deployed, written to `dist/` and given to the gate
  as `--artifact NAME=dist/NAME`
- `evidence`: {KIND: {tests, failed, errors, skipped} | "xxe" | null} replacing workspace reports
- `reports`: `committed` (the workspace reports were committed in an earlier commit) or `before-checkout`
  (they are older than the checkout): either way this job did not produce them
- `ledger_evidence`: [{kind, commit: head|other, tests, passed, ..., signed}] recorded with `test.evidence`,
  signed by a CI job on the commit it names unless `signed` is false (or `other-commit`: a job on another)
- `records`: extra ledger records [{kind, rfcs, hours_ago, change_type, data}]; a `deployment.finished`
  with `closes: N` names the N-th record of this list (0-based) as its start, an `incident.opened` with
  `deployment: N` the deployment it was opened for; `actor` and `source` say who wrote a record, `system`
  which system it is of (default the case's own); a record from CI is signed by its job unless `signed`
  is false (`claims:` override its token's claims: another repository's job, another commit); `about: N`
  names the N-th record's deployment in a closure record or production tests (`about: null`: a made-up
  deployment; test evidence names the deployed commit unless it says)
- `delegations`: [{by, to, steps, from_hours, until_hours, hours_ago, source, signed, revokes}] recorded
  before the approvals (`hours_ago`, default 48, before `at`): `by` hands `steps` to the deputy `to` from
  `from_hours` (default 72) before `at` until `until_hours` (default 24; negative: before) after it, signed
  by `by`'s CI job unless `signed` is false; `revokes: N` withdraws the N-th entry of this list instead
- `cab_quorum`: N — the pack is kr-ap-sop as an agency adapts it (`.gatekeeper/pack.yaml`), its CAB
  deciding by N members (`approvals.steps.cab.quorum`)
- `at`: the time asked about (default the Tuesday evening)
- `env`: the `--env` the gate is asked about (default none: production)
- `catalogue`: keys merged into the standard-change catalogue (`standard-changes.yml`; `changes:` replaces
  the entries); `files`: {path: text} committed with the deployed commit
- `then_files`: {path: text} committed by a second commit of the change, after the one that created the
  configuration (that first commit is where governance starts)

A commit rule's case is run by `gatekeeper check-commits` on the commit's message (as the commit-msg hook
runs it); every other rule's by `gatekeeper gate`. A `fail` case must produce a finding of its rule with
`expect.severity` (default error) and the `expect.decision` (default block); a `pass` case must produce no
finding of its rule, and `allow` unless it says otherwise. `expect.rules` lists every rule that fires, where
a case says so; `expect.message_contains` texts its finding's message or fix must contain.
"""

from __future__ import annotations

import copy
import json
import os
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import yaml

from gatekeeper.adapters.rfcstore import FileRfcStore
from gatekeeper.config import load_config
from gatekeeper.domain.catalogue import RULES
from gatekeeper.ledger import Draft
from gatekeeper.ledger.backends import open_ledger
from tests.helpers import GitRepo, run_cli
from tests.platform.oidc import attest, pin, sign

CASES = Path(__file__).parent / "cases"
# The rules a case exercises: every rule but the gate's own report of a fact it could not gather and the
# baseline's drift (its facts are a baseline and a later tree: tests/audit/test_baseline.py).
CASE_RULES = sorted(r for r in RULES if r not in ("gate.error", "baseline.drift"))
CASE_FILES = sorted(p for rule in CASE_RULES for p in (CASES / rule).glob("*/*.yaml"))
RFC_ID = "RFC-2026-0042"
RELEASE_STEPS = ("release-first", "release-second")
CERTIFIED = ("integration",)  # the evidence kinds kr-ap-sop's release approvals certify (`certified_by`)
TUESDAY_EVENING = "2026-11-24T20:00:00+09:00"

CONFIG: dict[str, Any] = {
    "version": 1,
    "system": {"id": "minwon-portal", "name": "민원포털", "grade": 1, "audience": "internal"},
    "policy": "kr-ap-sop",
    "timezone": "Asia/Seoul",
    "rfc": {"id_pattern": r"RFC-\d{4}-\d{4}", "store": "files", "dir": "changes"},
    "roles": {
        "agency-manager": ["park"],
        "agency-officer": ["kim", "lee"],
        "operator-manager": ["han"],
        "cab": ["kim", "park", "choi"],
    },
    "evidence": [
        {"kind": "unit", "paths": ["reports/unit/*.xml"]},
        {"kind": "integration", "paths": ["reports/it/*.xml"]},
        {"kind": "performance", "paths": ["reports/perf/*.xml"]},
    ],
    "ledger": {"backend": "sqlite", "path": "../{repo}-ledger.db"},  # outside the checkout, as CI requires
    "standard_changes": {"catalogue": "standard-changes.yml"},
}
# The standard changes defined in advance. The world's one commit carries the configuration, the catalogue
# and the RFC files as well, so `build` lets every entry change those paths (WORLD_FILES) besides its own.
WORLD_FILES = ["changes/*.yml", ".gatekeeper.yml", ".gatekeeper/*", "standard-changes.yml"]
CATALOGUE: dict[str, Any] = {
    "version": 1,
    "changes": [
        {
            "id": "STD-DB-INDEX",
            "title": "조회 성능 인덱스 추가",
            "systems": ["minwon-portal"],
            "paths": ["db/index/*.sql"],
            "max_files": 10,
            "max_lines": 400,
            "report_to": ["agency-officer"],
        },
        {
            "id": "STD-01",
            "title": "사용자 계정 관리",
            "systems": ["minwon-portal"],
            "paths": ["accounts/*.yml"],
            "report_to": ["agency-officer"],
        },
    ],
}
RFC: dict[str, Any] = {
    "id": RFC_ID,
    "title": "민원 신청 화면 개선",
    "type": "normal",
    "requester": "lee",
    "worker": "choi",
    "systems": ["minwon-portal"],
    "reason": "민원인 입력 오류를 줄이기 위해 신청 화면의 검증을 강화한다",
    "work_plan": "검증 로직 추가 후 검증계에서 확인하고 운영계에 배포한다",
    "deployment_plan": "야간 배포, 무중단 롤링 배포로 진행한다",
    "test_plan": "단위테스트 40건, 통합테스트 12건, 사전검증 시나리오 5건을 수행한다",
    "rollback_plan": "이전 릴리스 태그로 재배포하고 신청 테이블 정합성을 점검한다",
}
FULL_CHAIN = [
    {"step": "change-review", "actor": "kim"},
    {"step": "cab", "actor": "choi"},
    {"step": "change-approval", "actor": "park"},
    {"step": "release-first", "actor": "han"},
    {"step": "release-second", "actor": "lee"},
]
KIND_DIRS = {"unit": "unit", "integration": "it", "performance": "perf"}
XXE = """<?xml version="1.0"?>
<!DOCTYPE testsuite [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>
<testsuite name="x" tests="1" failures="0" errors="0"><testcase name="&xxe;"/></testsuite>
"""


def junit(tests: int = 10, failed: int = 0, errors: int = 0, skipped: int = 0) -> str:
    cases = []
    for i in range(tests):
        body = ""
        if i < failed:
            body = '<failure message="boom"/>'
        elif i < failed + errors:
            body = '<error message="crash"/>'
        elif i < failed + errors + skipped:
            body = "<skipped/>"
        cases.append(f'<testcase classname="c" name="t{i}">{body}</testcase>')
    return (
        f'<?xml version="1.0"?>\n<testsuite name="s" tests="{tests}" failures="{failed}" errors="{errors}" '
        f'skipped="{skipped}">{"".join(cases)}</testsuite>\n'
    )


def _merge(base: dict[str, Any], extra: dict[str, Any]) -> dict[str, Any]:
    out = dict(base)
    for key, value in extra.items():
        out[key] = (
            _merge(out[key], value) if isinstance(value, dict) and isinstance(out.get(key), dict) else value
        )
    return out


def case_id(path: Path) -> str:
    return f"{path.parent.parent.name}/{path.parent.name}/{path.stem}"


def built_digest(content: str) -> str:
    """The `sha256:` digest of an artefact whose bytes are `content` (UTF-8)."""
    import hashlib

    return "sha256:" + hashlib.sha256(content.encode("utf-8")).hexdigest()


def append_approvals(
    ledger: Any,
    config: Any,
    approvals: list[dict[str, Any]],
    digest: str,
    head: str,
    moment: datetime,
    certified: tuple[str, ...] = CERTIFIED,
) -> datetime:
    """Append `approvals` (the case's `approvals` entries) five minutes apart from `moment`, each from CI
    attested unless it says otherwise, a release step naming `head` unless its `commit` is `other` or
    `none`; the passing `certified` test evidence of `head` (signed by a CI job on `head`; a kind named
    `KIND:unsigned` without a signature) is recorded just before the first release
    step's approval (what the release approvals certify: `approval.before-evidence`); returns the time of
    the last."""
    for approval in approvals:
        moment += timedelta(minutes=5)
        if approval["step"] in RELEASE_STEPS and certified:
            for named in certified:
                kind, _, how = named.partition(":")  # `integration:unsigned`: appended without a signature
                totals = {"tests": 10, "passed": 10, "failed": 0, "errors": 0, "skipped": 0}
                data = {"kind": kind, "commit": head, "totals": totals}
                draft = Draft("test.evidence", config.system.id, "ci", "github-actions", moment, data)
                ledger.append(draft if how == "unsigned" else sign(draft))
            certified = ()
            moment += timedelta(minutes=1)
        data = {
            "step": approval["step"],
            "decision": approval.get("decision", "approve"),
            "rfc_digest": digest,
        }
        if approval["step"] in RELEASE_STEPS:  # the commit the release approval certifies (REL-P1)
            named = approval.get("commit", "head")
            if named != "none":
                data["commit"] = head if named == "head" else "f" * 40
        if "artifacts" in approval:  # {name: content of the build approved}
            data["artifacts"] = {n: built_digest(c) for n, c in approval["artifacts"].items()}
        draft = Draft(
            "approval",
            config.system.id,
            approval["actor"],
            approval.get("source", "github-actions"),
            moment,
            data,
            (approval.get("rfc", RFC_ID),),
        )
        if draft.actor_source == "github-actions" and approval.get("attested", True):
            draft = attest(draft, **approval.get("claims", {}))
        ledger.append(draft)
    return moment


def append_delegations(
    ledger: Any, config: Any, delegations: list[dict[str, Any]], at: datetime
) -> list[str]:
    """Append the case's `delegations` (see the module docstring); returns their record ids."""
    ids: list[str] = []
    for item in delegations:
        if "revokes" in item:
            data: dict[str, Any] = {"revokes": ids[item["revokes"]], "note": ""}
        else:
            data = {
                "to": item["to"],
                "steps": list(item["steps"]),
                "from": (at - timedelta(hours=float(item.get("from_hours", 72)))).isoformat(),
                "until": (at + timedelta(hours=float(item.get("until_hours", 24)))).isoformat(),
                "note": item.get("note", ""),
            }
        when = at - timedelta(hours=float(item.get("hours_ago", 48)))
        draft = Draft(
            "delegation", config.system.id, item["by"], item.get("source", "github-actions"), when, data
        )
        if draft.actor_source == "github-actions" and item.get("signed", True):
            draft = sign(draft)  # by the delegator's CI job
        ids.append(ledger.append(draft).id)
    return ids


def build(repo: GitRepo, case: dict[str, Any]) -> tuple[datetime, str]:
    """Set up the repository and ledger the case describes; returns (at, head)."""
    at = datetime.fromisoformat(str(case.get("at", TUESDAY_EVENING)))
    config_body = _merge(CONFIG, {"system": case.get("system", {}), "platform": pin(repo.path)})
    config_body = _merge(config_body, case.get("config", {}))
    if "path" in config_body["ledger"]:  # beside the repository, one ledger per repository
        ledger = dict(config_body["ledger"])
        ledger["path"] = ledger["path"].replace("{repo}", repo.path.name)
        config_body["ledger"] = ledger
    if "cab_quorum" in case:
        pack = (Path(__file__).parents[1] / "policies" / "kr-ap-sop.yaml").read_text(encoding="utf-8")
        quorum = f"{{roles: [cab], quorum: {int(case['cab_quorum'])}}}"
        repo.write(".gatekeeper/pack.yaml", pack.replace("{roles: [cab], quorum: 1}", quorum))
        config_body["policy"] = ".gatekeeper/pack.yaml"
    repo.write(".gatekeeper.yml", yaml.safe_dump(config_body, allow_unicode=True))
    catalogue = copy.deepcopy(_merge(CATALOGUE, case.get("catalogue", {})))
    for entry in catalogue["changes"]:
        entry["paths"] = [*entry.get("paths", []), *WORLD_FILES]
    repo.write("standard-changes.yml", yaml.safe_dump(catalogue, allow_unicode=True))
    for path, text in case.get("files", {}).items():
        repo.write(path, text)
    rfc = _merge(RFC, case.get("rfc", {}))
    repo.write(f"changes/{RFC_ID}.yml", yaml.safe_dump(rfc, allow_unicode=True))
    for other, status in case.get("rfcs", {}).items():
        fields = status if isinstance(status, dict) else {"status": status}
        body = _merge(RFC, {"id": other, **fields})
        repo.write(f"changes/{other}.yml", yaml.safe_dump(body, allow_unicode=True))
    commit = case.get("commit", {})
    trailers = "".join(f"\nCo-authored-by: {c}" for c in commit.get("co_authors", []))
    committer = commit.get("committer", "dev <dev@example.org>")
    name, _, email = committer.partition(" <")
    head = repo.commit(
        commit.get("message", f"{RFC_ID} 신청 화면 입력 검증을 강화한다\n{trailers}"),
        author=commit.get("author", "dev <dev@example.org>"),
        committer=(name, email.rstrip(">")),
    )
    if case.get("then_files"):
        for path, text in case["then_files"].items():
            repo.write(path, text)
        head = repo.commit(
            f"{RFC_ID} 배포 작업 흐름을 정비한다", author=commit.get("author", "dev <dev@example.org>")
        )
    for kind, spec in case.get("evidence", {"unit": {}, "integration": {}}).items():
        if spec is None:
            continue
        text = XXE if spec == "xxe" else junit(**spec)
        (repo.path / "reports" / KIND_DIRS[kind]).mkdir(parents=True, exist_ok=True)
        (repo.path / "reports" / KIND_DIRS[kind] / "result.xml").write_text(text, encoding="utf-8")
    if case.get("reports") == "committed":  # passing reports committed earlier; HEAD was never tested
        repo.commit(f"{RFC_ID} 테스트 결과 보관")
        head = repo.commit(f"{RFC_ID} 입력 검증 규칙을 추가한다", allow_empty=True)
    elif case.get("reports") == "before-checkout":  # left in the workspace by an earlier job
        checkout = (repo.path / ".git" / "HEAD").stat().st_mtime
        for report in (repo.path / "reports").rglob("*.xml"):
            os.utime(report, (checkout - 3600, checkout - 3600))

    config = load_config(repo.path / ".gatekeeper.yml")
    digest = FileRfcStore(repo.path, config).get(RFC_ID).digest  # type: ignore[union-attr]
    ledger = open_ledger(config, repo.path, {})
    moment = at - timedelta(days=1)
    extra_ids: list[str] = []
    try:
        append_delegations(ledger, config, case.get("delegations", []), at)
        moment = append_approvals(
            ledger,
            config,
            case.get("approvals", FULL_CHAIN),
            digest,
            head,
            moment,
            tuple(case.get("certified", CERTIFIED)),
        )
        for item in case.get("ledger_evidence", []):
            data = {
                "kind": item["kind"],
                "commit": head if item.get("commit", "head") == "head" else "f" * 40,
                "totals": {k: item.get(k, 0) for k in ("tests", "passed", "failed", "errors", "skipped")},
            }
            draft = Draft("test.evidence", config.system.id, "ci", "github-actions", moment, data)
            if item.get("signed", True):  # by a job of the repository on the commit it names, unless said
                draft = sign(draft, **({"sha": "e" * 40} if item.get("signed") == "other-commit" else {}))
            ledger.append(draft)
        for item in case.get("records", []):
            data = dict(item.get("data", {}))
            if item["kind"] == "deployment.started":
                data.setdefault("environment", "production")
                data.setdefault("change_type", item.get("change_type", "normal"))
            if "closes" in item:
                data.update({"started": extra_ids[item["closes"]], "environment": "production"})
            if "deployment" in item:  # an incident opened for the N-th record (a deployment.started)
                data["deployment_id"] = extra_ids[item["deployment"]]
            if "about" in item:  # a closure record, or production tests, of the N-th record's deployment
                data["deployment"] = extra_ids[item["about"]] if item["about"] is not None else "made-up"
            if item["kind"] == "test.evidence":
                data.setdefault("commit", head)
            when = at - timedelta(hours=float(item.get("hours_ago", 1)))
            draft = Draft(
                item["kind"],
                item.get("system", config.system.id),
                item.get("actor", "ci"),
                item.get("source", "github-actions"),
                when,
                data,
                tuple(item.get("rfcs", [RFC_ID])),
            )
            if draft.actor_source == "github-actions" and item.get("signed", True):
                # by the CI job that wrote it, as every job with an ID token signs (`claims` override its
                # token's: another repository's job, another commit)
                draft = sign(draft, **item.get("claims", {}))
            record = ledger.append(draft)
            extra_ids.append(record.id)
    finally:
        ledger.close()
    if case.get("edit_rfc_after_approval"):
        repo.write(
            f"changes/{RFC_ID}.yml",
            yaml.safe_dump(
                _merge(rfc, {"rollback_plan": RFC["rollback_plan"] + " 추가 점검 포함"}), allow_unicode=True
            ),
        )
    return at, head


def gate(repo: GitRepo, at: datetime, *extra: str) -> tuple[int, dict[str, Any]]:
    result = run_cli(["--format", "json", "gate", "--rfc", RFC_ID, *extra], cwd=repo.path, now=at)
    assert result.code in (0, 1), result.stderr
    return result.code, json.loads(result.stdout)


def check_message(repo: GitRepo, at: datetime, message: str) -> tuple[int, dict[str, Any]]:
    """`check-commits --message-file`, as the commit-msg hook runs it, on `message`."""
    (repo.path / ".git" / "CASE_MSG").write_text(message, encoding="utf-8")
    args = ["--format", "json", "check-commits", "--message-file", ".git/CASE_MSG"]
    result = run_cli(args, cwd=repo.path, now=at)
    assert result.code in (0, 1), result.stderr
    return result.code, json.loads(result.stdout)


def run_case(repo: GitRepo, rule: str, case: dict[str, Any]) -> tuple[int, dict[str, Any]]:
    """Build the case's world and run what judges its rule: check-commits for a commit rule, else the gate."""
    at, _ = build(repo, case)
    if rule.startswith("commit."):
        return check_message(repo, at, case.get("commit", {}).get("message", ""))
    extra = ["--env", str(case["env"])] if "env" in case else []
    for name, content in case.get("artifacts", {}).items():  # the builds deployed, from the workspace
        built = repo.path / "dist" / name
        built.parent.mkdir(parents=True, exist_ok=True)
        built.write_text(content, encoding="utf-8")
        extra += ["--artifact", f"{name}=dist/{name}"]
    return gate(repo, at, *extra)
