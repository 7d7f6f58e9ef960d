"""`gatekeeper init [--ci github|gitlab]`: scaffold gatekeeper in a repository.

Writes `.gatekeeper.yml`, `changes/` with a first RFC, the CI pipeline and installs the commit-msg hook.
What can be inferred is not asked: the system id from the repository folder, the CI platform from the
`origin` remote or the folders present, the maintainer from git, and — in a repository with history — the
adoption point (the last commit before governance, `gatekeeper.facts.adoption`).

In a repository that already has `.gatekeeper.yml`, `init --ci X` adds only the CI files, read from the
existing configuration and never touching it. Nothing is overwritten without `--force`.
"""

from __future__ import annotations

import argparse
import re
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from gatekeeper import __version__
from gatekeeper.commands import Context
from gatekeeper.errors import GitError, UsageError
from gatekeeper.messages import msg, ptr, tr

if TYPE_CHECKING:
    from gatekeeper.config import Config, Policy

# The gatekeeper Action the generated GitHub workflows use unless `--action-ref` names another copy.
DEFAULT_ACTION = "sop-gatekeeper/gatekeeper"
UNIT_REPORT = "reports/unit/junit.xml"
# The SOP's names of the roles, which the next steps cite (in Korean in both languages: the SOP's terms).
ROLE_NAMES = {
    "agency-manager": msg("agency manager"),
    "agency-officer": msg("agency officer"),
    "operator-manager": msg("operator manager"),
    "maintainer": msg("maintenance"),
    "tester": msg("testing"),
    "cab": msg("change advisory board"),
}


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
    parser.add_argument(
        "--action-ref",
        metavar="OWNER/REPO@TAG",
        help=f"the gatekeeper Action the GitHub workflows use (default: {DEFAULT_ACTION}@v{__version__}; "
        "name your own copy where github.com is out of reach)",
    )
    parser.add_argument(
        "--package",
        metavar="REQUIREMENT",
        help=f"what GitLab jobs pip-install (GATEKEEPER_PACKAGE; default: sop-gatekeeper=={__version__}): "
        "a version from your index, a git URL (`sop-gatekeeper @ git+https://...@v1.0`) or a wheel",
    )
    parser.add_argument("--no-hook", action="store_true", help="do not install the commit-msg hook")
    parser.add_argument("--force", action="store_true", help="overwrite files that already exist")


@dataclass(frozen=True)
class Planned:
    path: Path
    text: str


@dataclass(frozen=True)
class StepInfo:
    name: str
    roles: tuple[str, ...]


def _git(root: Path, *args: str) -> str:
    """git's answer, or "" when it has none (no remote, no identity configured, no commit yet)."""
    from gatekeeper.adapters.git import git

    return git(root, *args, check=False).strip()


def _repository_root(cwd: Path) -> Path:
    top = _git(cwd, "rev-parse", "--show-toplevel")
    if not top:
        raise GitError(msg("{cwd} is not inside a git repository", cwd=cwd), hint=msg("run `git init` first"))
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


def action_ref(text: str | None) -> tuple[str, str]:
    """(owner/repo, tag) of the Action the workflows use; a malformed value is a usage error."""
    if text is None:
        return DEFAULT_ACTION, f"v{__version__}"
    found = re.fullmatch(r"([A-Za-z0-9][A-Za-z0-9_.-]*/[A-Za-z0-9_.-]+)@([A-Za-z0-9][A-Za-z0-9_./-]*)", text)
    if not found or ".." in text:
        raise UsageError(
            msg("--action-ref {text!r} is not OWNER/REPO@TAG", text=text),
            hint=msg(
                "e.g. --action-ref agency/gatekeeper@v{version} (a tag or a full commit SHA)",
                version=__version__,
            ),
        )
    return found.group(1), found.group(2)


