"""The KPI report of a period, read from the ledger: for `kpi` and for the audit's HTML report."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from gatekeeper.checks.kpi import KpiReport, Tally, report, sql_tallies, tallies_from_records
from gatekeeper.commands import Context
from gatekeeper.config import Config
from gatekeeper.ledger import LedgerReader
from gatekeeper.reporters.portfolio import KpiPortfolio

if TYPE_CHECKING:
    from gatekeeper.commands._portfolio import Member


def requested_dates(ctx: Context) -> dict[str, datetime]:
    """RFC id -> requested date/time, for the change on-time rate. Unreadable RFCs are skipped here (the
    `rfc validate` command and the gate report them)."""
    from gatekeeper.adapters.rfcstore import open_store

    out: dict[str, datetime] = {}
    for entry in open_store(ctx.repo_root, ctx.config, ctx.runtime.env).entries():
        if entry.rfc is not None and entry.rfc.schedule.requested_at is not None:
            out[entry.id] = entry.rfc.schedule.requested_at
    return out


def commit_times(root: Path) -> Callable[[str], datetime | None]:
    """sha -> committer time, read lazily from one `git log` over all commits when first asked."""
    table: dict[str, datetime] = {}
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
        found = table.get(sha.lower())
        if found is None and len(sha) >= 7:
            found = next((v for k, v in table.items() if k.startswith(sha.lower())), None)
        return found

    return lookup


def compute(
    ledger: LedgerReader,
    config: Config,
    since: datetime | None,
    until: datetime | None,
    *,
    due: Mapping[str, datetime] | None = None,
    commit_time: Callable[[str], datetime | None] | None = None,
) -> dict[tuple[str, str], Tally]:
    """Tallies of this system: in the database for SQL backends, streamed otherwise."""

    zone = ZoneInfo(config.timezone)
    system = config.system.id
    tallies = sql_tallies(
        ledger, zone, system=system, since=since, until=until, due=due, commit_time=commit_time
    )
    if tallies is None:
        records = ledger.find(system=config.system.id, until=until)
        tallies = tallies_from_records(
            records, zone, since=since, until=until, due=due, commit_time=commit_time or (lambda _s: None)
        )
    return {key: tally for key, tally in tallies.items() if key[0] == config.system.id}


def kpi_report(
    ctx: Context, since: datetime | None, until: datetime | None, ledger: LedgerReader
) -> KpiReport:
    tallies = compute(
        ledger, ctx.config, since, until, due=requested_dates(ctx), commit_time=commit_times(ctx.repo_root)
    )
    return report(tallies, ctx.policy, system=ctx.config.system.id, since=since, until=until)


def kpi_portfolio(
    ctx: Context,
    members: Sequence[Member],
    since: datetime | None,
    until: datetime | None,
    ledger: LedgerReader,
) -> KpiPortfolio:
    """Each member's KPIs from its own records (the one computation, `compute`), and their sum. Commit
    times come from this repository's history, so they are looked up for its own system only."""
    from gatekeeper.commands._portfolio import info

    due = requested_dates(ctx)
    times = commit_times(ctx.repo_root)
    rows = []
    every: dict[tuple[str, str], Tally] = {}
    for member in members:
        tallies = compute(
            ledger, member.config, since, until, due=due, commit_time=times if member.own else None
        )
        every.update(tallies)
        rows.append((info(member), report(tallies, ctx.policy, system=member.id, since=since, until=until)))
    total = report(every, ctx.policy, system="", since=since, until=until)
    return KpiPortfolio(since, until, tuple(rows), total)
