"""Property tests over every parser and the gate: a malformed input is an exit-2 message or a finding,
never a traceback, and never turns a blocked deployment into an allowed one."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import yaml
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from gatekeeper.adapters.ci.context import detect_ci
from gatekeeper.adapters.evidence import FORMATS, parse_report
from gatekeeper.commands.check_commits import commit_message
from gatekeeper.config import load_config, load_policy, load_rfc
from gatekeeper.domain.rfc import rfc_digest
from gatekeeper.errors import ExitCode, GatekeeperError
from gatekeeper.ledger import Record, canonical_json, record_hash, verify_chain
from gatekeeper.resources import policies_dir
from tests.acceptance import FULL_CHAIN, RFC_ID, build, junit
from tests.adversarial.actions_runner import Runner
from tests.adversarial.conftest import Recorder
from tests.helpers import BASE_CONFIG, VALID_RFC, GitRepo, run_cli

CORPORA = Path(__file__).resolve().parents[1] / "corpora"
HOSTILE_CHARS = "\x00\x1b\r\n\t\u202e\u2028\ufeff:&<>'\"{}[]*!|%@#-? ,\\"
JUNIT_PASSING = junit(10).encode()
JUNIT_FAILING = junit(10, failed=1).encode()


def _scaled(fraction: int) -> settings:
    """A slower property gets a share of the active profile's examples."""
    return settings(max_examples=max(10, settings.default.max_examples // fraction))


@st.composite
def mutated(draw: st.DrawFn, seed: bytes) -> bytes:
    """`seed` with a few byte-level edits: the inputs a fuzzer finds first."""
    data = bytearray(seed)
    for _ in range(draw(st.integers(1, 6))):
        if not data:
            break
        at = draw(st.integers(0, len(data) - 1))
        action = draw(st.sampled_from(["flip", "insert", "delete", "duplicate", "truncate"]))
        if action == "flip":
            data[at] = draw(st.integers(0, 255))
        elif action == "insert":
            data[at:at] = draw(st.sampled_from(HOSTILE_CHARS).map(lambda c: c.encode("utf-8")))
        elif action == "delete":
            del data[at : at + draw(st.integers(1, 16))]
        elif action == "duplicate":
            data[at:at] = data[at : at + draw(st.integers(1, 40))]
        else:
            del data[at:]
    return bytes(data)


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
    max_leaves=20,
)


def expect_clean(action: Callable[[], object]) -> str:
    """Run a parser: a value, or an expected error with a message and exit code 2. Never anything else."""
    try:
        action()
    except GatekeeperError as exc:
        assert exc.exit_code == ExitCode.INPUT, exc
        assert exc.message.strip()
        return "refused"
    return "accepted"


# ------------------------------------------------------------------------------------------ files


@given(data=mutated(BASE_CONFIG.encode()))
def test_config_files(tmp_path: Path, data: bytes) -> None:
    target = tmp_path / ".gatekeeper.yml"
    target.write_bytes(data)
    expect_clean(lambda: load_config(target))


@given(value=json_values)
def test_config_documents_of_any_shape(tmp_path: Path, value: Any) -> None:
    target = tmp_path / ".gatekeeper.yml"
    target.write_text(yaml.safe_dump({"version": 1, "system": value, "rfc": value}), encoding="utf-8")
    expect_clean(lambda: load_config(target))


POLICY_SEEDS = sorted(policies_dir().glob("*.yaml"))


@given(seed=st.sampled_from(POLICY_SEEDS), data=st.data())
def test_policy_packs(tmp_path: Path, seed: Path, data: st.DataObject) -> None:
    target = tmp_path / "pack.yaml"
    target.write_bytes(data.draw(mutated(seed.read_bytes())))
    expect_clean(lambda: load_policy(str(target)))


RFC_TEXT = VALID_RFC.format(id=RFC_ID, type="normal", requester="lee", status="active").encode()


@given(data=mutated(RFC_TEXT))
def test_rfc_files(tmp_path: Path, data: bytes) -> None:
    target = tmp_path / f"{RFC_ID}.yml"
    target.write_bytes(data)
    expect_clean(lambda: load_rfc(target))


REPORT_SEEDS = (
    sorted((CORPORA / "test-results").rglob("*.xml"))[:40]
    + sorted((CORPORA / "test-results").rglob("*.trx"))[:10]
)


@given(seed=st.sampled_from(REPORT_SEEDS), fmt=st.sampled_from(["auto", *FORMATS]), data=st.data())
def test_test_result_files(tmp_path: Path, seed: Path, fmt: str, data: st.DataObject) -> None:
    raw = seed.read_bytes()
    assume(len(raw) < 200_000)
    target = tmp_path / "report.xml"
    target.write_bytes(data.draw(mutated(raw)))
    try:
        summary = parse_report(target, fmt)
    except GatekeeperError as exc:
        assert exc.exit_code == ExitCode.INPUT and str(target) in exc.message
        return
    counts = (summary.passed, summary.failed, summary.errors, summary.skipped)
    assert all(c >= 0 for c in counts) and summary.tests == sum(counts)


@given(message=st.text(alphabet=st.characters(codec="utf-8") | st.sampled_from(HOSTILE_CHARS), max_size=300))
def test_commit_messages(repo: GitRepo, message: str) -> None:
    repo.add_rfc("RFC-2026-0001")
    (repo.path / "MSG").write_text(message, encoding="utf-8", newline="")
    result = run_cli(["check-commits", "--message-file", "MSG"], cwd=repo.path)
    assert result.code in (0, 1, 2), result.stderr
    if result.code == 0:  # git itself aborts a commit whose message is empty once comments are dropped
        assert "RFC-2026-0001" in message or not commit_message(message.replace("\r", ""))
    for stream in (result.stdout, result.stderr):
        assert "\x1b" not in stream and "\r" not in stream and "\u202e" not in stream
        assert Runner().feed(stream) == []  # even outside CI, the reporters' text acts as no command


@given(body=json_values)
def test_ledger_records_of_any_shape(body: Any) -> None:
    try:
        record = Record.from_dict(body)
    except ValueError as exc:
        assert str(exc)
        return
    verify_chain([record])  # reports, never raises


@given(field=st.sampled_from(["seq", "rfcs", "data", "at", "actor", "prev", "hash"]), value=json_values)
def test_ledger_records_with_one_field_replaced(field: str, value: Any) -> None:
    body = {
        "seq": 1,
        "id": "x",
        "kind": "approval",
        "system": "s",
        "rfcs": [],
        "actor": "kim",
        "actor_source": "github-actions",
        "at": "2026-11-24T11:00:00+00:00",
        "data": {},
        "prev": "0" * 64,
    }
    body[field] = value
    try:
        body["hash"] = record_hash(body) if field != "hash" else value
        record = Record.from_dict(json.loads(canonical_json(body)))
    except ValueError:
        return
    # Alone in a chain, a record must be seq 1 after the genesis hash, with its own hash right.
    expected = {"hash": value == record_hash(record.as_dict()), "seq": value == 1, "prev": value == "0" * 64}
    assert verify_chain([record]).ok == expected.get(field, True)


EVENT_SEEDS = sorted((CORPORA / "ci-events").rglob("*.json"))


EVENT_NAMES = ["push", "pull_request", "workflow_dispatch"]


@given(seed=st.sampled_from(EVENT_SEEDS), event=st.sampled_from(EVENT_NAMES))
def test_ci_event_payloads(tmp_path: Path, seed: Path, event: str) -> None:
    target = tmp_path / "event.json"
    target.write_bytes(seed.read_bytes())
    env = {"GITHUB_ACTIONS": "true", "GITHUB_EVENT_PATH": str(target), "GITHUB_EVENT_NAME": event}
    expect_clean(lambda: detect_ci(env, tmp_path))


@given(seed=st.sampled_from(EVENT_SEEDS), data=st.data(), sha=st.text(max_size=45))
def test_mutated_ci_event_payloads(tmp_path: Path, seed: Path, data: st.DataObject, sha: str) -> None:
    raw = seed.read_bytes()
    target = tmp_path / "event.json"
    target.write_bytes(data.draw(mutated(raw[:20_000] if len(raw) > 20_000 else raw)))
    env = {
        "GITHUB_ACTIONS": "true",
        "GITHUB_EVENT_PATH": str(target),
        "GITHUB_EVENT_NAME": data.draw(st.sampled_from(["push", "pull_request", "merge_group", ""])),
        "GITHUB_SHA": sha.replace("\x00", ""),
    }
    expect_clean(lambda: detect_ci(env, tmp_path))


# ------------------------------------------------------------------------- the gate never flips


@given(data=st.data())
@_scaled(3)
def test_a_malformed_rfc_never_lets_the_gate_allow(tmp_path_factory: Any, data: st.DataObject) -> None:
    repo = GitRepo.create(tmp_path_factory.mktemp("gate") / "repo")
    at, _ = build(repo, {})
    target = repo.path / "changes" / f"{RFC_ID}.yml"
    original = target.read_bytes()
    before = rfc_digest(load_rfc(target))
    for _ in range(3):
        target.write_bytes(data.draw(mutated(original)))
        result = run_cli(["--format", "json", "gate", "--rfc", RFC_ID], cwd=repo.path, now=at)
        assert result.code in (0, 1, 2), result.stderr
        if result.code == 0:
            # Allowed only when the edit left the RFC valid and its content (what was approved) unchanged.
            assert rfc_digest(load_rfc(target)) == before


@given(data=st.data(), failing=st.booleans())
@_scaled(3)
def test_a_malformed_test_report_never_lets_the_gate_allow(
    tmp_path_factory: Any, data: st.DataObject, failing: bool
) -> None:
    repo = GitRepo.create(tmp_path_factory.mktemp("gate") / "repo")
    at, _ = build(repo, {})
    report = repo.path / "reports" / "unit" / "result.xml"
    report.write_bytes(data.draw(mutated(JUNIT_FAILING if failing else JUNIT_PASSING)))
    result = run_cli(["--format", "json", "gate", "--rfc", RFC_ID], cwd=repo.path, now=at)
    assert result.code in (0, 1), result.stderr
    if result.code == 0:
        summary = parse_report(report)  # allowed: the report must parse, and show nothing failing
        assert summary.failed == summary.errors == 0 and summary.passed > 0


@given(data=st.data())
@_scaled(3)
def test_a_malformed_config_never_lets_the_gate_allow(tmp_path_factory: Any, data: st.DataObject) -> None:
    repo = GitRepo.create(tmp_path_factory.mktemp("gate") / "repo")
    at, _ = build(repo, {})
    target = repo.path / ".gatekeeper.yml"
    original = target.read_bytes()
    target.write_bytes(data.draw(mutated(original)))
    result = run_cli(["--format", "json", "gate", "--rfc", RFC_ID], cwd=repo.path, now=at)
    assert result.code in (0, 1, 2), result.stderr
    if result.code == 0:
        load_config(target)  # allowed only with a configuration that is valid as written


STEPS = [s["step"] for s in FULL_CHAIN]
PEOPLE = ["kim", "park", "choi", "han", "lee", "dev", "mallory"]
ROLE_OF = {"change-review": {"kim", "lee"}, "change-approval": {"park"}, "cab": {"kim", "park", "choi"}}
ROLE_OF |= {"release-first": {"han"}, "release-second": {"kim", "lee"}}
approvals = st.lists(
    st.fixed_dictionaries(
        {
            "step": st.sampled_from(STEPS),
            "actor": st.sampled_from(PEOPLE),
            "decision": st.sampled_from(["approve", "approve", "reject"]),
            "source": st.sampled_from(["github-actions", "github-actions", "local"]),
        }
    ),
    min_size=3,
    max_size=7,
)


@given(chain=approvals)
@_scaled(3)
def test_forged_approval_sequences_never_allow(tmp_path_factory: Any, chain: list[Any]) -> None:
    repo = GitRepo.create(tmp_path_factory.mktemp("gate") / "repo")
    at, _ = build(repo, {"approvals": chain})
    result = run_cli(["--format", "json", "gate", "--rfc", RFC_ID], cwd=repo.path, now=at)
    assert result.code in (0, 1), result.stderr
    if result.code == 0:
        latest = {a["step"]: a for a in chain}
        assert set(latest) == set(STEPS), "allowed with a step missing"
        assert all(a["decision"] == "approve" for a in latest.values()), "allowed with a rejection"
        approvers = [a["actor"] for a in latest.values()]
        assert len(set(approvers)) == len(approvers), "allowed with one person giving two steps"
        assert all(a["actor"] in ROLE_OF[a["step"]] for a in latest.values()), "allowed outside the role"
        assert all(a["source"] != "local" for a in latest.values()), "allowed with a local approval (grade 1)"


def test_the_property_suite_is_recorded(reliability: Recorder) -> None:
    for what in [
        "configuration files (byte mutations, documents of any shape)",
        "policy packs (mutations of the shipped packs)",
        "RFC files (byte mutations)",
        "JUnit/xUnit/NUnit/TRX reports (mutations of the corpus, every format)",
        "commit messages (any Unicode, control characters, workflow commands)",
        "ledger records (any JSON; one field replaced)",
        "CI event payloads (corpus, mutations, bad SHAs)",
    ]:
        reliability.row(what, "hypothesis generated input", "a value or exit 2 with a message; no traceback")
    for what in ["RFC file", "test report", "configuration", "approval sequence"]:
        reliability.row(
            f"gate with a mutated {what}", "hypothesis generated input", "never allow unless it is valid"
        )
