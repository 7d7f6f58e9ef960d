"""Every way a user-written file can be wrong gives one clear message (file, line, key path, value found,
what is allowed), exit code 2 through the CLI, and never a traceback."""

from __future__ import annotations

import tracemalloc
from pathlib import Path

import pytest

from gatekeeper.config import load_config, load_policy, load_rfc
from gatekeeper.config._yaml import MAX_FILE_BYTES, load_yaml
from gatekeeper.errors import ConfigError
from tests.helpers import VALID_RFC, GitRepo, run_cli

HEAD = "version: 1\nsystem: {id: minwon-portal, name: 민원포털, grade: 1}\n"

# name -> (file text, fragments the message must contain)
BAD_CONFIGS: dict[str, tuple[str, list[str]]] = {
    "syntax error": (HEAD + "rfc: {id_pattern: [\n", [":4:1:", "YAML syntax error"]),
    "syntax error mid-file": (HEAD + "roles:\n  cab: [a\n  tester: [b]\n", [":5:9:", "YAML syntax error"]),
    "unknown top-level key": (
        HEAD + "colour: red\n",
        [":3:", "colour: unknown key", "allowed here: version, system, policy, timezone"],
    ),
    "unknown nested key": (
        HEAD + "rfc:\n  storee: files\n",
        [":4:", "rfc.storee", "allowed here: id_pattern, store"],
    ),
    "grade as a string": (
        'version: 1\nsystem: {id: minwon-portal, name: x, grade: "1"}\n',
        [":2:", "system.grade", "1, 2, 3 or 4", "found '1'"],
    ),
    "grade out of range": (
        "version: 1\nsystem: {id: p, name: x, grade: 5}\n",
        [":2:", "system.grade", "found 5"],
    ),
    "grade as a boolean": (
        "version: 1\nsystem: {id: p, name: x, grade: true}\n",
        ["system.grade", "not true/false", "found True"],
    ),
    "wrong version": ("version: 2\nsystem: {id: p, name: x, grade: 1}\n", [":1:", "version", "found 2"]),
    "missing system": ("version: 1\n", ["system: required key is missing"]),
    "duplicate key": (
        HEAD + "policy: a\npolicy: b\n",
        [":4:", "duplicate key 'policy'", "first given on line 3"],
    ),
    "duplicate nested key": (
        HEAD + "rfc:\n  dir: a\n  dir: b\n",
        [":5:", "duplicate key 'dir'", "first given on line 4"],
    ),
    "bad time zone": (
        HEAD + "timezone: Mars/Olympus\n",
        [":3:", "timezone", "unknown time zone", "Asia/Seoul", "found 'Mars/Olympus'"],
    ),
    "time zone naming a folder of tzdata": (
        HEAD + "timezone: Asia\n",
        [":3:", "timezone", "unknown time zone", "found 'Asia'"],
    ),
    "naive datetime": (
        HEAD + "freeze:\n  - {name: 연말, start: '2026-12-24T00:00:00', end: '2026-12-26T00:00:00+09:00'}\n",
        [":4:", "freeze[0].start", "needs an offset", "found '2026-12-24T00:00:00'"],
    ),
    "invalid regex id_pattern": (
        HEAD + "rfc: {id_pattern: '(['}\n",
        [":3:", "rfc.id_pattern", "not a valid regular expression", "found '(['"],
    ),
    "nested quantifier id_pattern": (
        HEAD + "rfc: {id_pattern: '(a+)+'}\n",
        ["rfc.id_pattern", "backtrack catastrophically", "found '(a+)+'"],
    ),
    "quantified alternation id_pattern": (
        HEAD + "rfc: {id_pattern: '(a|a)*b'}\n",
        ["rfc.id_pattern", "backtrack catastrophically"],
    ),
    "word-space id_pattern": (HEAD + "rfc: {id_pattern: '(\\w+\\s?)*'}\n", ["backtrack catastrophically"]),
    "back-reference id_pattern": (
        HEAD + "rfc: {id_pattern: '(RFC)-\\1'}\n",
        ["back-references are not allowed"],
    ),
    "empty-matching id_pattern": (HEAD + "rfc: {id_pattern: 'x?'}\n", ["matches the empty string"]),
    "overlong id_pattern": (HEAD + "rfc: {id_pattern: '" + "a" * 300 + "'}\n", ["at most 200"]),
    "ledger backend mysql": (
        HEAD + "ledger: {backend: mysql}\n",
        [":3:", "ledger.backend", "'git', 'sqlite', 'postgres'", "found 'mysql'"],
    ),
    "sqlite ledger unknown key": (
        HEAD + "ledger: {backend: sqlite, paht: x.db}\n",
        ["ledger.paht: unknown key", "allowed here: backend, path"],
    ),
    "postgres ledger with inline dsn": (
        HEAD + "ledger: {backend: postgres, dsn: 'postgres://u:p@h/db'}\n",
        ["ledger.dsn: unknown key", "allowed here: backend, dsn_env, schema"],
    ),
    "git ledger by default": (
        HEAD + "ledger: {path: x.db}\n",
        ["ledger.path: unknown key", "allowed here: backend, branch, remote"],
    ),
    "unknown role": (
        HEAD + "roles: {boss: [kim]}\n",
        [":3:", "roles.boss: unknown key", "'agency-manager'", "'cab'", "found 'boss'"],
    ),
    "bad login": (HEAD + "roles: {cab: ['kim; rm -rf']}\n", ["roles.cab[0]", "found 'kim; rm -rf'"]),
    "unknown evidence kind": (
        HEAD + "evidence: [{kind: smoke, paths: [a.xml]}]\n",
        ["evidence[0].kind", "'unit', 'integration', 'performance' or 'acceptance'", "found 'smoke'"],
    ),
    "yes is not a boolean": (
        HEAD + "platform: {github: {comment: yes}}\n",
        ["platform.github.comment", "found 'yes'"],
    ),
    "python tag": (HEAD + "policy: !!python/object/apply:os.system [ls]\n", [":3:", "is not allowed"]),
    "top level list": ("- a\n- b\n", [":1:", "must be a mapping", "found list"]),
    "empty file": ("", ["is empty"]),
    "infinity": (HEAD + "freeze: [{name: x, cron: '0 0 * * *', duration_hours: .inf}]\n", [".inf or .nan"]),
    "recursive merge alias": (HEAD + "a: &a {b: *a}\n", ["alias"]),
    "freeze with both shapes": (
        HEAD + "freeze: [{name: x, cron: '0 0 * * *', start: '2026-01-01T00:00:00Z'}]\n",
        [":3:", "freeze[0]", "either start and end, or cron and duration_hours"],
    ),
}


