"""`gatekeeper init [--ci github|gitlab]`: scaffold gatekeeper in a repository.

Writes `.gatekeeper.yml`, `changes/` with a first RFC, the CI workflow or include, and installs the
commit-msg hook. What can be inferred is not asked: the system id from the repository folder, the CI
platform from the `origin` remote or the folders present, the maintainer from git. Nothing is overwritten
without `--force`.
"""

from __future__ import annotations

import argparse
import re
import shutil
from dataclasses import dataclass
from pathlib import Path

from gatekeeper import __version__
from gatekeeper.commands import Context
from gatekeeper.errors import ExitCode, GitError, UsageError


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--ci", choices=["github", "gitlab", "none"], help="CI platform (default: inferred)")
    parser.add_argument("--system-id", help="system id (default: the repository folder name)")
    parser.add_argument("--name", help="system name as users know it (default: the system id)")
    parser.add_argument(
        "--grade",
        type=int,
        choices=[1, 2, 3, 4],
        default=1,
        help="정보시스템 등급 (default: 1, the strictest)",
    )
    parser.add_argument("--audience", choices=["public", "internal"], default="internal")
    parser.add_argument("--policy", default="kr-ap-sop", help="policy pack name or path (default: kr-ap-sop)")
    parser.add_argument("--no-hook", action="store_true", help="do not install the commit-msg hook")
    parser.add_argument("--force", action="store_true", help="overwrite files that already exist")


@dataclass(frozen=True)
class Planned:
    path: Path
    text: str


def _git(root: Path, *args: str) -> str:
    """git's answer, or "" when it has none (no remote, no identity configured)."""
    from gatekeeper.adapters.git import git

    return git(root, *args, check=False).strip()


def _repository_root(cwd: Path) -> Path:
    top = _git(cwd, "rev-parse", "--show-toplevel")
    if not top:
        raise GitError(f"{cwd} is not inside a git repository", hint="run `git init` first")
    return Path(top)


def infer_ci(root: Path) -> str:
    remote = _git(root, "remote", "get-url", "origin").lower()
    if "gitlab" in remote or (root / ".gitlab-ci.yml").exists():
        return "gitlab"
    if "github" in remote or (root / ".github").is_dir():
        return "github"
    return "none"


def _system_id(value: str) -> str:
    slug = re.sub(r"[^a-z0-9._-]+", "-", value.lower()).strip("-._")
    return slug or "my-system"


def plan(root: Path, args: argparse.Namespace, ci: str, requested_at: str) -> list[Planned]:
    from gatekeeper.commands.rfc import next_id
    from gatekeeper.reporters.render import render_template

    system_id = _system_id(args.system_id or root.name)
    maintainer = (
        _git(root, "config", "user.email").split("@")[0] or _git(root, "config", "user.name") or "maintainer"
    )
    maintainer = re.sub(r"[^A-Za-z0-9._-]", "", maintainer) or "maintainer"
    files = [
        Planned(
            root / ".gatekeeper.yml",
            render_template(
                "init/gatekeeper.yml.j2",
                system_id=system_id,
                system_name=args.name or system_id,
                grade=args.grade,
                audience=args.audience,
                policy=args.policy,
                maintainer=maintainer,
            ),
        )
    ]
    rfc_id = next_id(r"RFC-\d{4}-\d{4}", [], int(requested_at[:4]))
    lang = "ko" if args.policy == "kr-ap-sop" else "en"
    files.append(
        Planned(
            root / "changes" / f"{rfc_id}.yml",
            render_template(
                f"init/rfc-adopt.{lang}.yml.j2",
                id=rfc_id,
                requester=maintainer,
                system=system_id,
                requested_at=requested_at,
            ),
        )
    )
    if ci == "github":
        files.append(
            Planned(
                root / ".github" / "workflows" / "gatekeeper.yml",
                render_template("init/github-workflow.yml.j2", version=__version__),
            )
        )
    elif ci == "gitlab":
        from gatekeeper.resources import templates_dir

        files.append(
            Planned(
                root / ".gitlab" / "gatekeeper.gitlab-ci.yml",
                (templates_dir() / "gitlab" / "gatekeeper.gitlab-ci.yml").read_text(encoding="utf-8"),
            )
        )
        target = root / ".gitlab-ci.yml"
        files.append(Planned(target, render_template("init/gitlab-ci.yml.j2", version=__version__)))
    return files


def run(args: argparse.Namespace, ctx: Context) -> int:
    from zoneinfo import ZoneInfo

    root = _repository_root(ctx.runtime.cwd)
    ci = args.ci or infer_ci(root)
    requested_at = ctx.runtime.now().astimezone(ZoneInfo("Asia/Seoul")).replace(microsecond=0).isoformat()
    files = plan(root, args, ci, requested_at)
    existing = [f.path for f in files if f.path.exists()]
    if existing and not args.force:
        names = ", ".join(str(p.relative_to(root)) for p in existing)
        raise UsageError(f"already there: {names}", hint="keep them, or pass --force to overwrite")
    if ci == "gitlab" and (root / ".gitlab-ci.yml") in existing:
        shutil.copyfile(root / ".gitlab-ci.yml", root / ".gitlab-ci.yml.bak")
        ctx.out("kept the previous .gitlab-ci.yml as .gitlab-ci.yml.bak")
    for planned in files:
        planned.path.parent.mkdir(parents=True, exist_ok=True)
        planned.path.write_text(planned.text, encoding="utf-8")
        ctx.out(f"wrote {planned.path.relative_to(root)}")
    if not args.no_hook:
        import sys

        from gatekeeper.commands.hook import install

        target, _kept = install(root, force=args.force, python=sys.executable)
        ctx.out(f"installed the commit-msg hook in {target}")
    ctx.out(
        f"next: name the people of each role under roles: in .gatekeeper.yml, then commit with "
        f'`git commit -m "{files[1].path.stem} Adopt gatekeeper"`'
    )
    return int(ExitCode.OK)
