"""Which language gatekeeper speaks (issue 18 item 6): `--lang`, then GATEKEEPER_LANG, then `lang:` in
`.gatekeeper.yml`, then the policy pack's `lang` (`kr-ap-sop`: Korean; `minimal`: English), then English —
decided in one place (`gatekeeper.config.language`).

The test harness sets GATEKEEPER_LANG=en; these tests unset it (an empty value is no choice) to see the
defaults."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from gatekeeper.config.language import chosen_language, language
from tests.helpers import BASE_CONFIG, GitRepo, git, run_cli

UNSET = {"GATEKEEPER_LANG": ""}


def _configured(repo: GitRepo, extra: str = "", *, policy: str = "kr-ap-sop") -> None:
    config = BASE_CONFIG.replace("policy: kr-ap-sop", f"policy: {policy}")
    repo.write(".gatekeeper.yml", config + extra)


def test_the_order_of_choice() -> None:
    def pack() -> str:
        return "ko"

    assert language("en", {"GATEKEEPER_LANG": "ko"}, pack) == "en"
    assert language(None, {"GATEKEEPER_LANG": "en"}, pack) == "en"
    assert language(None, {"GATEKEEPER_LANG": ""}, pack) == "ko"
    assert language(None, {"GATEKEEPER_LANG": "fr"}, pack) == "ko"  # not a choice: the next one decides
    assert language(None, {}, lambda: None) == "en"
    assert language(None, {}) == "en"
    assert chosen_language(None, {"GATEKEEPER_LANG": "ko"}) == "ko"
    assert chosen_language(None, {}) is None

    def unread() -> str:
        raise AssertionError("the configuration is not read when the user chose")

    assert language("ko", {}, unread) == "ko"


def test_kr_ap_sop_speaks_korean_without_a_choice(repo: GitRepo) -> None:
    written = run_cli(["rfc", "new", "--title", "민원 신청 화면 개선"], cwd=repo.path, env=UNSET)
    assert written.code == 0, written.stderr
    assert written.stdout == "작성함: changes/RFC-2026-0001.yml\n"
    missing = run_cli(["rfc", "show", "RFC-2026-0009"], cwd=repo.path, env=UNSET)
    assert missing.code == 2
    assert "files 저장소에 변경요청 RFC-2026-0009이(가) 없습니다" in missing.stderr
    assert "no RFC" not in missing.stderr


def test_minimal_speaks_english_without_a_choice(repo: GitRepo) -> None:
    _configured(repo, policy="minimal")
    written = run_cli(["rfc", "new", "--title", "next"], cwd=repo.path, env=UNSET)
    assert written.stdout == "wrote changes/RFC-2026-0001.yml\n"


def test_config_lang_overrides_the_pack(repo: GitRepo) -> None:
    _configured(repo, "lang: en\n")
    written = run_cli(["rfc", "new", "--title", "next"], cwd=repo.path, env=UNSET)
    assert written.stdout == "wrote changes/RFC-2026-0001.yml\n"
    _configured(repo, "lang: ko\n", policy="minimal")
    again = run_cli(["rfc", "new", "--title", "next"], cwd=repo.path, env=UNSET)
    assert again.stdout == "작성함: changes/RFC-2026-0002.yml\n"


def test_the_command_line_and_the_variable_beat_config_lang(repo: GitRepo) -> None:
    _configured(repo, "lang: ko\n")
    option = run_cli(["--lang", "en", "rfc", "new", "--title", "a"], cwd=repo.path, env=UNSET)
    assert option.stdout == "wrote changes/RFC-2026-0001.yml\n"
    variable = run_cli(["rfc", "new", "--title", "b"], cwd=repo.path, env={"GATEKEEPER_LANG": "en"})
    assert variable.stdout == "wrote changes/RFC-2026-0002.yml\n"
    both = run_cli(
        ["--lang", "ko", "rfc", "new", "--title", "c"], cwd=repo.path, env={"GATEKEEPER_LANG": "en"}
    )
    assert both.stdout == "작성함: changes/RFC-2026-0003.yml\n"


def test_json_keeps_its_keys_and_rule_ids_in_either_language(repo: GitRepo) -> None:
    repo.add_rfc("RFC-2026-0001")
    base = repo.commit("RFC-2026-0001 Add the configuration and the RFC file")
    repo.commit("RFC-2026-0001 신청 화면 입력 검증을 강화한다")
    repo.commit("fix typo")
    args = ["--format", "json", "check-commits", "--range", f"{base}..HEAD"]
    korean = run_cli(args, cwd=repo.path, env=UNSET)
    english = run_cli(args, cwd=repo.path)
    assert korean.code == english.code == 1
    ko_body, en_body = json.loads(korean.stdout), json.loads(english.stdout)
    assert set(ko_body) == set(en_body)
    assert [f["rule"] for f in ko_body["findings"]] == [f["rule"] for f in en_body["findings"]]
    assert ko_body["decision"] == en_body["decision"] == "block"
    # The messages inside follow the language, as the text does.
    assert "변경요청ID가 없습니다" in korean.stdout and "변경요청ID가 없습니다" not in english.stdout


def test_an_error_before_the_configuration_follows_the_user_choice_only(tmp_path: Path) -> None:
    folder = tmp_path / "plain"
    folder.mkdir()
    git(folder, "init", "-q", "-b", "main")
    english = run_cli(["gate"], cwd=folder, env=UNSET)
    assert english.code == 2 and "no .gatekeeper.yml found" in english.stderr
    korean = run_cli(["gate"], cwd=folder, env={"GATEKEEPER_LANG": "ko"})
    assert korean.code == 2 and ".gatekeeper.yml" in korean.stderr and "찾을 수 없습니다" in korean.stderr
    usage = run_cli(["--lang", "ko", "gate", "--no-such-option"], cwd=folder, env=UNSET)
    assert usage.code == 2 and "조치:" in usage.stderr


def test_a_configuration_whose_pack_cannot_be_read_speaks_as_chosen(repo: GitRepo) -> None:
    _configured(repo, policy="no-such-pack")
    failed = run_cli(["gate"], cwd=repo.path, env=UNSET)
    assert failed.code == 2 and "unknown policy pack 'no-such-pack'" in failed.stderr
    korean = run_cli(["gate"], cwd=repo.path, env={"GATEKEEPER_LANG": "ko"})
    assert korean.code == 2 and "no-such-pack" in korean.stderr and "정책 팩" in korean.stderr


@pytest.mark.parametrize("value", ["fr", "KO", "1", "[ko]", "''"])
def test_a_bad_lang_is_a_configuration_error(repo: GitRepo, value: str) -> None:
    _configured(repo, f"lang: {value}\n")
    result = run_cli(["gate"], cwd=repo.path, env=UNSET)
    assert result.code == 2, result.stdout + result.stderr
    assert ".gatekeeper.yml:" in result.stderr and "lang" in result.stderr and "'en'" in result.stderr
    assert "Traceback" not in result.stderr


def test_init_in_a_fresh_repository_speaks_as_the_configuration_it_writes(tmp_path: Path) -> None:
    folder = tmp_path / "fresh"
    folder.mkdir()
    git(folder, "init", "-q", "-b", "main")
    done = run_cli(["init", "--ci", "none", "--no-hook"], cwd=folder, env=UNSET)
    assert done.code == 0, done.stderr
    assert "작성함: .gatekeeper.yml" in done.stdout and "wrote " not in done.stdout
    refused = run_cli(["init", "--ci", "none", "--no-hook"], cwd=folder, env=UNSET)
    assert refused.code == 2 and "이미 있는 파일" in refused.stderr
