"""A wheel built from a clean copy of the checkout, installed (not editable) into a fresh venv, finds its
policy packs and templates.

The copy holds exactly the files git tracks (their working-tree content), so untracked local files cannot
make the test pass. The wheel is built without build isolation and the venv borrows the running
environment's dependencies through a plain path entry, so the test needs no network.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import sysconfig
import venv
from pathlib import Path

import pytest

from tests.offline import clean_copy

ROOT = Path(__file__).resolve().parents[1]


def _run(*args: str | Path, cwd: Path, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    result = subprocess.run(
        [str(a) for a in args], cwd=cwd, env=env, capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, f"{args}\n{result.stdout}\n{result.stderr}"
    return result


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    work = tmp_path_factory.mktemp("wheel")
    source = clean_copy(work / "src")
    _run(
        sys.executable,
        "-m",
        "build",
        "--wheel",
        "--no-isolation",
        "--outdir",
        work / "dist",
        source,
        cwd=work,
    )
    wheels = list((work / "dist").glob("sop_gatekeeper-*.whl"))
    assert len(wheels) == 1
    env_dir = work / "venv"
    venv.EnvBuilder(with_pip=False).create(env_dir)
    python = env_dir / "bin" / "python"
    purelib = Path(
        _run(
            python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])", cwd=work
        ).stdout.strip()
    )
    _run(
        sys.executable,
        "-m",
        "pip",
        "--python",
        python,
        "install",
        "--no-deps",
        "--no-index",
        "-q",
        wheels[0],
        cwd=work,
    )
    # Dependencies come from the running environment; a plain path line does not run that
    # environment's own .pth files, so its editable install of gatekeeper stays invisible.
    (purelib / "zz_test_dependencies.pth").write_text(
        sysconfig.get_paths()["purelib"] + "\n", encoding="utf-8"
    )
    return env_dir


def _env() -> dict[str, str]:
    keep = {k: v for k, v in os.environ.items() if not k.startswith(("PYTHON", "GATEKEEPER_", "VIRTUAL_ENV"))}
    return {**keep, "PYTHONNOUSERSITE": "1", "GATEKEEPER_LANG": "en"}  # `kr-ap-sop` alone speaks Korean


@pytest.mark.slow
def test_installed_wheel_is_self_contained(installed: Path, tmp_path: Path) -> None:
    python = installed / "bin" / "python"
    where = _run(
        python,
        "-c",
        "import gatekeeper, gatekeeper.resources as r; print(gatekeeper.__file__);"
        "print(r.policies_dir()); print(r.templates_dir())",
        cwd=tmp_path,
        env=_env(),
    ).stdout.split()
    assert all(str(installed) in line for line in where), where
    assert where[1].endswith("gatekeeper/_data/policies") and where[2].endswith("gatekeeper/_data/templates")
    examples = Path(
        _run(
            python,
            "-c",
            "import gatekeeper.resources as r; print(r.examples_dir())",
            cwd=tmp_path,
            env=_env(),
        ).stdout.strip()
    )
    assert str(installed) in str(examples)
    shipped = {p.relative_to(examples).as_posix() for p in examples.rglob("*") if p.is_file()}
    assert {"github/gatekeeper-deploy.yml", "gitlab/.gitlab-ci.yml", "pre-commit/README.md"} <= shipped

    script = installed / "bin" / "gatekeeper"
    schema = _run(script, "schema", "policy", cwd=tmp_path, env=_env())
    assert json.loads(schema.stdout)["title"] == "gatekeeper policy pack"

    repo = tmp_path / "repo"
    repo.mkdir()
    _run("git", "init", "-q", cwd=repo)
    (repo / ".gatekeeper.yml").write_text(
        "version: 1\nsystem: {id: minwon-portal, name: 민원포털, grade: 1}\npolicy: kr-ap-sop\n",
        encoding="utf-8",
    )
    new = _run(script, "rfc", "new", "--title", "설치본 확인", "--requester", "lee", cwd=repo, env=_env())
    assert re.fullmatch(r"wrote changes/RFC-\d{4}-0001\.yml", new.stdout.strip())
    assert "변경요청서" in next((repo / "changes").glob("*.yml")).read_text(encoding="utf-8")
    # Loading kr-ap-sop by name: validate reads the pack and reports the scaffold's empty fields.
    validate = subprocess.run(
        [str(script), "--format", "json", "rfc", "validate"],
        cwd=repo,
        env=_env(),
        capture_output=True,
        text=True,
    )
    assert validate.returncode == 1, validate.stderr
    assert json.loads(validate.stdout)["findings"][0]["rule"] == "rfc.invalid"
    pack = _run(
        python,
        "-c",
        "from gatekeeper.config import load_policy; print(load_policy('kr-ap-sop').title)",
        cwd=tmp_path,
        env=_env(),
    )
    assert pack.stdout.strip() == "응용프로그램 표준운영절차 (행정·공공기관)"
