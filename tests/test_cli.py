"""The CLI boundary: --version and --help, usage errors exit 2, crashes exit 3 with a log and no traceback."""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

from gatekeeper import __version__
from gatekeeper.cli import COMMANDS
from tests.helpers import GitRepo, run_cli


def _python(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, *args], capture_output=True, text=True, cwd=cwd, check=False)


def test_version(tmp_path: Path) -> None:
    result = run_cli(["--version"], cwd=tmp_path)
    assert (result.code, result.stdout, result.stderr) == (0, f"gatekeeper {__version__}\n", "")


def test_python_dash_m_and_version_import_nothing_heavy(tmp_path: Path) -> None:
    probe = (
        "import sys\n"
        "from gatekeeper.cli import main\n"
        "code = main(['--version'])\n"
        "heavy = sorted(m for m in ('pydantic', 'jinja2', 'yaml', 'git', 'github', 'gitlab', 'psycopg')"
        " if m in sys.modules)\n"
        "print('HEAVY', heavy, code)\n"
    )
    result = _python("-c", probe, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert f"gatekeeper {__version__}" in result.stdout
    assert "HEAVY [] 0" in result.stdout
    module = _python("-m", "gatekeeper", "--version", cwd=tmp_path)
    assert (module.returncode, module.stdout.strip()) == (0, f"gatekeeper {__version__}")


def test_help_lists_every_command(tmp_path: Path) -> None:
    result = run_cli(["--help"], cwd=tmp_path)
    assert result.code == 0
    for name in COMMANDS:
        assert name in result.stdout
    assert (
        "exit codes: 0 allowed/passed, 1 blocked/violations, 2 usage or input error, 3 internal error"
        in result.stdout
    )


def test_command_help(tmp_path: Path) -> None:
    result = run_cli(["rfc", "--help"], cwd=tmp_path)
    assert result.code == 0
    assert "new" in result.stdout and "validate" in result.stdout and "show" in result.stdout


@pytest.mark.parametrize(
    ("args", "fragment"),
    [
        ([], "no command given"),
        (["frobnicate"], "invalid choice: 'frobnicate'"),
        (["--bogus", "rfc", "show", "x"], "unrecognized arguments: --bogus"),
        (["--format", "yaml", "schema", "rfc"], "invalid choice: 'yaml'"),
        (["--lang", "fr", "schema", "rfc"], "invalid choice: 'fr'"),
        (["rfc"], "required: SUBCOMMAND"),
        (["rfc", "new"], "required: --title"),
        (["rfc", "new", "--title", "x", "--type", "urgent"], "invalid choice: 'urgent'"),
        (["schema"], "required: kind"),
    ],
)
def test_usage_errors_exit_2_with_a_message(tmp_path: Path, args: list[str], fragment: str) -> None:
    result = run_cli(args, cwd=tmp_path)
    assert result.code == 2
    assert result.stderr.startswith("gatekeeper: error: ")
    assert fragment in result.stderr
    assert "--help" in result.stderr
    assert "Traceback" not in result.stderr
    assert result.stdout == ""


def test_usage_error_in_a_real_process(tmp_path: Path) -> None:
    result = _python("-m", "gatekeeper", "frobnicate", cwd=tmp_path)
    assert result.returncode == 2
    assert "invalid choice: 'frobnicate'" in result.stderr
    assert "Traceback" not in result.stderr


def test_an_unexpected_exception_exits_3_with_a_crash_log(
    repo: GitRepo, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import gatekeeper.commands.schema as schema_command

    def explode(args: argparse.Namespace, ctx: object) -> int:
        raise RuntimeError("disk on fire")

    monkeypatch.setattr(schema_command, "run", explode)
    logs = tmp_path / "logs"
    logs.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(logs))
    result = run_cli(["schema", "rfc"], cwd=repo.path)
    assert result.code == 3
    assert "gatekeeper: internal error: RuntimeError: disk on fire" in result.stderr
    assert "Traceback" not in result.stderr
    crash_logs = list(logs.glob("gatekeeper-crash-*.log"))
    assert len(crash_logs) == 1
    assert str(crash_logs[0]) in result.stderr
    trace = crash_logs[0].read_text(encoding="utf-8")
    assert "Traceback" in trace and "disk on fire" in trace and "explode" in trace


def test_json_format_is_honoured_through_the_boundary(repo: GitRepo) -> None:
    repo.add_rfc("RFC-2026-0001")
    result = run_cli(["--format", "json", "--lang", "ko", "rfc", "validate"], cwd=repo.path)
    assert result.code == 0
    assert json.loads(result.stdout)["decision"] == "allow"


def test_every_registered_command_has_a_help_line() -> None:
    for name, (module, help_text) in COMMANDS.items():
        assert module == "gatekeeper.commands." + name.replace("-", "_")
        assert help_text.strip() and not help_text.endswith(".")


def test_ledger_export_refusing_the_global_format_names_its_own_option(repo: GitRepo) -> None:
    refused = run_cli(["--format", "json", "ledger", "export"], cwd=repo.path)
    assert refused.code == 2 and "ledger export --format jsonl|csv" in refused.stderr
    korean = run_cli(["--lang", "ko", "--format", "json", "ledger", "export"], cwd=repo.path)
    assert korean.code == 2 and "하위 명령의 옵션" in korean.stderr
