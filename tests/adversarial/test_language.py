"""The language is a choice of words, never of outcome: `--lang`, GATEKEEPER_LANG and `lang:` in
`.gatekeeper.yml` (which a developer with write access can edit) change no exit code, no decision and no
rule id; a value other than en/ko in the file is exit 2 naming the key, never a silent fallback."""

from __future__ import annotations

import json

import pytest

from tests.adversarial.conftest import Recorder
from tests.helpers import BASE_CONFIG, GitRepo, run_cli

# (how the language is chosen: extra config text, command-line prefix, environment)
CHOICES = [
    ("", [], {"GATEKEEPER_LANG": ""}),  # the pack's default: Korean
    ("lang: en\n", [], {"GATEKEEPER_LANG": ""}),
    ("lang: ko\n", ["--lang", "en"], {}),
    ("lang: en\n", [], {"GATEKEEPER_LANG": "ko"}),
    ("", ["--lang", "ko"], {}),
]


def _outcomes(repo: GitRepo, args: list[str]) -> set[tuple[int, str, bool, tuple[str, ...]]]:
    seen = set()
    for extra, prefix, env in CHOICES:
        repo.write(".gatekeeper.yml", BASE_CONFIG + extra)
        result = run_cli([*prefix, "--format", "json", *args], cwd=repo.path, env=env)
        body = json.loads(result.stdout)
        rules = tuple(sorted(f["rule"] for f in body.get("findings", [])))
        seen.add((result.code, str(body.get("decision")), bool(body.get("ok")), rules))
    return seen


def test_the_language_never_changes_a_decision(repo: GitRepo, reliability: Recorder) -> None:
    repo.add_rfc("RFC-2026-0001")
    base = repo.commit("RFC-2026-0001 Add the configuration and the RFC file")
    repo.commit("RFC-2026-0001 신청 화면 입력 검증을 강화한다")
    allowed = _outcomes(repo, ["check-commits", "--range", f"{base}..HEAD"])
    assert len(allowed) == 1 and next(iter(allowed))[0] == 0, allowed
    repo.commit("fix typo")
    blocked = _outcomes(repo, ["check-commits", "--range", f"{base}..HEAD"])
    assert len(blocked) == 1 and next(iter(blocked))[0] == 1, blocked
    for at, code in (("2026-11-24T19:30:00+09:00", 0), ("2026-11-24T11:00:00+09:00", 1)):
        window = _outcomes(repo, ["window", "--at", at])
        assert len(window) == 1 and next(iter(window))[0] == code, window
    reliability.row(
        "check-commits (allowed, blocked) and window (inside, outside) under --lang, GATEKEEPER_LANG, "
        "`lang:` and the pack default, each way round",
        "a language chosen to change the outcome",
        "the same exit code, decision and rule ids in every language",
    )


@pytest.mark.parametrize("value", ["fr", "KO", "true", "{ko: 1}", "'ko\\u0000'"])
def test_a_lang_other_than_en_or_ko_is_refused(repo: GitRepo, reliability: Recorder, value: str) -> None:
    repo.write(".gatekeeper.yml", BASE_CONFIG + f"lang: {value}\n")
    for env in ({"GATEKEEPER_LANG": ""}, {"GATEKEEPER_LANG": "ko"}):
        result = run_cli(["gate"], cwd=repo.path, env=env)
        assert result.code == 2, result.stdout + result.stderr
        assert "Traceback" not in result.stderr and "internal error" not in result.stderr
        assert ".gatekeeper.yml" in result.stderr and "lang" in result.stderr
    korean = run_cli(["gate"], cwd=repo.path, env={"GATEKEEPER_LANG": "ko"})
    assert "조치:" in korean.stderr and "올바르지 않습니다" in korean.stderr
    reliability.row(
        f"`lang: {value}` in .gatekeeper.yml",
        "a language that does not exist, or not a string",
        "exit 2 naming the file, line and key, in English or Korean as chosen",
    )
