"""Who is acting: the CI identity in a pipeline, the git identity (marked `local`) on a workstation.

The actor is never taken from a command-line flag: in CI it is what the platform says ran the job
(`GITHUB_ACTOR`, `GITLAB_USER_LOGIN`), so a pipeline cannot approve in someone else's name (DESIGN §5).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from gatekeeper.domain import ActorSource


@dataclass(frozen=True, slots=True)
class Actor:
    name: str
    source: ActorSource

    @property
    def is_local(self) -> bool:
        return self.source is ActorSource.LOCAL


def current_actor(env: Mapping[str, str], cwd: Path) -> Actor:
    """The actor of a command run with `env` in `cwd` (raises GitError/InputError when it cannot tell)."""
    from gatekeeper.adapters.ci.context import detect_ci

    context = detect_ci(env, cwd)
    return Actor(context.actor, context.actor_source)
