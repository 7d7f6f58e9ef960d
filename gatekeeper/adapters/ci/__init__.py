"""Where a command runs: one registry of CI platforms (GitHub Actions, GitLab CI, a workstation).

Each entry says how the platform is recognised from the injected environment, how its run is read into a
`CiContext` (`context`), which variables carry its job token (for the git ledger's remote) and API tokens,
and which module holds its API client (`adapters.platforms.<name>`). Publishing a command's outcome to the
job (summaries, annotations, dotenv, JUnit) is the reporters' (`reporters.publish`, keyed by these names).
A new CI platform is one entry here, its context reader, its API client and its publisher.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from gatekeeper.domain import ActorSource

if TYPE_CHECKING:
    from gatekeeper.adapters.ci.context import CiContext


@dataclass(frozen=True, slots=True)
class CiPlatform:
    name: str
    actor_source: ActorSource
    marker: str  # the variable its runner sets to "true" in every job ("" : never detected, the fallback)
    read_context: Callable[[Mapping[str, str], Path], CiContext]
    job_token: tuple[str, str] = ("", "")  # (variable, git user) that reach the platform's own git remotes
    api_tokens: tuple[str, ...] = ()  # variables holding a token for its API client, in order of preference
    api: str = ""  # the module of its API client under gatekeeper.adapters.platforms ("" : none)

    def detects(self, env: Mapping[str, str]) -> bool:
        return bool(self.marker) and env.get(self.marker) == "true"

    def context(self, env: Mapping[str, str], cwd: Path) -> CiContext:
        return self.read_context(env, cwd)


def _github(env: Mapping[str, str], _cwd: Path) -> CiContext:
    from gatekeeper.adapters.ci.context import github_context

    return github_context(env)


def _gitlab(env: Mapping[str, str], _cwd: Path) -> CiContext:
    from gatekeeper.adapters.ci.context import gitlab_context

    return gitlab_context(env)


def _workstation(env: Mapping[str, str], cwd: Path) -> CiContext:
    from gatekeeper.adapters.ci.context import local_context

    return local_context(env, cwd)


CI_PLATFORMS: dict[str, CiPlatform] = {
    platform.name: platform
    for platform in (
        CiPlatform(
            "github",
            ActorSource.GITHUB_ACTIONS,
            "GITHUB_ACTIONS",
            _github,
            job_token=("GITHUB_TOKEN", "x-access-token"),
            api_tokens=("GATEKEEPER_TOKEN", "GITHUB_TOKEN", "GH_TOKEN"),
            api="github",
        ),
        CiPlatform(
            "gitlab",
            ActorSource.GITLAB_CI,
            "GITLAB_CI",
            _gitlab,
            job_token=("CI_JOB_TOKEN", "gitlab-ci-token"),
            api_tokens=("GATEKEEPER_TOKEN", "GITLAB_TOKEN"),
            api="gitlab",
        ),
        CiPlatform("local", ActorSource.LOCAL, "", _workstation),
    )
}
LOCAL = CI_PLATFORMS["local"]


def ci_platform(env: Mapping[str, str]) -> CiPlatform:
    """The CI platform whose runner set this environment; the workstation when none did."""
    return next((p for p in CI_PLATFORMS.values() if p.detects(env)), LOCAL)


def in_ci(env: Mapping[str, str]) -> bool:
    return ci_platform(env) is not LOCAL