def _repo(tmp_path: Path, config_text: str) -> GitRepo:
    repo = GitRepo.create(tmp_path / "repo", config=None)
    (repo.path / ".gatekeeper.yml").write_text(config_text, encoding="utf-8")
    return repo


@pytest.mark.parametrize("name", sorted(BAD_CONFIGS))
def test_bad_configuration_is_named_precisely(tmp_path: Path, name: str) -> None:
    text, fragments = BAD_CONFIGS[name]
    path = tmp_path / "gatekeeper.yml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ConfigError) as caught:
        load_config(path)
    message = caught.value.render()
    assert str(path) in message
    for fragment in fragments:
        assert fragment in message, f"{fragment!r} not in:\n{message}"


@pytest.mark.parametrize("name", sorted(BAD_CONFIGS))
def test_bad_configuration_exits_2_without_traceback(tmp_path: Path, name: str) -> None:
    repo = _repo(tmp_path, BAD_CONFIGS[name][0])
    result = run_cli(["rfc", "validate"], cwd=repo.path)
    assert result.code == 2, result.stderr
    assert result.stderr.startswith("gatekeeper: error: ")
    assert ".gatekeeper.yml" in result.stderr
    assert "Traceback" not in result.stderr + result.stdout
    assert result.stdout == ""


@pytest.mark.parametrize(
    ("raw", "fragments"),
    [
        (b"version: 1\n\xff\xfe\n", [":2:", "not valid UTF-8", "0xff"]),
        ("version: 1\nsystem: {name: 민원".encode("euc-kr") + b"}\n", [":2:", "not valid UTF-8"]),
        (b"version: 1\nsystem:\x00\n", [":2:", "NUL byte"]),
    ],
    ids=["latin-bytes", "euc-kr", "nul"],
)
def test_bytes_that_are_not_utf8_text(tmp_path: Path, raw: bytes, fragments: list[str]) -> None:
    repo = _repo(tmp_path, "")
    (repo.path / ".gatekeeper.yml").write_bytes(raw)
    result = run_cli(["rfc", "validate"], cwd=repo.path)
    assert result.code == 2
    for fragment in fragments:
        assert fragment in result.stderr
    assert "Traceback" not in result.stderr


