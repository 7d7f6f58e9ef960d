"""The protected base (adapter): in CI, the configuration comes from the default branch's tip, never from
the commit under deployment, and the governance files a change alters are read from git.

A developer with write access can edit `.gatekeeper.yml` in their change — grade 1 to 4, another time
zone, a closed day for today, `policy: minimal`, a ledger file of their own — and can run a pipeline on
their branch. They cannot move the default branch past its protection. So a CI job reads the
configuration, the policy pack, the standard-change catalogue and the pinned issuer keys as the default
branch's tip holds them (`load_governing`), fetched from the clone's `origin` as the CI platform set it up,
and the gate flags every governance file the change alters (`governance_changes`, rule `config.changed`).

Which branch is the default: GitLab says it in `CI_DEFAULT_BRANCH`, GitHub in the event payload
(`repository.default_branch`); else the remote's HEAD. A clone without any remote (a workstation-built
test, `act` without a remote) reads its local branch of that name. Anything that cannot be read is
`GovernanceUnavailable` (exit 3): a job never falls back to the configuration of the change.
"""

from __future__ import annotations

import atexit
import shutil
import subprocess
import tempfile
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path, PurePath

from gatekeeper.config.models import Config, GoverningBase
from gatekeeper.errors import ExitCode, GatekeeperError
from gatekeeper.messages import msg

REMOTE = "origin"  # the remote actions/checkout and the GitLab runner clone from
_BRANCH_CHARS = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_./")


class GovernanceUnavailable(GatekeeperError):
    """The protected base could not be read: nothing is decided on the change's own configuration."""

    exit_code = ExitCode.INTERNAL


def _git(root: Path, *args: str) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run(["git", *args], cwd=root, capture_output=True)


def _reason(out: subprocess.CompletedProcess[bytes]) -> str:
    """git's own last word on why a command failed."""
    return (out.stderr.decode("utf-8", "replace").strip().splitlines() or ["unknown error"])[-1]


def _fail(message: str, ko: str) -> GovernanceUnavailable:
    return GovernanceUnavailable(
        message,
        hint=msg(
            "the job needs the default branch of its repository: keep the checkout's "
            "`origin` remote and let the job fetch it (the configuration is never read from "
            "the change under deployment)"
        ),
        ko=ko or message,
    )


def _valid_branch(name: str) -> bool:
    return bool(name) and len(name) <= 255 and set(name) <= _BRANCH_CHARS and ".." not in name


def default_branch(root: Path, env: Mapping[str, str], has_remote: bool) -> str:
    """The default branch's name, as the CI platform states it, else as the remote's HEAD names it."""
    named = env.get("CI_DEFAULT_BRANCH", "") if env.get("GITLAB_CI") == "true" else ""
    if not named and env.get("GITHUB_ACTIONS") == "true" and env.get("GITHUB_EVENT_PATH"):
        from gatekeeper.adapters.ci.context import github_event

        payload = github_event(env)
        repository = payload.get("repository")
        found = repository.get("default_branch") if isinstance(repository, dict) else None
        named = found if isinstance(found, str) else ""
    if not named and has_remote:
        out = _git(root, "ls-remote", "--symref", REMOTE, "HEAD")
        for line in out.stdout.decode("utf-8", "replace").splitlines():
            if line.startswith("ref: refs/heads/") and line.endswith("\tHEAD"):
                named = line[len("ref: refs/heads/") : -len("\tHEAD")]
    if not named and not has_remote:
        # A clone without a remote: the branch the repository was created with.
        out = _git(root, "symbolic-ref", "--quiet", "--short", "HEAD")
        current = out.stdout.decode().strip()
        named = next((b for b in ("main", "master") if _has_ref(root, f"refs/heads/{b}")), current)
    if not _valid_branch(named):
        raise _fail(
            *msg(
                "the default branch of the repository is unknown or not a branch name: {named!r}",
                named=named[:80],
            ).pair
        )
    return named


