"""The KPI report of a period, read from the ledger: for `kpi` and for the audit's HTML report."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from gatekeeper.checks.kpi import KpiReport, Tally, report, sql_tallies, tallies_from_records
from gatekeeper.commands import Context
from gatekeeper.config import Config
from gatekeeper.ledger import LedgerReader
from gatekeeper.reporters.portfolio import KpiPortfolio

if TYPE_CHECKING:
    from gatekeeper.commands._portfolio import Member
    from gatekeeper.facts.history import History


@dataclass(frozen=True)
class RfcPlans:
    """What the KPIs read from the system's RFCs: when each change was requested for (the change on-time
    rate) and the test cases it plans per kind (functional coverage)."""

    due: dict[str, datetime] = field(default_factory=dict)
    planned: dict[str, dict[str, int]] = field(default_factory=dict)


def rfc_plans(ctx: Context, system: str | None = None, entries: Sequence[Any] | None = None) -> RfcPlans:
    """The plans of the RFCs of `system` (default this one) in this repository's RFC store that are
    requests (active or closed; drafts and cancelled requests are not). Unreadable RFCs are skipped here
    (the `rfc validate` command and the gate report them)."""
    from gatekeeper.adapters.rfcstore import open_store
    from gatekeeper.domain import RfcStatus

    plans = RfcPlans()
    system = system or ctx.config.system.id
    if entries is None:
        entries = list(open_store(ctx.repo_root, ctx.config, ctx.runtime.env).entries())
    for entry in entries:
        rfc = entry.rfc
        if rfc is None or system not in rfc.systems or rfc.status not in (RfcStatus.ACTIVE, RfcStatus.CLOSED):
            continue
        if rfc.schedule.requested_at is not None:
            plans.due[entry.id] = rfc.schedule.requested_at
        if rfc.tests is not None and rfc.tests.planned:
            plans.planned[entry.id] = {str(kind): count for kind, count in rfc.tests.planned.items()}
    return plans


def commit_times(root: Path) -> Callable[[str], datetime | None]:
    """sha -> committer time, read lazily from one `git log` over all commits when first asked."""
    table: dict[str, datetime] = {}
    looked_up: dict[str, datetime | None] = {}
    loaded = False

    def lookup(sha: str) -> datetime | None:
        nonlocal loaded
        if not loaded:
            loaded = True
            from gatekeeper.adapters.git import git
            from gatekeeper.errors import GitError

            try:
                text = git(root, "log", "--all", "--format=%H %cI")
            except GitError:
                return None
            for line in text.splitlines():
                full, _, stamp = line.partition(" ")
                table[full] = datetime.fromisoformat(stamp)
        key = sha.lower()
        found = table.get(key)
        if found is None and key not in looked_up:
            if len(key) >= 7:
                found = next((v for k, v in table.items() if k.startswith(key)), None)
            # asked again for every deployment of the commit: searched for once (answers kept apart from
            # the commits, which alone are searched)
            looked_up[key] = found
        return found if found is not None else looked_up.get(key)

    return lookup


def compute(
    ledger: LedgerReader,
    config: Config,
    since: datetime | None,
    until: datetime | None,
    *,
    plans: RfcPlans | None = None,
    commit_time: Callable[[str], datetime | None] | None = None,
    now: datetime | None = None,
    history: History | None = None,
) -> dict[tuple[str, str], Tally]:
    """Tallies of this system: in the database for SQL backends, streamed otherwise. `history`
    (`checks.kpi.kpi_history`) verifies the deployment records' signatures as the gate does."""

    zone = ZoneInfo(config.timezone)
    system = config.system.id
    plans = plans or RfcPlans()
    due, planned, plan = plans.due, plans.planned, config.audit_plan
    tallies = sql_tallies(
        ledger,
        zone,
        system=system,
        since=since,
        until=until,
        commit_time=commit_time,
        due=due,
        planned=planned,
        now=now,
        audit_plan=plan,
        history=history,
    )
    if tallies is None:
        records = ledger.find(system=config.system.id, until=until)
        tallies = tallies_from_records(
            records,
            zone,
            since=since,
            until=until,
            commit_time=commit_time or (lambda _s: None),
            system=system,
            due=due,
            planned=planned,
            now=now,
            audit_plan=plan,
            history=history,
        )
    return {key: tally for key, tally in tallies.items() if key[0] == config.system.id}


def kpi_report(
    ctx: Context, since: datetime | None, until: datetime | None, ledger: LedgerReader
) -> KpiReport:
    history = history_of(ctx, ctx.config, ledger)
    tallies = compute(
        ledger,
        ctx.config,
        since,
        until,
        plans=rfc_plans(ctx),
        commit_time=commit_times(ctx.repo_root),
        now=ctx.runtime.now(),
        history=history,
    )
    return report(tallies, ctx.policy, system=ctx.config.system.id, since=since, until=until, history=history)


def history_of(ctx: Context, config: Config, ledger: LedgerReader) -> History:
    """The history the KPIs of the system `config` describes pair its deployments with: a deployment's
    result counts only where the gate counts it (a forged, unsigned result of a signed deployment counts in
    no KPI). Another system's records are signed by the jobs of the repository its `systems:` entry names
    (`_portfolio.member`), never by this repository's, whose CI identity is left out of the verifier."""
    from gatekeeper.adapters.oidc import Attestor, without_job_repository
    from gatekeeper.checks.kpi import kpi_history
    from gatekeeper.rules.deploy import deployment_attestation

    env = ctx.runtime.env
    if config.system.id != ctx.config.system.id:
        env = without_job_repository(env)
    verify = Attestor(config, ctx.repo_root, env, ctx.runtime.now(), ledger=ledger)
    level = deployment_attestation(ctx.policy, config.system.grade)
    return kpi_history(config.system.id, verify, level)


def kpi_portfolio(
    ctx: Context,
    members: Sequence[Member],
    since: datetime | None,
    until: datetime | None,
    ledger: LedgerReader,
) -> KpiPortfolio:
    """Each member's KPIs from its own records (the one computation, `compute`), and their sum. Commit
    times come from this repository's history, so they are looked up for its own system only; the RFCs'
    plans from this repository's store, for the system each RFC names."""
    from gatekeeper.adapters.rfcstore import open_store
    from gatekeeper.commands._portfolio import info

    times = commit_times(ctx.repo_root)
    now = ctx.runtime.now()
    entries = list(open_store(ctx.repo_root, ctx.config, ctx.runtime.env).entries())  # read once
    rows = []
    every: dict[tuple[str, str], Tally] = {}
    for member in members:
        tallies = compute(
            ledger,
            member.config,
            since,
            until,
            plans=rfc_plans(ctx, member.id, entries),
            commit_time=times if member.own else None,
            now=now,
            history=(history := history_of(ctx, member.config, ledger)),
        )
        every.update(tallies)
        found = report(tallies, ctx.policy, system=member.id, since=since, until=until, history=history)
        rows.append((info(member), found))
    total = report(every, ctx.policy, system="", since=since, until=until)
    return KpiPortfolio(since, until, tuple(rows), total)