def test_utf8_byte_order_mark_is_accepted(tmp_path: Path) -> None:
    path = tmp_path / "c.yml"
    path.write_bytes(b"\xef\xbb\xbf" + HEAD.encode())
    assert load_config(path).system.name == "민원포털"


def test_oversize_file_is_refused_before_parsing(tmp_path: Path) -> None:
    repo = _repo(tmp_path, "# padding\n" * (MAX_FILE_BYTES // 10 + 10))
    result = run_cli(["rfc", "validate"], cwd=repo.path)
    assert result.code == 2
    assert f"at most {MAX_FILE_BYTES} are read" in result.stderr


BILLION_LAUGHS = "\n".join(
    [
        'a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]',
        *(
            f"{name}: &{name} [{', '.join(['*' + prev] * 9)}]"
            for prev, name in zip("abcdefgh", "bcdefghi", strict=True)
        ),
    ]
)


def test_billion_laughs_is_refused_in_bounded_memory(tmp_path: Path) -> None:
    path = tmp_path / "bomb.yml"
    path.write_text(BILLION_LAUGHS, encoding="utf-8")
    tracemalloc.start()
    try:
        with pytest.raises(ConfigError, match="alias"):
            load_yaml(path)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 20 * 1024 * 1024  # fully expanded it would be ~10^9 strings
    repo = _repo(tmp_path, BILLION_LAUGHS)
    result = run_cli(["rfc", "validate"], cwd=repo.path)
    assert result.code == 2
    assert "alias" in result.stderr


def test_a_few_aliases_still_work(tmp_path: Path) -> None:
    path = tmp_path / "c.yml"
    path.write_text(
        HEAD + "roles:\n  agency-officer: &officers [kim, lee]\n  cab: *officers\n", encoding="utf-8"
    )
    config = load_config(path)
    assert config.roles["cab"] == ("kim", "lee")


def test_yaml_11_words_stay_strings(tmp_path: Path) -> None:
    located = load_yaml(_write(tmp_path, "a: off\nb: 18:00\nc: no\nd: 2026-01-01\ne: 0o17\n"))
    assert located.data == {"a": "off", "b": "18:00", "c": "no", "d": "2026-01-01", "e": "0o17"}


def test_deeply_nested_document_is_an_error_not_a_crash(tmp_path: Path) -> None:
    path = _write(tmp_path, "a: " + "[" * 5000 + "]" * 5000 + "\n")
    with pytest.raises(ConfigError):
        load_yaml(path)


def _write(tmp_path: Path, text: str, name: str = "f.yml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_missing_and_directory_files(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="no such configuration file"):
        load_config(tmp_path / "absent.yml")
    with pytest.raises(ConfigError, match="is a directory"):
        load_config(tmp_path)


def test_missing_configuration_tells_how_to_create_one(tmp_path: Path) -> None:
    repo = GitRepo.create(tmp_path / "repo", config=None)
    result = run_cli(["rfc", "validate"], cwd=repo.path)
    assert result.code == 2
    assert "no .gatekeeper.yml found" in result.stderr
    assert "gatekeeper init" in result.stderr


def test_config_option_and_environment_variable(tmp_path: Path) -> None:
    repo = _repo(tmp_path, "not: valid\n")
    (repo.path / "other.yml").write_text(HEAD + "colour: 1\n", encoding="utf-8")
    by_option = run_cli(["--config", "other.yml", "rfc", "validate"], cwd=repo.path)
    by_env = run_cli(["rfc", "validate"], cwd=repo.path, env={"GATEKEEPER_CONFIG": "other.yml"})
    for result in (by_option, by_env):
        assert result.code == 2
        assert "other.yml:3: colour: unknown key" in result.stderr


def test_valid_configuration_defaults(tmp_path: Path) -> None:
    config = load_config(_write(tmp_path, HEAD + "ledger: {branch: audit/ledger}\n"))
    assert config.policy == "kr-ap-sop"
    assert config.timezone == "Asia/Seoul"
    assert config.ledger.backend == "git"
    assert config.ledger.branch == "audit/ledger"  # type: ignore[union-attr]
    assert config.rfc.id_pattern == r"RFC-\d{4}-\d{4}"


def test_good_id_patterns_are_accepted(tmp_path: Path) -> None:
    for pattern in [r"RFC-\d{4}-\d{4}", r"CHG-[0-9]{6}", r"(?:RFC|CR)-\d+", r"[A-Z]{2,5}-\d{1,6}"]:
        config = load_config(_write(tmp_path, HEAD + f"rfc: {{id_pattern: '{pattern}'}}\n"))
        assert config.rfc.id_pattern == pattern


def test_many_errors_are_listed_together(tmp_path: Path) -> None:
    text = "version: 1\nsystem: {id: p, name: x, grade: 9}\ntimezone: Nowhere/City\ncolour: red\n"
    with pytest.raises(ConfigError) as caught:
        load_config(_write(tmp_path, text))
    message = caught.value.render()
    assert ":2: system.grade" in message
    assert ":3: timezone" in message
    assert ":4: colour: unknown key" in message


# ---------------------------------------------------------------------------------------------- RFC files


def _rfc_text(**changes: str) -> str:
    text = VALID_RFC.format(id="RFC-2026-0001", type="normal", requester="lee", status="active")
    for key, value in changes.items():
        text = "\n".join(
            f"{key}: {value}" if line.startswith(f"{key}:") else line for line in text.splitlines()
        )
    return text + "\n"


@pytest.mark.parametrize(
    ("changes", "fragments"),
    [
        ({"type": "urgent"}, [":3:", "type", "'normal', 'standard' or 'emergency'", "found 'urgent'"]),
        (
            {"status": "approved"},
            [":15:", "status", "'active', 'cancelled', 'closed' or 'draft'", "found 'approved'"],
        ),
        ({"systems": "[]"}, [":6:", "systems", "at least 1"]),
        ({"schedule": "{requested_at: '2026-11-20T10:00:00'}"}, ["schedule.requested_at", "needs an offset"]),
        ({"type": "emergency"}, ["incident"]),
        ({"type": "standard"}, ["standard_template"]),
        ({"title": "''"}, [":2:", "title", "at least 1 character"]),
    ],
)
def test_bad_rfc_files(tmp_path: Path, changes: dict[str, str], fragments: list[str]) -> None:
    path = _write(tmp_path, _rfc_text(**changes), "RFC-2026-0001.yml")
    with pytest.raises(ConfigError) as caught:
        load_rfc(path)
    message = caught.value.render()
    for fragment in fragments:
        assert fragment in message, message
    assert "gatekeeper schema rfc" in message


def test_rfc_with_approval_state_is_refused(tmp_path: Path) -> None:
    path = _write(tmp_path, _rfc_text() + "approved_by: park\n", "RFC-2026-0001.yml")
    with pytest.raises(ConfigError, match=r"approved_by: unknown key; allowed here: id, title, type"):
        load_rfc(path)


# ---------------------------------------------------------------------------------------------- policy packs


def test_policy_pack_by_name_and_by_path(tmp_path: Path) -> None:
    assert load_policy("kr-ap-sop").name == "kr-ap-sop"
    assert load_policy("minimal").name == "minimal"
    shipped = load_policy("kr-ap-sop")
    copy = tmp_path / "policies" / "agency.yaml"
    copy.parent.mkdir()
    copy.write_text(
        Path(__file__)
        .resolve()
        .parents[1]
        .joinpath("policies/kr-ap-sop.yaml")
        .read_text(encoding="utf-8")
        .replace("name: kr-ap-sop", "name: agency"),
        encoding="utf-8",
    )
    adapted = load_policy("policies/agency.yaml", relative_to=tmp_path)
    assert adapted.name == "agency"
    assert adapted.rules == shipped.rules
    assert load_policy(str(copy)).name == "agency"


def test_unknown_pack_name_lists_the_shipped_ones() -> None:
    with pytest.raises(ConfigError) as caught:
        load_policy("kr-ap-sopp")
    assert "unknown policy pack 'kr-ap-sopp'" in caught.value.render()
    assert "kr-ap-sop, minimal" in caught.value.render()


@pytest.mark.parametrize(
    ("text", "fragments"),
    [
        (
            "version: 1\nname: p\nrules:\n  commit.rfc-mising: {default: error}\n",
            ["unknown rule id(s) commit.rfc-mising", "known:"],
        ),
        (
            "version: 1\nname: p\nrules:\n  gate.error: {default: block}\n",
            [":4:", "rules.gate.error.default", "'error', 'warning' or 'off'", "found 'block'"],
        ),
        (
            "version: 1\nname: p\napprovals:\n  required: [{step: cab, severity: error}]\n",
            ["required step cab has no definition"],
        ),
        (
            "version: 1\nname: p\nwindow: {business_start: '9:00'}\n",
            ["window.business_start", "found '9:00'"],
        ),
        ("version: 1\nname: p\ntests: {min_success_rate: 120}\n", ["tests.min_success_rate", "found 120"]),
        ("version: 1\nname: p\nkpis: [{id: x, sop: X, op: '>='}]\n", ["kpis[0]", "both op and value"]),
    ],
)
def test_bad_policy_packs(tmp_path: Path, text: str, fragments: list[str]) -> None:
    path = _write(tmp_path, text, "pack.yaml")
    with pytest.raises(ConfigError) as caught:
        load_policy(str(path))
    message = caught.value.render()
    assert str(path) in message
    for fragment in fragments:
        assert fragment in message, message


def test_bad_policy_pack_through_the_cli(tmp_path: Path) -> None:
    repo = _repo(tmp_path, HEAD.replace("grade: 1}", "grade: 1}\npolicy: ./agency.yaml"))
    repo.write("agency.yaml", "version: 1\nname: agency\nrules:\n  gate.error: {default: blocker}\n")
    repo.add_rfc("RFC-2026-0001")
    result = run_cli(["rfc", "validate"], cwd=repo.path)
    assert result.code == 2
    assert "agency.yaml:4: rules.gate.error.default" in result.stderr
    assert "found 'blocker'" in result.stderr
    assert "Traceback" not in result.stderr
    missing = _repo(tmp_path / "other", HEAD + "policy: nope\n")
    result = run_cli(["rfc", "validate"], cwd=missing.path)
    assert result.code == 2
    assert "unknown policy pack 'nope'" in result.stderr