def _has_ref(root: Path, ref: str) -> bool:
    return _git(root, "rev-parse", "--verify", "--quiet", f"{ref}^{{commit}}").returncode == 0


def base_commit(root: Path, env: Mapping[str, str]) -> tuple[str, str]:
    """(branch, commit) of the default branch's tip: fetched from `origin`, or the local branch of a clone
    without remotes."""
    from gatekeeper.adapters import git

    remotes = git.remotes(root)
    has_remote = REMOTE in remotes
    branch = default_branch(root, env, has_remote)
    if has_remote:
        fetch = ["fetch", "--quiet", "--no-tags", "--no-recurse-submodules"]
        fetch += ["--depth=1"] if git.is_shallow(root) else []
        done = _git(root, *fetch, REMOTE, f"refs/heads/{branch}")
        if done.returncode != 0:
            reason = _reason(done)
            raise _fail(
                *msg(
                    "cannot fetch the default branch {branch} from {REMOTE}: {reason}",
                    branch=branch,
                    REMOTE=REMOTE,
                    reason=reason,
                ).pair
            )
        ref = "FETCH_HEAD"
    elif remotes:
        raise _fail(
            *msg(
                "the clone has no `{REMOTE}` remote (only {remotes}): the default branch "
                "cannot be read from the repository the job was checked out from",
                REMOTE=REMOTE,
                remotes=", ".join(remotes),
            ).pair
        )
    else:
        ref = f"refs/heads/{branch}"
    out = _git(root, "rev-parse", "--verify", "--quiet", f"{ref}^{{commit}}")
    commit = out.stdout.decode().strip()
    if out.returncode != 0 or not commit:
        raise _fail(*msg("the default branch {branch} has no commit here", branch=branch).pair)
    return branch, commit


def read_blob(root: Path, commit: str, path: str) -> bytes | None:
    """The bytes of `path` in `commit`, None when the commit has no such file."""
    out = _git(root, "cat-file", "blob", f"{commit}:{path}")
    return out.stdout if out.returncode == 0 else None


def _toplevel(root: Path) -> Path:
    out = _git(root, "rev-parse", "--show-toplevel")
    if out.returncode != 0:
        raise _fail(*msg("{root} is not inside a git repository", root=root).pair)
    return Path(out.stdout.decode().strip()).resolve()


def load_governing(config_path: Path, env: Mapping[str, str]) -> Config:
    """The configuration as the default branch's tip holds it, with the files it names (policy pack,
    standard-change catalogue, pinned keys) copied beside it, so they too are read from there. A
    configuration file outside the repository (a runner's own file) is read as it is."""
    from gatekeeper.config import load_config
    from gatekeeper.errors import ConfigError

    top = _toplevel(config_path.parent)
    try:
        relative = config_path.resolve().relative_to(top).as_posix()
    except ValueError:
        return load_config(config_path)  # not in the work tree: the change cannot edit it
    branch, commit = base_commit(top, env)
    text = read_blob(top, commit, relative)
    if text is None:
        raise ConfigError(
            msg(
                "the default branch {branch} ({commit}) has no {relative}: in CI the "
                "configuration is read from the default branch, never from the change under "
                "deployment",
                branch=branch,
                commit=commit[:10],
                relative=relative,
            ),
            hint=msg("merge {relative} into {branch} through review first", relative=relative, branch=branch),
        )
    folder = Path(tempfile.mkdtemp(prefix=f"gatekeeper-{commit[:10]}-"))
    atexit.register(shutil.rmtree, folder, True)
    config_dir = PurePath(relative).parent
    target_dir = folder / config_dir
    target = folder / relative
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_bytes(text)
    config = load_config(target)
    for name in named_files(config):
        blob = read_blob(top, commit, (config_dir / name).as_posix())
        if blob is not None:  # a file the base lacks stays missing: reading it fails as it would there
            placed = target_dir / name
            placed.parent.mkdir(parents=True, exist_ok=True)
            placed.write_bytes(blob)
    config._base = GoverningBase(branch, commit, target_dir, relative)
    return config


