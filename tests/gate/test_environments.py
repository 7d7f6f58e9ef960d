"""Declared environments (`domain.environments`, `environments:` in .gatekeeper.yml) and the lock that reads
recorded names canonically."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from gatekeeper.config import load_config, load_policy
from gatekeeper.domain.environments import (
    DEFAULT_ENVIRONMENTS,
    EnvironmentKind,
    Environments,
    normalise,
)
from gatekeeper.errors import ConfigError, InputError
from gatekeeper.ledger.lock import DeploymentLocked, require_unlocked, started_draft
from gatekeeper.ledger.sqlite import SqliteLedger
from gatekeeper.resources import policies_dir
from tests.helpers import GitRepo

NOW = datetime(2026, 11, 24, 11, 0, tzinfo=UTC)
DECLARED = Environments.of(
    [
        ("production", EnvironmentKind.PRODUCTION, ["prod", "운영계"]),
        ("staging", EnvironmentKind.STAGING, ["STG"]),
    ]
)


@pytest.mark.parametrize("given", ["production", "Production", " production\t", "PROD", "운영계", "ｐｒｏｄ"])
def test_every_spelling_of_production_resolves_to_its_canonical_name(given: str) -> None:
    found = DECLARED.resolve(given)
    assert (found.name, found.kind) == ("production", EnvironmentKind.PRODUCTION)


def test_an_undeclared_name_is_an_input_error_naming_the_option_and_the_declared_names() -> None:
    with pytest.raises(InputError) as caught:
        DECLARED.resolve("pr0d", "--env")
    error = caught.value
    assert error.exit_code == 2
    assert "--env 'pr0d'" in error.message and "production (aliases: prod, 운영계), staging" in error.message
    assert "environments:" in error.hint and "선언된 배포 환경이 아닙니다" in error.ko and error.hint_ko


def test_a_long_name_is_cut_in_the_message() -> None:
    with pytest.raises(InputError) as caught:
        DECLARED.resolve("x" * 10_000)
    assert len(caught.value.message) < 300


def test_recorded_names_are_read_canonically_and_unknown_ones_normalised() -> None:
    assert DECLARED.canonical("Prod") == "production"
    assert DECLARED.canonical(" Staging ") == "staging"
    assert DECLARED.canonical("QA") == "qa"  # no longer declared: compared in its normalised form
    assert DECLARED.kind("qa") is EnvironmentKind.PRODUCTION  # the kind with every rule
    assert DECLARED.kind("stg") is EnvironmentKind.STAGING
    assert normalise("  ＰＲＯＤ ") == "prod"


def test_one_name_names_one_environment() -> None:
    with pytest.raises(ValueError, match="names both"):
        Environments.of(
            [
                ("production", EnvironmentKind.PRODUCTION, ["live"]),
                ("dr", EnvironmentKind.PRODUCTION, ["LIVE "]),
            ]
        )


def test_without_environments_production_alone_is_declared(tmp_path: Path) -> None:
    path = tmp_path / ".gatekeeper.yml"
    path.write_text("version: 1\nsystem: {id: s, name: S, grade: 1}\n", encoding="utf-8")
    config = load_config(path)
    assert config.declared_environments() == DEFAULT_ENVIRONMENTS
    assert config.declared_environments().names == ("production",)


@pytest.mark.parametrize(
    ("block", "fragments"),
    [
        ("environments: {}", ["environments", "declare at least one environment"]),
        ("environments: {Production: {kind: production}}", ["environments", "Production"]),
        ("environments: {production: {kind: prod}}", ["environments.production.kind", "'production'"]),
        (
            "environments: {production: {kind: production, aliases: [live]}, dr: {kind: production, "
            "aliases: [Live]}}",
            ["environments", "names both"],
        ),
        ("environments: {production: {kind: production, region: kr}}", ["region", "unknown key"]),
        ("environments: {production: {kind: production, aliases: ['  ']}}", ["only white space"]),
    ],
)
def test_bad_environment_blocks_name_the_key_and_the_fix(
    tmp_path: Path, block: str, fragments: list[str]
) -> None:
    path = tmp_path / ".gatekeeper.yml"
    path.write_text(f"version: 1\nsystem: {{id: s, name: S, grade: 1}}\n{block}\n", encoding="utf-8")
    with pytest.raises(ConfigError) as caught:
        load_config(path)
    message = caught.value.render()
    for fragment in fragments:
        assert fragment in message, message


def test_the_pack_lists_the_rules_of_staging_and_test_and_production_gets_all() -> None:
    policy = load_policy("kr-ap-sop", relative_to=policies_dir())
    staging = policy.rules_in("staging")
    assert staging is not None and "deploy.concurrent" in staging and "gate.error" in staging
    assert "window.business-hours" not in staging and "approval.missing" not in staging
    assert policy.rules_in("production") is None


def test_a_pack_naming_an_unknown_rule_for_an_environment_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "p.yaml"
    path.write_text(
        "version: 1\nname: p\nenvironments: {staging: {rules: [deploy.concurent]}}\n", encoding="utf-8"
    )
    with pytest.raises(ConfigError, match=r"deploy\.concurent"):
        load_policy(str(path))


def test_the_lock_reads_recorded_aliases_as_their_environment(tmp_path: Path) -> None:
    ledger = SqliteLedger(tmp_path / "ledger.db")
    try:
        held = started_draft(
            system="s", rfcs=(), actor="a", actor_source="local", at=NOW, environment=" PROD"
        )
        ledger.append(held)
        with pytest.raises(DeploymentLocked):
            ledger.append(
                started_draft(
                    system="s", rfcs=(), actor="b", actor_source="local", at=NOW, environment="production"
                ),
                require_unlocked("s", "production", now=NOW, canonical=DECLARED.canonical),
            )
        # Another environment keeps its own lock.
        ledger.append(
            started_draft(
                system="s", rfcs=(), actor="b", actor_source="local", at=NOW, environment="staging"
            ),
            require_unlocked("s", "staging", now=NOW, canonical=DECLARED.canonical),
        )
    finally:
        ledger.close()


def test_deploy_finish_needs_no_env_when_the_start_recorded_one(repo: GitRepo) -> None:
    import json

    from tests.acceptance import RFC_ID, TUESDAY_EVENING, build
    from tests.helpers import run_cli

    at = datetime.fromisoformat(TUESDAY_EVENING)
    build(repo, {"config": {"environments": {"prd": {"kind": "production", "aliases": ["운영"]}}}})
    started = run_cli(
        ["--format", "json", "deploy", "start", "--rfc", RFC_ID, "--env", "PRD"], cwd=repo.path, now=at
    )
    assert started.code == 0, started.stdout + started.stderr
    deployment = json.loads(started.stdout)["deployment_id"]
    finished = run_cli(["deploy", "finish", deployment, "--result", "success"], cwd=repo.path, now=at)
    assert finished.code == 0, finished.stderr
    default = run_cli(["gate", "--rfc", RFC_ID], cwd=repo.path, now=at)  # --env defaults to production
    assert default.code == 2 and "declared: prd (aliases: 운영)" in default.stderr
