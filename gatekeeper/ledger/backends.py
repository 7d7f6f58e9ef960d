"""The ledger backends, chosen by `ledger.backend` in the configuration (an explicit registry)."""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Mapping
from pathlib import Path

from gatekeeper.config import Config
from gatekeeper.config.models import GitLedgerConfig, PostgresLedgerConfig, SqliteLedgerConfig
from gatekeeper.ledger import Ledger, VerifyResult
from gatekeeper.ledger.anchor import Head, ledger_head
from gatekeeper.messages import msg

Opener = Callable[[Config, Path, Mapping[str, str]], Ledger]


def _git(config: Config, root: Path, env: Mapping[str, str]) -> Ledger:
    from gatekeeper.ledger.git import open_git

    settings = config.ledger
    assert isinstance(settings, GitLedgerConfig)
    return open_git(
        root,
        branch=settings.branch,
        remote=settings.remote,
        repository=settings.repository,
        retries=settings.push_retries,
        env=env,
    )


def _sqlite(config: Config, root: Path, env: Mapping[str, str]) -> Ledger:
    from gatekeeper.ledger.sqlite import SqliteLedger

    settings = config.ledger
    assert isinstance(settings, SqliteLedgerConfig)
    return SqliteLedger(root / settings.path)


def _postgres(config: Config, root: Path, env: Mapping[str, str]) -> Ledger:
    from gatekeeper.ledger.postgres import open_postgres

    settings = config.ledger
    assert isinstance(settings, PostgresLedgerConfig)
    return open_postgres(settings.dsn_env, settings.schema_name, env)


BACKENDS: dict[str, Opener] = {"git": _git, "sqlite": _sqlite, "postgres": _postgres}


def ledger_identity(config: Config, root: Path, env: Mapping[str, str]) -> str:
    """A name for the configured ledger that tells ledgers apart on one machine and holds no secret."""
    settings = config.ledger
    if isinstance(settings, SqliteLedgerConfig):
        return f"sqlite:{(root / settings.path).resolve()}"
    if isinstance(settings, PostgresLedgerConfig):
        # The DSN holds the password: only a digest of it goes into the name.
        dsn = hashlib.sha256(env.get(settings.dsn_env, "").encode("utf-8")).hexdigest()
        return f"postgres:{dsn}:{settings.schema_name}"
    assert isinstance(settings, GitLedgerConfig)
    where = settings.repository or str(root.resolve())
    return f"git:{where}:{settings.remote or ''}:{settings.branch}"


def open_ledger(config: Config, root: Path, env: Mapping[str, str]) -> Ledger:
    """The configured ledger; paths are relative to `root` (the folder of the configuration file)."""
    from gatekeeper.adapters.ci import in_ci

    if in_ci(env):
        refuse_work_tree_ledger(config, root)
    return BACKENDS[config.ledger.backend](config, root, env)


def _work_tree(root: Path) -> Path:
    """The top folder of the repository holding `root` (the folder with `.git`), or `root` itself."""
    resolved = root.resolve()
    for folder in (resolved, *resolved.parents):
        if (folder / ".git").exists():
            return folder
    return resolved


def refuse_work_tree_ledger(config: Config, root: Path) -> None:
    """In CI a ledger inside the job's work tree is refused: the change under deployment can put any file
    there (a forged ledger it commits), and what the job writes there is gone with the job."""
    from gatekeeper.errors import ConfigError

    settings = config.ledger
    if isinstance(settings, SqliteLedgerConfig):
        key, where = "ledger.path", root / settings.path
    elif isinstance(settings, GitLedgerConfig) and settings.repository and "://" not in settings.repository:
        key, where = "ledger.repository", root / settings.repository
    else:
        return
    top = _work_tree(root)
    if where.resolve().is_relative_to(top):
        raise ConfigError(
            msg(
                "{key} {where} lies inside the repository's work tree {top}: in CI the change "
                "under deployment could supply that ledger, and what the job writes there is "
                "lost with the job",
                key=key,
                where=where,
                top=top,
            ),
            hint=msg(
                "keep the ledger outside the work tree: the git backend on the repository's own "
                "remote (`ledger: {backend: git}`), PostgreSQL, or a path on the runner outside "
                "the checkout"
            ),
        )


def verify_thoroughly(ledger: Ledger) -> VerifyResult:
    """The whole chain, and what else the backend can check beside it (SQLite: every look-up column
    recomputed from its record): the auditor's verification, where the gate's is the chain alone."""
    from gatekeeper.ledger.sqlite import SqliteLedger

    return ledger.verify(columns=True) if isinstance(ledger, SqliteLedger) else ledger.verify()


def verify_configured(config: Config, root: Path, env: Mapping[str, str]) -> VerifyResult:
    """Open the configured ledger and verify it thoroughly (runs in a worker process, see `audit`)."""
    ledger = open_ledger(config, root, env)
    try:
        return verify_thoroughly(ledger)
    finally:
        ledger.close()


def configured_head(config: Config, root: Path, env: Mapping[str, str]) -> Head:
    """The head (seq and hash of the last record) of the configured ledger, to record outside it: in an
    audit report, a job summary, a deployment status (`gatekeeper ledger verify --anchor` checks it)."""
    ledger = open_ledger(config, root, env)
    try:
        return ledger_head(ledger)
    finally:
        ledger.close()
