"""`gatekeeper audit [--since D] [--until D] [--html F] [--hwpx F]`: the SOP checklist, 적합/부적합 per item.

Gathers the facts (ledger stream, RFC files, commits of the period, the baseline diff, the hash chain),
answers the checklist (`gatekeeper.checks.audit`), records the run as `audit.run` (it feeds the
audit-execution-rate
KPI) and prints it; `--html` also writes the self-contained report, `--hwpx` the same report as a 한글
document. Exit 1 on any nonconformity.
"""

from __future__ import annotations

import argparse
import contextlib
import json
from collections.abc import Callable, Iterable, Iterator, Sequence
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

from gatekeeper.checks.audit import (
    NONCONFORM,
    AuditBuilder,
    AuditResult,
    checklist,
    run_record_data,
)
from gatekeeper.commands import Context
from gatekeeper.commands._options import add_period, period
from gatekeeper.commands._records import append
from gatekeeper.config.models import Config
from gatekeeper.domain import Grade, RecordKind, Role
from gatekeeper.domain.baseline import DriftFacts
from gatekeeper.domain.calendar import BusinessCalendar
from gatekeeper.domain.rfc import RfcEntry
from gatekeeper.errors import InputError, LedgerIntegrityError, UsageError
from gatekeeper.facts.baseline import baseline_judge, gather_drift
from gatekeeper.facts.commits import JudgedCommit
from gatekeeper.ledger import Draft, Ledger, LedgerReader, VerifyResult
from gatekeeper.messages import msg, pmsg, ptr, tr
from gatekeeper.reporters.columns import pad
from gatekeeper.reporters.portfolio import AuditPortfolio
from gatekeeper.reporters.sanitize import for_log, for_markdown

if TYPE_CHECKING:
    from gatekeeper.commands._portfolio import Member

RESULT_WORDS = {
    "conform": pmsg("audit result", "conform"),
    "nonconform": pmsg("audit result", "NONCONFORM"),
    "not-applicable": pmsg("audit result", "n/a"),
}
AREA_WORDS = {
    "change": msg("Change management"),
    "release": msg("Release management"),
    "test": msg("Test management"),
    "configuration": msg("Configuration management"),
}


def configure(parser: argparse.ArgumentParser) -> None:
    from gatekeeper.commands._portfolio import add_system_option

    add_period(parser)
    add_system_option(parser)
    parser.add_argument("--html", metavar="FILE", help="also write the self-contained HTML report to FILE")
    parser.add_argument(
        "--hwpx",
        metavar="FILE",
        help="also write the report as an HWPX (한글) document to FILE (needs sop-gatekeeper[hwpx])",
    )
    parser.add_argument(
        "--no-record", action="store_true", help="do not record the run in the ledger (dry run)"
    )


def rfc_contents(ctx: Context) -> dict[str, RfcEntry]:
    """Every RFC of the store, valid or not (the audit runs the gate's RFC rules over them)."""
    from gatekeeper.adapters.rfcstore import open_store

    return {entry.id: entry for entry in open_store(ctx.repo_root, ctx.config, ctx.runtime.env).entries()}


def commits_of_period(ctx: Context, since: datetime | None, until: datetime | None) -> Iterator[JudgedCommit]:
    """Commits reachable from HEAD committed in the period (one streaming `git log`), without the history
    before the adoption point (`facts.adoption`), each judged by the commit rules (`facts.commits`)."""
    from gatekeeper.adapters.git import iter_commits
    from gatekeeper.adapters.rfcstore import open_store
    from gatekeeper.facts.adoption import governed_revisions, known_adoption_commit
    from gatekeeper.facts.commits import CommitJudge

    root, adoption = ctx.repo_root, ctx.config.adoption
    if adoption is not None:
        known_adoption_commit(root, adoption)
    store = open_store(root, ctx.config, ctx.runtime.env)
    judge = CommitJudge(ctx.config, ctx.policy, store.get, ctx.runtime.now(), ctx.lang, root=root)
    revisions = [*governed_revisions(adoption, ["HEAD"])]
    if since is not None:
        revisions.append(f"--since={since.isoformat()}")
    if until is not None:
        revisions.append(f"--until={until.isoformat()}")
    for commit in iter_commits(root, revisions):
        yield judge.judge_commit(commit)


