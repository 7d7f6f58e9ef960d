"""The gate's request and sources, shared by `gate`, `deploy start` and `approve`."""

from __future__ import annotations

import argparse
from datetime import datetime
from pathlib import Path
from typing import Any

from gatekeeper.checks.gate import evaluate
from gatekeeper.commands import Context
from gatekeeper.domain import EvidenceKind, Outcome
from gatekeeper.errors import GatekeeperError, UsageError
from gatekeeper.facts.gather import DEFAULT_ENVIRONMENT, GateRequest, Sources, gather
from gatekeeper.messages import msg


def add_gate_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--env", dest="environment", default=DEFAULT_ENVIRONMENT, help="target environment")
    parser.add_argument("--rfc", dest="rfc_ids", nargs="+", default=[], metavar="ID", help="RFCs deployed")
    parser.add_argument("--at", metavar="TIME", help="evaluate at this time (ISO 8601 with offset)")
    parser.add_argument(
        "--evidence",
        nargs="+",
        default=[],
        metavar="[KIND=]GLOB",
        help="extra test reports (KIND: unit, integration, performance, acceptance; default unit)",
    )
    parser.add_argument(
        "--artifact",
        dest="artifacts",
        action="append",
        default=[],
        metavar="[NAME=]FILE",
        help="an artefact being deployed: its SHA-256 must be the one the release approvals name for NAME "
        "(default: the file name), where they name one (repeatable)",
    )


def parse_evidence(values: list[str]) -> tuple[tuple[EvidenceKind, str], ...]:
    out = []
    for value in values:
        kind, sep, pattern = value.partition("=")
        if not sep:
            kind, pattern = "unit", value
        try:
            out.append((EvidenceKind(kind), pattern))
        except ValueError:
            allowed = ", ".join(k.value for k in EvidenceKind)
            raise UsageError(
                msg("--evidence {value!r}: unknown kind {kind!r}", value=value, kind=kind),
                hint=msg("use one of {allowed}", allowed=allowed),
            ) from None
    return tuple(out)


def request_from(args: argparse.Namespace, cwd: Path) -> GateRequest:
    from gatekeeper.commands._options import parse_at
    from gatekeeper.facts.baseline import artifact_digests

    at: datetime | None = parse_at(args.at) if args.at else None
    return GateRequest(
        environment=args.environment,
        rfc_ids=tuple(dict.fromkeys(args.rfc_ids)),
        at=at,
        evidence=parse_evidence(args.evidence),
        artifacts=artifact_digests(args.artifacts, cwd),  # read before anything is decided or written
    )


def _platform_sources(ctx: Context, environment: str) -> tuple[Any, Any, Any]:
    """The role resolver, approval hook and commit-login look-up of the platform the job runs on (all None
    locally or without a token). A platform that cannot be set up fails closed: all three then raise, and
    the gate reports `gate.error` naming the failure instead of deciding without the platform's facts."""
    import importlib

    from gatekeeper.adapters.ci import ci_platform

    env = ctx.runtime.env
    platform = ci_platform(env)
    if not platform.api:
        return None, None, None
    steps = [str(step) for step in ctx.policy.approvals.steps]
    try:
        module = importlib.import_module(f"gatekeeper.adapters.platforms.{platform.api}")
        found = module.gate_sources(ctx.config, env, ctx.repo_root, ctx.runtime.now(), environment, steps)
        return found if found is not None else (None, None, None)
    except GatekeeperError as exc:
        failure = exc

        def failing(*_args: object) -> Any:
            raise failure

        return failing, failing, failing


def sources_for(ctx: Context, environment: str = DEFAULT_ENVIRONMENT) -> Sources:
    def open_reader():  # type: ignore[no-untyped-def]
        from gatekeeper.ledger.backends import open_ledger

        return open_ledger(ctx.config, ctx.repo_root, ctx.runtime.env)

    from gatekeeper.ledger.backends import ledger_identity
    from gatekeeper.ledger.checkpoint import CheckpointFile

    resolver, approvals, logins = _platform_sources(ctx, environment)
    identity = ledger_identity(ctx.config, ctx.repo_root, ctx.runtime.env)
    return Sources(
        root=ctx.repo_root,
        env=ctx.runtime.env,
        ledger=open_reader,
        role_resolver=resolver,
        platform_approvals=approvals,
        commit_logins=logins,
        checkpoints=CheckpointFile.for_ledger(identity, ctx.runtime.env),
        config_file=ctx.config_path.name,
    )


def run_gate(args: argparse.Namespace, ctx: Context) -> Outcome:
    request = request_from(args, ctx.runtime.cwd)
    environment = ctx.config.declared_environments().resolve(request.environment).name  # exit 2 if undeclared
    facts = gather(ctx.config, ctx.policy, request, sources_for(ctx, environment), ctx.runtime.now())
    return evaluate(facts, ctx.lang)
