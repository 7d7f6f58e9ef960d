"""Hostile inputs, one test each: what an attacker (or an accident) puts in files, messages and paths."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from tests.acceptance import RFC_ID, build, junit
from tests.adversarial.actions_runner import Runner
from tests.adversarial.conftest import Recorder
from tests.helpers import BASE_CONFIG, GitRepo, run_cli

AT = ["--at", "2026-11-24T20:00:00+09:00"]


def _window(repo: GitRepo) -> tuple[int, str]:
    result = run_cli(["window", *AT], cwd=repo.path)
    return result.code, result.stderr


def _rchar() -> int:
    """Bytes this process has read so far (Linux), to prove a file was refused without being read."""
    for line in Path("/proc/self/io").read_text().splitlines():
        if line.startswith("rchar:"):
            return int(line.split()[1])
    raise AssertionError("no rchar in /proc/self/io")


# ------------------------------------------------------------------------------------------ YAML


@pytest.mark.parametrize(
    ("name", "text", "expected"),
    [
        (
            "alias bomb",
            'a: &a ["x","x","x","x","x","x","x","x","x"]\n'
            + "".join(
                f"{chr(98 + i)}: &{chr(98 + i)} [*{chr(97 + i)}" + f",*{chr(97 + i)}" * 8 + "]\n"
                for i in range(8)
            ),
            "alias",
        ),
        ("recursive alias", "a: &a [*a]\n", "alias"),
        ("duplicate key", "version: 1\nversion: 1\n", "duplicate key 'version'"),
        ("python tag", "version: !!python/object/apply:os.system ['id']\n", "tag"),
        ("deep nesting", "a: " + "[" * 5000 + "]" * 5000 + "\n", "deeply"),
    ],
)
def test_hostile_yaml_in_the_configuration(
    repo: GitRepo, reliability: Recorder, name: str, text: str, expected: str
) -> None:
    repo.write(".gatekeeper.yml", text)
    code, err = _window(repo)
    assert code == 2, err
    assert ".gatekeeper.yml" in err and expected in err
    assert "internal error" not in err
    reliability.row(f"configuration: {name}", "hostile YAML", "exit 2 naming the file and the problem")


@pytest.mark.parametrize(
    ("name", "data", "expected"),
    [
        ("NUL byte", b"version: 1\x00\n", "NUL"),
        ("Latin-1 bytes", "system: {name: caf\xe9}\n".encode("latin-1"), "UTF-8"),
        ("control character", b"version: 1\n\x01system: x\n", "control character"),
        ("oversized (2 MiB)", b"# " + b"x" * (2 * 1024 * 1024) + b"\n", "bytes"),
    ],
)
def test_hostile_bytes_in_yaml_files(
    repo: GitRepo, reliability: Recorder, name: str, data: bytes, expected: str
) -> None:
    (repo.path / ".gatekeeper.yml").write_bytes(data)
    code, err = _window(repo)
    assert code == 2 and expected in err, err
    repo.write(".gatekeeper.yml", BASE_CONFIG)
    (repo.path / "changes").mkdir()
    (repo.path / "changes" / "RFC-2026-0001.yml").write_bytes(data)
    result = run_cli(["rfc", "validate"], cwd=repo.path)
    assert result.code in (1, 2), result.stderr
    assert "internal error" not in result.stderr
    assert expected in result.stdout + result.stderr
    reliability.row(f"configuration and RFC file: {name}", "hostile bytes", "exit 2 / rfc.invalid naming it")


def test_hostile_bytes_in_a_commit_message_file(repo: GitRepo, reliability: Recorder) -> None:
    for data, expected in [(b"RFC-2026-0001 x\x00y", "NUL"), (b"RFC-2026-0001 caf\xe9", "UTF-8")]:
        (repo.path / "MSG").write_bytes(data)
        result = run_cli(["check-commits", "--message-file", "MSG"], cwd=repo.path)
        assert result.code == 2 and expected in result.stderr
    (repo.path / "MSG").write_bytes(b"RFC-2026-0001 " + b"x" * (2 * 1024 * 1024))
    assert run_cli(["check-commits", "--message-file", "MSG"], cwd=repo.path).code == 2
    reliability.row("commit message file: NUL, Latin-1, 2 MiB", "hostile bytes", "exit 2 with the reason")


# ------------------------------------------------------------------------- look-alikes and bidi


@pytest.mark.parametrize(
    "spelling",
    [
        "RFC-2026-0001".replace("C", "С"),
        "ＲＦＣ-2026-0001",
        "RFC‐2026‐0001",
        "\u202eRFC-2026-0001",
        "RFC-2026-0001\u202e",
    ],
    ids=["cyrillic", "fullwidth", "unicode-hyphen", "rlo-before", "rlo-after"],
)
def test_look_alike_and_bidi_rfc_ids_are_not_counted(
    repo: GitRepo, reliability: Recorder, spelling: str
) -> None:
    repo.add_rfc("RFC-2026-0001")
    (repo.path / "MSG").write_text(f"{spelling} 신청 화면 입력 검증을 강화한다", encoding="utf-8")
    result = run_cli(["--format", "json", "check-commits", "--message-file", "MSG"], cwd=repo.path)
    body = json.loads(result.stdout)
    if spelling.isascii() or spelling.strip("\u202e") == "RFC-2026-0001":
        # A bidi control beside an ASCII ID: the ID itself is intact, and what is shown is escaped.
        assert "\u202e" not in result.stdout
    else:
        assert result.code == 1 and "commit.rfc-missing" in {f["rule"] for f in body["findings"]}
    reliability.row(
        f"RFC ID spelled {spelling.encode('unicode_escape').decode()}",
        "look-alike / bidi",
        "not counted as the ID (or counted with the control escaped)",
    )


# (Upper case is not here: GitHub and GitLab logins are case-insensitive, so `KIM` is kim.)
@pytest.mark.parametrize("login", ["kіm", "\u202emik", "kim\u200b"], ids=["cyrillic-i", "rlo", "zwsp"])
def test_look_alike_logins_hold_no_role(tmp_path: Path, reliability: Recorder, login: str) -> None:
    repo = GitRepo.create(tmp_path / "repo")
    chain = [
        {"step": "change-review", "actor": login},
        {"step": "change-approval", "actor": "park"},
        {"step": "cab", "actor": "choi"},
        {"step": "release-first", "actor": "han"},
        {"step": "release-second", "actor": "lee"},
    ]
    at, _ = build(repo, {"approvals": chain})
    result = run_cli(["--format", "json", "gate", "--rfc", RFC_ID], cwd=repo.path, now=at)
    body = json.loads(result.stdout)
    assert result.code == 1 and body["decision"] == "block"
    assert "approval.unauthorized" in {f["rule"] for f in body["findings"]}
    text = run_cli(["gate", "--rfc", RFC_ID], cwd=repo.path, now=at)  # JSON carries data; text is read
    assert text.code == 1 and "\u202e" not in text.stdout and "\u200b" not in text.stdout
    reliability.row(
        f"approval by login {login.encode('unicode_escape').decode()}",
        "look-alike of kim",
        "approval.unauthorized, block",
    )


# ---------------------------------------------------------------------------------- log injection

INJECTED = "::error title=owned::pwned\r\x1b[2K\x1b[32mall checks passed\x1b[0m"


def test_log_injection_through_commit_messages(repo: GitRepo, reliability: Recorder, tmp_path: Path) -> None:
    base = repo.commit("RFC-2026-0001 초기 커밋으로 저장소를 준비한다")
    repo.commit(f"{INJECTED}\n\n::set-output name=decision::allow\n::add-mask::x\n%0A::warning::y")
    repo.commit("## [x](javascript:alert(1)) <img src=x onerror=alert(1)> @security-team")
    summary, output = tmp_path / "summary.md", tmp_path / "output"
    env = {
        "GITHUB_ACTIONS": "true",
        "GITHUB_STEP_SUMMARY": str(summary),
        "GITHUB_OUTPUT": str(output),
        "GITHUB_EVENT_NAME": "workflow_dispatch",
        "GITHUB_SHA": repo.head(),
        "GITHUB_REF": "refs/heads/main",
        "GITHUB_EVENT_PATH": str(tmp_path / "event.json"),
    }
    (tmp_path / "event.json").write_text("{}", encoding="utf-8")
    result = run_cli(["check-commits", "--range", f"{base}..HEAD"], cwd=repo.path, env=env)
    assert result.code == 1, result.stderr
    for stream in (result.stdout, result.stderr):
        assert "\x1b" not in stream and "\r" not in stream
    runner = Runner()  # the GitHub runner's own parser, ported: it trims white space and finds `##[` anywhere
    acted = runner.feed(result.stderr) + runner.feed(result.stdout)
    assert acted and all(c.command == "error" and c.properties["title"] != "owned" for c in acted), acted
    assert "pwned" in result.stdout  # shown, disarmed — not dropped
    if output.exists():
        assert "decision=allow" not in output.read_text(encoding="utf-8")
    if summary.exists():
        text = summary.read_text(encoding="utf-8")
        assert "<img" not in text and "](javascript:" not in text and "@security-team" not in text
    reliability.row(
        "commit messages with ::commands, ANSI, \\r, HTML, Markdown links, @mentions",
        "log and Markdown injection",
        "escaped in the log, annotations and job summary",
    )


def test_markdown_output_escapes_untrusted_text(repo: GitRepo, reliability: Recorder) -> None:
    base = repo.commit("RFC-2026-0001 초기 커밋으로 저장소를 준비한다")
    repo.commit("| cell | <script>alert(1)</script> [click](http://evil) @everyone")
    result = run_cli(["--format", "markdown", "check-commits", "--range", f"{base}..HEAD"], cwd=repo.path)
    assert result.code == 1
    assert "<script>" not in result.stdout and "](http://evil)" not in result.stdout
    assert "@everyone" not in result.stdout
    reliability.row(
        "commit message with a table pipe, <script>, a link, @everyone",
        "Markdown/HTML injection",
        "escaped in --format markdown",
    )


# ------------------------------------------------------------------------------------ test results

XML_ATTACKS = {
    "xxe": '<?xml version="1.0"?><!DOCTYPE t [<!ENTITY x SYSTEM "file:///etc/passwd">]>'
    '<testsuite tests="1"><testcase name="&x;"/></testsuite>',
    "external-dtd": '<?xml version="1.0"?><!DOCTYPE testsuite SYSTEM "http://127.0.0.1:9/x.dtd">'
    '<testsuite tests="1"><testcase name="a"/></testsuite>',
    "billion-laughs": '<?xml version="1.0"?><!DOCTYPE l [<!ENTITY a "aaaaaaaaaa">'
    + "".join(f'<!ENTITY {chr(98 + i)} "' + f"&{chr(97 + i)};" * 10 + '">' for i in range(8))
    + ']><testsuite tests="1"><testcase name="&i;"/></testsuite>',
    "unknown-encoding": '<?xml version="1.0" encoding="utf-9"?>'
    '<testsuite tests="1"><testcase name="a"/></testsuite>',
    "multi-byte-encoding": '<?xml version="1.0" encoding="euc-kr"?><testsuite tests="1"/>',
    "parameter-entity": '<?xml version="1.0"?><!DOCTYPE t [<!ENTITY % p SYSTEM "file:///etc/passwd"> %p;]>'
    "<testsuite/>",
}


@pytest.mark.parametrize("attack", sorted(XML_ATTACKS))
def test_xml_attacks_in_test_results(repo: GitRepo, reliability: Recorder, attack: str) -> None:
    report = repo.write("reports/unit/evil.xml", XML_ATTACKS[attack])
    result = run_cli(["evidence", "add", "--kind", "unit", str(report.relative_to(repo.path))], cwd=repo.path)
    assert result.code == 2 and "evil.xml" in result.stderr, result.stderr
    assert "root:" not in result.stdout + result.stderr
    log = run_cli(["--format", "json", "ledger", "log"], cwd=repo.path)
    assert "test.evidence" not in log.stdout
    reliability.row(
        f"test report: {attack}", "hostile XML", "exit 2, nothing fetched or expanded, nothing recorded"
    )


def test_a_one_gigabyte_report_is_refused_without_being_read(repo: GitRepo, reliability: Recorder) -> None:
    huge = repo.path / "reports" / "unit" / "huge.xml"
    huge.parent.mkdir(parents=True)
    with huge.open("wb") as handle:
        handle.truncate((1 << 30) + 1)  # sparse: costs no disk
    before = _rchar()
    result = run_cli(["evidence", "add", "--kind", "unit", "reports/unit/huge.xml"], cwd=repo.path)
    assert result.code == 2 and "over the limit" in result.stderr, result.stderr
    assert _rchar() - before < 16 * 1024 * 1024
    reliability.row("a 1 GiB (sparse) test report", "oversized evidence", "refused by the size cap, not read")


def test_a_one_gigabyte_report_in_the_workspace_blocks_the_gate(
    tmp_path: Path, reliability: Recorder
) -> None:
    repo = GitRepo.create(tmp_path / "repo")
    at, _ = build(repo, {})
    with (repo.path / "reports" / "unit" / "huge.xml").open("wb") as handle:
        handle.truncate((1 << 30) + 1)
    before = _rchar()
    result = run_cli(["--format", "json", "gate", "--rfc", RFC_ID], cwd=repo.path, now=at)
    assert result.code == 1
    assert _rchar() - before < 64 * 1024 * 1024
    errors = [f for f in json.loads(result.stdout)["findings"] if f["rule"] == "gate.error"]
    assert errors and "huge.xml" in errors[0]["subject"]
    reliability.row("gate with a 1 GiB report in the workspace", "oversized evidence", "gate.error naming it")


def _outside_report(tmp_path: Path) -> Path:
    outside = tmp_path / "outside"
    outside.mkdir()
    target = outside / "passing.xml"
    target.write_text(junit(50), encoding="utf-8")
    return target


def test_a_symlinked_report_outside_the_workspace_is_not_evidence_for_the_gate(
    tmp_path: Path, reliability: Recorder
) -> None:
    repo = GitRepo.create(tmp_path / "repo")
    at, _ = build(repo, {"evidence": {"unit": None, "integration": {}}})
    target = _outside_report(tmp_path)
    (repo.path / "reports" / "unit").mkdir(parents=True, exist_ok=True)
    os.symlink(target, repo.path / "reports" / "unit" / "result.xml")
    result = run_cli(["--format", "json", "gate", "--rfc", RFC_ID], cwd=repo.path, now=at)
    assert result.code == 1
    assert "tests.missing" in {f["rule"] for f in json.loads(result.stdout)["findings"]}
    reliability.row(
        "gate: unit report symlinked to a file outside the workspace",
        "symlink escape",
        "not read; tests.missing blocks",
    )


def test_a_symlinked_report_outside_the_workspace_is_refused_by_evidence_add(
    repo: GitRepo, tmp_path: Path, reliability: Recorder
) -> None:
    repo.commit("RFC-2026-0001 초기 커밋으로 저장소를 준비한다")
    target = _outside_report(tmp_path)
    (repo.path / "reports").mkdir()
    os.symlink(target, repo.path / "reports" / "unit.xml")
    reliability.row(
        "evidence add: report symlinked outside the workspace", "symlink escape", "exit 2, not read"
    )
    result = run_cli(["evidence", "add", "--kind", "unit", "reports/unit.xml"], cwd=repo.path)
    assert result.code == 2 and "outside" in result.stderr, result.stderr


# ------------------------------------------------------------------------------- paths and patterns


@pytest.mark.parametrize(
    "rfc_id", ["../../../etc/passwd", "RFC-2026-0001/../../x", "/etc/passwd", "..", "RFC-2026-0001\x00"]
)
def test_path_traversal_through_rfc_ids(repo: GitRepo, reliability: Recorder, rfc_id: str) -> None:
    repo.add_rfc("RFC-2026-0001")
    for args in (
        ["rfc", "show", rfc_id],
        ["gate", "--rfc", rfc_id],
        ["approve", rfc_id, "--step", "cab", "--decision", "approve"],
    ):
        result = run_cli(args, cwd=repo.path)
        assert result.code in (1, 2), (args, result.stderr)
        assert "root:x:0" not in result.stdout + result.stderr
        assert "internal error" not in result.stderr
    reliability.row(
        f"RFC ID {rfc_id!r} in rfc show, gate and approve",
        "path traversal",
        "refused: not an RFC ID; nothing outside changes/ read",
    )


def test_path_traversal_with_a_permissive_id_pattern(repo: GitRepo, reliability: Recorder) -> None:
    config = (repo.path / ".gatekeeper.yml").read_text(encoding="utf-8")
    repo.write(".gatekeeper.yml", config.replace("'RFC-\\d{4}-\\d{4}'", "'[A-Za-z0-9./-]{2,40}'"))
    for rfc_id in ("../../etc/passwd", "../.gatekeeper", "..."):
        result = run_cli(["rfc", "show", rfc_id], cwd=repo.path)
        assert result.code == 2, result.stdout
        assert "internal error" not in result.stderr
    reliability.row(
        "RFC IDs with '..' and '/' under an id_pattern that allows them",
        "path traversal",
        "exit 2: would point outside changes/",
    )


@pytest.mark.parametrize("pattern", [r"(RFC-\d+)+$", r"(a|a)*b", r"(\d*)*", r"(x+x+)+y", r"(.*a){12}"])
def test_catastrophic_backtracking_id_patterns_are_refused(
    repo: GitRepo, reliability: Recorder, pattern: str
) -> None:
    config = (repo.path / ".gatekeeper.yml").read_text(encoding="utf-8")
    repo.write(
        ".gatekeeper.yml", config.replace("'RFC-\\d{4}-\\d{4}'", "'" + pattern.replace("'", "''") + "'")
    )
    (repo.path / "MSG").write_text("RFC-" + "1" * 5000 + "!" + "a" * 40, encoding="utf-8")
    result = run_cli(["check-commits", "--message-file", "MSG"], cwd=repo.path)
    assert result.code == 2 and "id_pattern" in result.stderr, result.stderr
    reliability.row(f"id_pattern {pattern}", "catastrophic backtracking", "refused as a configuration error")


def test_hostile_rfc_text_in_an_hwpx_form_stays_text(repo: GitRepo, reliability: Recorder) -> None:
    """`report form ... --hwpx`: XML metacharacters, control, bidi and zero-width characters and a very long
    title in an RFC end up as visible text in a document python-hwpx still validates."""
    import yaml

    from tests.audit.test_hwpx import read_hwpx

    hostile = '</hp:t><hp:p>&amp; "x" <![CDATA[y]]> \x01\x1b[31m \u202eevil\u202c \u200bzw \ufeff'
    rfc = repo.add_rfc(RFC_ID)
    data = yaml.safe_load(rfc.read_text(encoding="utf-8"))
    data.update(
        title=f"{hostile} {'가' * 300}"[:300],  # the longest title an RFC may have
        requester_org=hostile,
        description=f"{hostile} {'나' * 20_000}",
        rollback_plan=f"{hostile}\n둘째 줄",
    )
    rfc.write_text(yaml.safe_dump(data, allow_unicode=False), encoding="utf-8")
    repo.commit(f"{RFC_ID} hostile RFC")
    result = run_cli(["report", "form", "change-request", RFC_ID, "--hwpx", "-o", "rfc.hwpx"], cwd=repo.path)
    assert result.code == 0, result.stdout + result.stderr
    doc = read_hwpx(repo.path / "rfc.hwpx")  # opens and validates
    fields = doc.fields()
    shown = '</hp:t><hp:p>&amp; "x" <![CDATA[y]]> \\u0001\\e[31m \\u202eevil\\u202c \\u200bzw \\ufeff'
    assert fields["Requester's organisation"] == shown
    assert fields["Rollback plan"] == f"{shown}\n둘째 줄"
    assert fields["Title"].startswith(shown) and fields["Title"].endswith("가")
    assert fields["Content"].startswith(shown) and fields["Content"].endswith("나" * 100)  # kept whole
    assert not any(c in doc.xml for c in "\x01\x1b\u202e\u200b\ufeff")
    assert "<hp:p>&amp;" not in doc.xml and "&lt;/hp:t&gt;&lt;hp:p&gt;&amp;amp;" in doc.xml
    reliability.row(
        "RFC title, organisation and plans with </hp:t> markup, &, CDATA, control, bidi and zero-width "
        "characters, a 300-character title and a 20,000-character description, rendered as HWPX",
        "XML injection",
        "shown as text (controls as visible escapes), the document still validates",
    )