# Starting a worker process costs about what verifying this many records does.
VERIFY_IN_WORKER_FROM = 50_000


@contextlib.contextmanager
def _chain_verified_elsewhere(ctx: Context, ledger: Ledger) -> Iterator[Callable[[], VerifyResult]]:
    """The whole-chain verification in a worker process, so hashing runs on another core while the checklist
    is built from the database's answers; yields a function that waits for its result. Should the worker fail
    in any way, the chain is verified here instead, which reports any error the usual way. A small ledger
    is verified here, when the caller waits."""
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    from gatekeeper.ledger.backends import verify_configured

    here = ledger.verify
    try:
        head = ledger.head()
    except LedgerIntegrityError:  # a last record it cannot read: verifying here reports it
        head = None
    if head is None or head.seq < VERIFY_IN_WORKER_FROM:
        yield here
        return
    try:
        # spawn, not fork: the process already runs threads that hold database connections.
        pool = ProcessPoolExecutor(max_workers=1, mp_context=multiprocessing.get_context("spawn"))
        future = pool.submit(verify_configured, ctx.config, ctx.repo_root, dict(ctx.runtime.env))
    except (OSError, RuntimeError):
        yield here
        return

    def wait() -> VerifyResult:
        try:
            result = future.result()
        except Exception:  # a worker that could not run or report: verify in this process
            return here()
        return result if isinstance(result, VerifyResult) else here()

    try:
        yield wait
    finally:
        pool.shutdown(wait=True, cancel_futures=True)


def _members(config: Config) -> dict[Role, frozenset[str]] | None:
    """Who holds each role by the configuration; None when a role names a team or group, which only the
    platform can expand (the debts settled at the end then count anyone's rejection)."""
    from gatekeeper.facts.gather import role_members

    try:
        return role_members(config.roles)
    except InputError:
        return None


def _builder(
    ctx: Context,
    ledger: LedgerReader,
    config: Config,
    rfcs: dict[str, RfcEntry],
    since: datetime | None,
    until: datetime | None,
    members: dict[Role, frozenset[str]] | None,
) -> AuditBuilder:
    """An empty checklist builder for the system `config` describes."""
    from gatekeeper.adapters.oidc import Attestor, refusal_of, without_job_repository

    env = ctx.runtime.env
    if config.system.id != ctx.config.system.id:  # another system's, signed by its own repository's jobs
        env = without_job_repository(env)
    attestor = Attestor(config, ctx.repo_root, env, ctx.runtime.now(), ledger=ledger)
    return AuditBuilder(
        ctx.policy,
        Grade(config.system.grade),
        ctx.runtime.now(),
        rfcs,
        since,
        until,
        ctx.lang,
        calendar=BusinessCalendar.from_config(config, ctx.policy),
        system=config.system.id,
        attest=attestor,
        explain=refusal_of(attestor),
        members=members,
        environments=config.declared_environments(),
    )


def _drift(ctx: Context, ledger: Ledger) -> DriftFacts:
    from gatekeeper.adapters.oidc import Attestor
    from gatekeeper.rules.deploy import deployment_attestation

    attest = Attestor(ctx.config, ctx.repo_root, ctx.runtime.env, ctx.runtime.now(), ledger=ledger)
    level = deployment_attestation(ctx.policy, ctx.config.system.grade)
    judge = baseline_judge(ctx.policy, ctx.config.system.grade, _members(ctx.config), attest)
    try:
        return gather_drift(ctx.repo_root, ctx.config, ledger, "HEAD", attest, level, judge)
    except LedgerIntegrityError as exc:  # the checklist goes on: its baseline item cannot be answered
        return DriftFacts(None, len(ctx.config.baseline.items), exc.message)


