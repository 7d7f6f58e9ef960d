"""`gatekeeper window [--at T] [--type normal|standard|emergency] [--next]`.

Is a deployment of this system allowed at T (default: now), why not, and when is the next allowed start.
With `--next` the answer is about the next allowed start itself. Exit code (one meaning): 0 when a
deployment is allowed at the time the output names, 1 when it is not.
"""

from __future__ import annotations

import argparse

from gatekeeper.commands import Context
from gatekeeper.commands._options import parse_at
from gatekeeper.messages import in_language, tr


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--at", metavar="TIME", help="the time to ask about (ISO 8601 with offset; default: now)"
    )
    parser.add_argument(
        "--type", dest="change_type", choices=["normal", "standard", "emergency"], default="normal"
    )
    parser.add_argument("--next", action="store_true", help="answer for the next allowed start")


def run(args: argparse.Namespace, ctx: Context) -> int:
    from gatekeeper.domain import ChangeType, Grade, Outcome, Severity
    from gatekeeper.domain.calendar import BusinessCalendar
    from gatekeeper.rules import RuleContext
    from gatekeeper.rules.window import check_window, window_facts

    at = parse_at(args.at) if args.at else ctx.runtime.now()
    config, policy = ctx.config, ctx.policy
    grade, change_type = Grade(config.system.grade), ChangeType(args.change_type)
    calendar = BusinessCalendar.from_config(config, policy)
    facts = window_facts(calendar, at, change_type, grade)
    asked = at
    if args.next and facts.next_allowed != at:
        at = facts.next_allowed
        facts = window_facts(calendar, at, change_type, grade)
    findings = check_window(facts, RuleContext(policy, grade, change_type, at, ctx.lang))
    outcome = Outcome(
        system=config.system.id,
        grade=int(grade),
        change_type=str(change_type),
        findings=tuple(findings),
        extra={
            "at": at.isoformat(),
            "asked": asked.isoformat(),
            "local": facts.local.isoformat(),
            "timezone": facts.timezone,
            "business_day": facts.day.business,
            "day": in_language(ctx.lang, facts.day.reason_en, facts.day.reason_ko),
            "in_business_hours": facts.in_business_hours,
            "freezes": [hit.name for hit in facts.freezes],
            "allowed": not any(f.severity is Severity.ERROR for f in findings),
            "next_allowed": facts.next_allowed.isoformat(),
        },
    )
    code = ctx.emit(outcome)  # the decision at `at`, with or without --next
    if ctx.output_format == "text":
        day = in_language(ctx.lang, facts.day.reason_en, facts.day.reason_ko)
        when = f"{facts.local:%Y-%m-%d %H:%M} {facts.timezone}"
        ctx.out(
            tr(
                ctx.lang,
                "{when} ({day}); next allowed: {next}",
                when=when,
                day=day,
                next=facts.next_allowed.isoformat(),
            )
        )
    return code