def named_files(config: Config) -> tuple[str, ...]:
    """The governance files the configuration names, relative to its folder."""
    from gatekeeper.config import policy_is_file

    names: list[str] = []
    if policy_is_file(config.policy):
        names.append(config.policy)
    if config.standard_changes is not None:
        names.append(config.standard_changes.catalogue)
    for oidc in (config.platform.github.oidc, config.platform.gitlab.oidc):
        if oidc.keys_file:
            names.append(oidc.keys_file)
    return tuple(n for n in names if not Path(n).is_absolute() and ".." not in PurePath(n).parts)


@dataclass(frozen=True, slots=True)
class GovernanceScope:
    """The repository's top folder, its configuration file and the globs of its governance files, all
    relative to the top (the configuration may live in a folder of a larger repository)."""

    top: Path
    config_file: str
    patterns: tuple[str, ...]


def scope_for(root: Path, config: Config, config_name: str) -> GovernanceScope:
    from gatekeeper.domain.governance import governance_patterns

    top = _toplevel(root)
    prefix = PurePath(root.resolve().relative_to(top).as_posix()) if root.resolve() != top else PurePath()
    base = config.governing_base
    config_file = base.config_file if base is not None else (prefix / config_name).as_posix()
    named = [(prefix / n).as_posix() for n in named_files(config)]
    return GovernanceScope(top, config_file, governance_patterns(config_file, named, config.governance.paths))


def governance_changes(
    scope: GovernanceScope, *, base: str | None, head: str, revisions: Iterable[str] = ()
) -> tuple[str, ...]:
    """The governance files the change alters: between the protected base and `head` when the base is known
    (CI), and in every commit of `revisions` (the deployed range) — so an edit undone again within the
    range is still seen."""
    specs = [f":(glob){p}" for p in scope.patterns]
    found: dict[str, None] = {}
    if base:
        out = _git(scope.top, "diff", "--name-only", "-z", "--no-renames", base, head, "--", *specs)
        if out.returncode != 0:
            reason = _reason(out)
            raise _fail(
                *msg(
                    "cannot compare {head} with the default branch's {base}: {reason}",
                    head=head[:10],
                    base=base[:10],
                    reason=reason,
                ).pair
            )
        found.update(dict.fromkeys(p for p in out.stdout.decode("utf-8", "replace").split("\0") if p))
    for paths in commits_touching(scope, revisions).values():
        found.update(dict.fromkeys(paths))
    return tuple(found)


def commits_touching(scope: GovernanceScope, revisions: Iterable[str]) -> dict[str, tuple[str, ...]]:
    """sha -> the governance files each commit of `revisions` alters, from one `git log`. The commit that
    creates the configuration file is where governance starts (the adoption): it is not judged. A
    merge's own edits are seen by the comparison with the protected base."""
    revs = list(revisions)
    if not revs:
        return {}
    specs = [f":(glob){p}" for p in scope.patterns]
    args = ["log", "-z", "--no-renames", "--no-color", "--name-status", "--format=%x01%H", *revs, "--"]
    out = _git(scope.top, *args, *specs)
    if out.returncode != 0:
        reason = _reason(out)
        raise _fail(*msg("cannot list the files the commits alter: {reason}", reason=reason).pair)
    touched: dict[str, tuple[str, ...]] = {}
    for chunk in out.stdout.decode("utf-8", "replace").split("\x01")[1:]:
        sha, _, rest = chunk.partition("\n")
        fields = [f.strip("\n") for f in rest.split("\0")]
        fields = [f for f in fields if f]
        pairs = list(zip(fields[0::2], fields[1::2], strict=False))
        if ("A", scope.config_file) in pairs:
            continue  # the adoption commit
        paths = tuple(path for _status, path in pairs)
        if paths:
            touched[sha.strip("\0\n")] = paths
    return touched