def gather_and_check(
    ctx: Context, ledger: Ledger, since: datetime | None, until: datetime | None
) -> tuple[AuditResult, DriftFacts]:
    from gatekeeper.checks.audit import KINDS
    from gatekeeper.ledger.sql_read import prepare

    config = ctx.config
    # A SQL backend answers most of the checklist from what its database extracts. Its query starts first,
    # so the database works while the RFCs load; its answers count only when the chain verified, which
    # vouches for the records' shape (checked when each was written). The chain is verified in a worker
    # process meanwhile. Any other ledger, or a chain that does not verify, is read record by record.
    prepared = prepare(ledger, system=config.system.id, kinds=KINDS, until=until)
    try:
        rfcs = rfc_contents(ctx)

        def builder_() -> AuditBuilder:
            return _builder(ctx, ledger, config, rfcs, since, until, _members(config))

        builder = builder_()
        if prepared is None:
            chain, fed = ledger.verify(), False
        else:
            with _chain_verified_elsewhere(ctx, ledger) as pending:
                fed = prepared.feed(builder.feed_events)
                chain = pending()
            fed = fed and chain.ok
    finally:
        if prepared is not None:
            prepared.close()
    if not fed:
        builder = builder_()
        builder.feed(ledger.find(system=config.system.id, until=until))
    drift = _drift(ctx, ledger)
    result = checklist(
        builder,
        system=config.system.id,
        commits=commits_of_period(ctx, since, until),
        drift=drift,
        chain=chain,
    )
    return result, drift


def portfolio_check(
    ctx: Context, ledger: Ledger, members: Sequence[Member], since: datetime | None, until: datetime | None
) -> tuple[AuditPortfolio, DriftFacts | None]:
    """The checklist of each member, on its own records only, by the one definition (`checks.audit`);
    the chain is verified once for all. The commits of the period and the baseline are this repository's,
    so they answer for its own system only; the drift is returned for its `audit.run` record."""
    from gatekeeper.checks.audit import feed_from_database
    from gatekeeper.commands._portfolio import info

    rfcs = rfc_contents(ctx)
    chain = ledger.verify()
    rows = []
    own_drift: DriftFacts | None = None
    for member in members:
        config = member.config
        roles = _members(config) if config.roles else None  # unknown holders: anyone's rejection counts

        def builder_(
            config: Config = config, roles: dict[Role, frozenset[str]] | None = roles
        ) -> AuditBuilder:
            return _builder(ctx, ledger, config, rfcs, since, until, roles)

        builder = builder_()
        if not (chain.ok and feed_from_database(builder, ledger, member.id)):
            builder = builder_()  # what a stopped reading fed is thrown away
            builder.feed(ledger.find(system=member.id, until=until))
        drift: DriftFacts | None = None
        commits: Iterable[JudgedCommit] = ()
        if member.own:
            drift = own_drift = _drift(ctx, ledger)
            commits = commits_of_period(ctx, since, until)
        result = checklist(builder, system=member.id, commits=commits, drift=drift, chain=chain)
        rows.append((info(member), result))
    return AuditPortfolio(since, until, tuple(rows)), own_drift


def _run_portfolio(args: argparse.Namespace, ctx: Context, html_path: Path | None) -> int:
    """`audit --system ...`: the organisation report. Only this configuration's own system, when it is
    among those audited, gets its `audit.run` record: a run from one repository never counts as another
    system's audit (the audit-execution-rate KPI)."""
    from zoneinfo import ZoneInfo

    from gatekeeper.commands._kpi import kpi_portfolio
    from gatekeeper.commands._portfolio import select
    from gatekeeper.ledger.backends import open_ledger
    from gatekeeper.reporters.portfolio import audit_markdown, audit_text, render_html

    since, until = period(args, ctx.config)
    zone = ZoneInfo(ctx.config.timezone)
    ledger = open_ledger(ctx.config, ctx.repo_root, ctx.runtime.env)
    try:
        members = select(ctx.config, ledger, args.system)
        portfolio, drift = portfolio_check(ctx, ledger, members, since, until)
        seq = None
        own = [result for system, result in portfolio.rows if system.own]
        if own and not args.no_record:
            seq = _record(ctx, ledger, own[0], drift or DriftFacts(None, 0))
        if html_path is not None:
            kpis = kpi_portfolio(ctx, members, since, until, ledger)
            page = render_html(portfolio, kpis, lang=ctx.lang, generated=ctx.runtime.now(), zone=zone)
            html_path.write_text(page, encoding="utf-8")
    finally:
        ledger.close()
    if ctx.output_format == "json":
        body = portfolio.as_dict()
        if seq is not None:
            body["audit_run_seq"] = seq
        ctx.out(json.dumps(body, ensure_ascii=False, indent=2))
    elif ctx.output_format == "markdown":
        ctx.out(audit_markdown(portfolio, ctx.lang, zone))
    else:
        ctx.runtime.stdout.write(audit_text(portfolio, ctx.lang, zone))
    return 0 if portfolio.ok else 1