def approval_steps(policy: Policy) -> list[StepInfo]:
    """The pack's approval steps in their required order, with the roles that may give each."""
    defined = policy.approvals.steps
    return [
        StepInfo(str(s), tuple(str(r) for r in defined[s].roles))
        for s in policy.approvals.order
        if s in defined
    ]


# ------------------------------------------------------------------------------------------- plans


def _config_files(
    root: Path, args: argparse.Namespace, requested_at: str, adoption: dict[str, str] | None
) -> list[Planned]:
    from gatekeeper.domain.rfcid import next_id
    from gatekeeper.reporters.render import render_template

    system_id = _system_id(args.system_id or root.name)
    maintainer = (
        _git(root, "config", "user.email").split("@")[0] or _git(root, "config", "user.name") or "maintainer"
    )
    maintainer = re.sub(r"[^A-Za-z0-9._-]", "", maintainer) or "maintainer"
    config = render_template(
        "init/gatekeeper.yml.j2",
        system_id=system_id,
        system_name=args.name or system_id,
        grade=args.grade,
        audience=args.audience,
        policy=args.policy,
        maintainer=maintainer,
        adoption=adoption,
    )
    rfc_id = next_id(r"RFC-\d{4}-\d{4}", [], int(requested_at[:4]))
    lang = "ko" if args.policy == "kr-ap-sop" else "en"
    rfc = render_template(
        f"init/rfc-adopt.{lang}.yml.j2",
        id=rfc_id,
        requester=maintainer,
        system=system_id,
        requested_at=requested_at,
    )
    return [Planned(root / ".gatekeeper.yml", config), Planned(root / "changes" / f"{rfc_id}.yml", rfc)]


def _gh(expression: str) -> str:
    return "${{ " + expression + " }}"


def ci_files(root: Path, ci: str, args: argparse.Namespace, config: Config, policy: Policy) -> list[Planned]:
    """The pipeline for `ci`: commit check, tests and evidence, one approval job per step, the governed
    deployment and the scheduled audit."""
    from gatekeeper.reporters.render import render_template

    ledger_branch = getattr(config.ledger, "branch", "gatekeeper/ledger")
    values = {
        "steps": approval_steps(policy),
        "policy": config.policy,
        "ledger_branch": ledger_branch,
        "unit_report": UNIT_REPORT,
    }
    if ci == "github":
        action, tag = action_ref(args.action_ref)
        names = ["gatekeeper", "gatekeeper-approve", "gatekeeper-deploy", "gatekeeper-audit"]
        if not values["steps"]:
            names.remove("gatekeeper-approve")
        return [
            Planned(
                root / ".github" / "workflows" / f"{name}.yml",
                render_template(f"init/github/{name}.yml.j2", action=action, tag=tag, gh=_gh, **values),
            )
            for name in names
        ]
    if ci == "gitlab":
        from gatekeeper.resources import templates_dir

        package = args.package or f"sop-gatekeeper=={__version__}"
        return [
            Planned(
                root / ".gitlab" / "gatekeeper.gitlab-ci.yml",
                (templates_dir() / "gitlab" / "gatekeeper.gitlab-ci.yml").read_text(encoding="utf-8"),
            ),
            Planned(
                root / ".gitlab-ci.yml", render_template("init/gitlab-ci.yml.j2", package=package, **values)
            ),
        ]
    return []


# ------------------------------------------------------------------------------------------- run


def _adoption_point(root: Path, ctx: Context) -> dict[str, str] | None:
    """The repository's last commit and now, or None for a repository without commits."""
    from zoneinfo import ZoneInfo

    head = _git(root, "rev-parse", "--verify", "--quiet", "HEAD^{commit}")
    if not head:
        return None
    at = ctx.runtime.now().astimezone(ZoneInfo("Asia/Seoul")).replace(microsecond=0).isoformat()
    return {"commit": head, "at": at}


