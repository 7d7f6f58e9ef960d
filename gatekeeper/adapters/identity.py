"""Who is acting, and who a person is across logins, names and emails.

The actor is never taken from a command-line flag: in CI it is what the platform says ran the job
(`GITHUB_ACTOR`, `GITLAB_USER_LOGIN`), and on a GitHub re-run the person who re-ran it
(`GITHUB_TRIGGERING_ACTOR`: `GITHUB_ACTOR` stays the first run's). A job's environment can be set by any
step of it, so an approval proves its actor only with the platform's signed token (`domain.attestation`).

Separation of duties compares approvers' logins with the names and emails commits carry; the optional
`people:` map of `.gatekeeper.yml` (login -> names and emails) joins the two, so "Minsu Kim
<minsu.kim@agency.go.kr>" who committed is `kim` who may not approve.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

from gatekeeper.config.models import PersonAliases
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
    name = context.actor
    if context.provider == "github" and env.get("GITHUB_TRIGGERING_ACTOR"):
        name = env["GITHUB_TRIGGERING_ACTOR"]
    return Actor(name, context.actor_source)


def joined(identities: Iterable[str], people: Mapping[str, PersonAliases]) -> frozenset[str]:
    """`identities` (person keys of commits: names, emails, email local parts, casefolded) with the login
    of every person of the `people` map named among them, as `rules.approval.login_key` spells logins."""
    from gatekeeper.adapters.git import person_keys
    from gatekeeper.rules.approval import login_key

    found = set(identities)
    for login, aliases in people.items():
        keys: set[str] = set()
        for name in aliases.names:
            keys |= person_keys(name, "")
        for email in aliases.emails:
            keys.add(email.strip().casefold())
        if keys & found:
            found.add(login_key(login))
    return frozenset(found)