def _counted(counts: dict[str, int], lang: str) -> str:
    return tr(
        lang,
        "{conform} conform, {nonconform} nonconform, {not_applicable} not applicable",
        conform=counts["conform"],
        nonconform=counts["nonconform"],
        not_applicable=counts["not-applicable"],
    )


def render_text(result: AuditResult, lang: str) -> str:
    words = {key: word.said(lang) for key, word in RESULT_WORDS.items()}
    areas = {key: area.said(lang) for key, area in AREA_WORDS.items()}
    lines = [tr(lang, "SOP audit checklist — {system}", system=for_log(result.system))]
    area = ""
    for item in result.items:
        if item.area != area:
            area = item.area
            lines.append(f"{areas[area]}")
        mark = {"conform": "✓", "nonconform": "✗", "not-applicable": "-"}[item.result]
        lines.append(f"  {mark} {pad(words[item.result], 10)} {item.id} [{item.sop}]")
        lines.append(f"      {item.question}")
        if item.result == NONCONFORM:
            for ref, note in zip(item.evidence, item.notes, strict=False):
                lines.append(f"      · {ref}: {for_log(note)}")
    lines.append(_counted(result.counts(), lang))
    return "\n".join(lines) + "\n"


def render_markdown(result: AuditResult, lang: str) -> str:
    words = {key: word.said(lang) for key, word in RESULT_WORDS.items()}
    areas = {key: area.said(lang) for key, area in AREA_WORDS.items()}
    head = [
        ptr(lang, "audit table", "Area"),
        ptr(lang, "audit table", "Question"),
        ptr(lang, "audit table", "Result"),
        ptr(lang, "audit table", "Evidence"),
    ]
    lines = [
        tr(lang, "### SOP audit checklist: {system}", system=for_markdown(result.system)),
        "",
        "| " + " | ".join(head) + " |",
        "|---|---|---|---|",
    ]
    for item in result.items:
        mark = {"conform": "✅", "nonconform": "⛔", "not-applicable": "➖"}[item.result]
        shown = item.evidence[:10] if item.result == NONCONFORM else item.evidence[:3]
        evidence = " ".join(f"`{for_log(e)}`" for e in shown)
        if len(item.evidence) > len(shown):
            evidence += f" … (+{len(item.evidence) - len(shown)})"
        lines.append(
            f"| {areas[item.area]} | {for_markdown(item.question)} ({item.sop}) "
            f"| {mark} {words[item.result]} "
            f"| {evidence} |"
        )
    lines += ["", _counted(result.counts(), lang)]
    return "\n".join(lines) + "\n"


def _record(ctx: Context, ledger: Ledger, result: AuditResult, drift: DriftFacts) -> int:
    from gatekeeper.adapters.ci.context import detect_ci

    ci = detect_ci(ctx.runtime.env, ctx.runtime.cwd)
    draft = Draft(
        kind=RecordKind.AUDIT_RUN.value,
        system=ctx.config.system.id,
        actor=ci.actor,
        actor_source=str(ci.actor_source),
        at=ctx.runtime.now(),
        data=run_record_data(result, drift),
    )
    return append(ctx, ledger, draft).seq


