"""A fresh install as an agency makes it: the offline bundle (`.ci/wheelhouse.sh`, what `make wheelhouse`
runs) built from a clean copy of the checkout, and a new virtual environment that installs gatekeeper from
it with no package index at all."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def clean_copy(target: Path) -> Path:
    """Exactly the files git tracks (their working-tree content): untracked files cannot make a test pass."""
    listed = subprocess.run(["git", "ls-files", "-z"], cwd=ROOT, capture_output=True, check=True).stdout
    for relative in filter(None, listed.decode().split("\0")):
        source = ROOT / relative
        if source.is_file():  # a tracked file deleted in the working tree is skipped
            destination = target / relative
            destination.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, destination)
    return target


def clean_env(**extra: str) -> dict[str, str]:
    """The environment without pip's, Python's, CI's and gatekeeper's variables, and without pip's config."""
    prefixes = ("PIP_", "PYTHON", "VIRTUAL_ENV", "GATEKEEPER_", "GITHUB_", "GITLAB_", "CI_")
    keep = {k: v for k, v in os.environ.items() if not k.startswith(prefixes) and k != "CI"}
    # English unless a test asks for Korean (`kr-ap-sop` alone speaks Korean).
    return {**keep, "PIP_CONFIG_FILE": os.devnull, "PYTHONNOUSERSITE": "1", "GATEKEEPER_LANG": "en", **extra}


def run(*args: str | Path, cwd: Path, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    done = subprocess.run(
        [str(a) for a in args], cwd=cwd, env=env, capture_output=True, text=True, check=False
    )
    assert done.returncode == 0, f"{args}\n{done.stdout}\n{done.stderr}"
    return done


def wheelhouse(work: Path) -> Path:
    """The offline bundle for this machine's Python only (the full bundle covers 3.11–3.14)."""
    source = clean_copy(work / "src")
    out = work / "wheelhouse"
    version = f"{sys.version_info.major}.{sys.version_info.minor}"
    run("bash", source / ".ci" / "wheelhouse.sh", sys.executable, out, version, cwd=work)
    return out


def offline_venv(work: Path, bundle: Path) -> Path:
    """A new virtual environment with the plain `sop-gatekeeper` installed from the bundle, no index."""
    target = work / "venv"
    venv.EnvBuilder(with_pip=True).create(target)
    run(
        target / "bin" / "python",
        "-m",
        "pip",
        "install",
        "--quiet",
        "--no-index",
        "--find-links",
        bundle,
        "sop-gatekeeper",
        cwd=work,
        env=clean_env(),
    )
    return target