def run(args: argparse.Namespace, ctx: Context) -> int:
    from zoneinfo import ZoneInfo

    from gatekeeper.config import load_config, policy_for

    root = _repository_root(ctx.runtime.cwd)
    ci = args.ci or infer_ci(root)
    config_path = root / ".gatekeeper.yml"
    add_ci_only = config_path.exists() and not args.force and ci != "none"
    files: list[Planned] = []
    adoption = None
    if not add_ci_only:
        requested_at = ctx.runtime.now().astimezone(ZoneInfo("Asia/Seoul")).replace(microsecond=0).isoformat()
        adoption = _adoption_point(root, ctx)
        files = _config_files(root, args, requested_at, adoption)
    # The CI files follow the configuration that will be in force: the existing one, or the one planned.
    if add_ci_only:
        config = load_config(config_path)
    else:
        from gatekeeper.config import Config, parse_model
        from gatekeeper.config._yaml import load_yaml

        located = load_yaml(files[0].path, what="configuration file", text=files[0].text)
        config = parse_model(Config, located, "configuration")
    policy = policy_for(config, relative_to=root)
    ctx.speak_as(config, policy)
    files += ci_files(root, ci, args, config, policy)
    existing = [f.path for f in files if f.path.exists()]
    if existing and not args.force:
        names = ", ".join(str(p.relative_to(root)) for p in existing)
        raise UsageError(
            msg("already there: {names}", names=names), hint=msg("keep them, or pass --force to overwrite")
        )
    lines: list[str] = []  # the text output; `--format json` gives the same as data
    hook = None
    if ci == "gitlab" and (root / ".gitlab-ci.yml") in existing:
        shutil.copyfile(root / ".gitlab-ci.yml", root / ".gitlab-ci.yml.bak")
        lines.append(tr(ctx.lang, "kept the previous .gitlab-ci.yml as .gitlab-ci.yml.bak"))
    for planned in files:
        planned.path.parent.mkdir(parents=True, exist_ok=True)
        planned.path.write_text(planned.text, encoding="utf-8")
        written = planned.path.relative_to(root)
        lines.append(tr(ctx.lang, "wrote {path}", path=written))
    if not args.no_hook and not add_ci_only:
        import sys

        from gatekeeper.commands._hooks import install

        target, _kept = install(root, force=args.force, python=sys.executable)
        hook = str(target)
        lines.append(ptr(ctx.lang, "init", "installed the commit-msg hook in {target}", target=target))
    rfc_file = next((f.path for f in files if f.path.parent.name == "changes"), None)
    steps = next_steps(ctx.lang, ci, config, policy, rfc_file.stem if rfc_file else None, adoption)
    return ctx.done(
        "\n".join([*lines, steps]),
        written=[str(f.path.relative_to(root)) for f in files],
        hook=hook,
        next_steps=steps,
    )


# ------------------------------------------------------------------------------------------- explanation


def _two_step_roles(steps: list[StepInfo]) -> dict[str, list[str]]:
    """Roles that alone may give more than one step: one person may not give two steps of a change."""
    given: dict[str, list[str]] = {}
    for step in steps:
        if len(step.roles) == 1:
            given.setdefault(step.roles[0], []).append(step.name)
    return {role: names for role, names in given.items() if len(names) > 1}


def next_steps(
    lang: str, ci: str, config: Config, policy: Policy, rfc_id: str | None, adoption: dict[str, str] | None
) -> str:
    """What to do after `init`: the roles, what to protect, the adoption commit, the baseline."""
    from gatekeeper.reporters.render import render_template

    steps = approval_steps(policy)
    return render_template(
        f"init/next-steps.{'ko' if lang == 'ko' else 'en'}.txt.j2",
        ci=ci,
        steps=steps,
        role_names={role: name.ko for role, name in ROLE_NAMES.items()},
        two_step_roles=_two_step_roles(steps),
        ledger_branch=getattr(config.ledger, "branch", "gatekeeper/ledger"),
        rfc_id=rfc_id,
        adoption=adoption,
    ).rstrip()