def _reports(
    ctx: Context,
    ledger: Ledger,
    result: AuditResult,
    drift: DriftFacts,
    since: datetime | None,
    until: datetime | None,
    html_path: Path | None,
    hwpx_path: Path | None,
) -> None:
    """The audit report (`gatekeeper.reporters.audit_report`): self-contained HTML, and/or HWPX with the
    ledger head it was made from."""
    from zoneinfo import ZoneInfo

    from gatekeeper.commands._kpi import kpi_report
    from gatekeeper.reporters.audit_report import AuditReport, audit_form, deployment_rows, render_audit_html

    if html_path is None and hwpx_path is None:
        return
    zone = ZoneInfo(ctx.config.timezone)
    rows, truncated = deployment_rows(ledger, ctx.config.system.id, since, until, zone)
    system = ctx.config.system
    report = AuditReport(
        result,
        kpi_report(ctx, since, until, ledger),
        rows,
        truncated,
        drift,
        lang=ctx.lang,
        system_name=system.name,
        grade=int(system.grade),
        generated=ctx.runtime.now().astimezone(zone),
        zone=zone,
    )
    if html_path is not None:
        page = render_audit_html(report)
        html_path.write_text(page, encoding="utf-8")
    if hwpx_path is not None:
        from gatekeeper.ledger.anchor import ledger_head
        from gatekeeper.reporters.forms import system_letterhead, when
        from gatekeeper.reporters.hwpx import write_hwpx

        form = audit_form(report)
        head = system_letterhead(
            ctx.lang,
            name=system.name,
            ident=system.id,
            grade=system.grade,
            agency=system.agency,
            head=str(ledger_head(ledger)),
        )
        write_hwpx(form, hwpx_path, lang=ctx.lang, generated=when(report.generated, zone), letterhead=head)


def _target(ctx: Context, name: str | None) -> Path | None:
    """A report file to write (relative to the working directory), in a folder that exists."""
    if name is None:
        return None
    path = Path(name)
    if not path.is_absolute():
        path = ctx.runtime.cwd / path
    if not path.parent.is_dir():
        raise InputError(
            msg("cannot write {path}: the folder does not exist", path=path),
            hint=msg("create it or pick another path"),
        )
    return path


def run(args: argparse.Namespace, ctx: Context) -> int:
    from gatekeeper.ledger.backends import open_ledger

    since, until = period(args, ctx.config)
    html_path, hwpx_path = _target(ctx, args.html), _target(ctx, args.hwpx)
    if args.system:
        if hwpx_path is not None:
            raise UsageError(
                msg("--hwpx writes one system's audit report: not with --system"),
                hint=msg(
                    "run `gatekeeper audit --hwpx FILE` in each system's repository; `--system` "
                    "reports the organisation with --html"
                ),
            )
        return _run_portfolio(args, ctx, html_path)
    if hwpx_path is not None:
        from gatekeeper.reporters.hwpx import require

        require()  # before the run is recorded
    ledger = open_ledger(ctx.config, ctx.repo_root, ctx.runtime.env)
    try:
        result, drift = gather_and_check(ctx, ledger, since, until)
        seq = None if args.no_record else _record(ctx, ledger, result, drift)
        _reports(ctx, ledger, result, drift, since, until, html_path, hwpx_path)
    finally:
        ledger.close()
    if ctx.output_format == "json":
        body = result.as_dict()
        if seq is not None:
            body["audit_run_seq"] = seq
        ctx.out(json.dumps(body, ensure_ascii=False, indent=2))
    elif ctx.output_format == "markdown":
        ctx.out(render_markdown(result, ctx.lang))
    else:
        ctx.runtime.stdout.write(render_text(result, ctx.lang))
    if not args.no_record:  # a dry run tells nobody
        from gatekeeper.commands._notify import notify
        from gatekeeper.domain.notification import audit_events

        items = [(item.id, item.result, item.evidence) for item in result.items]
        notify(ctx, lambda: audit_events(items, system=result.system, at=ctx.runtime.now()))
    return 0 if result.ok else 1
