"""Baselines nobody but their recorder can set (CFG-P1; seed 002 형상관리 1.2: 운영관리자는 베이스라인을
정의한다). `baseline.drift` compares the configuration items with the latest baseline that counts: one the
operator manager (the pack's `baseline.recorded_by`) recorded from a pipeline job of the system's
repository on its protected default branch, signed by the CI platform where the pack requires attestation
(kr-ap-sop: grades 1–2). Through the real CLI, against a real OIDC issuer on 127.0.0.1.

The attacker is a developer with write access who changed a configuration item without an RFC: they can
push records to the ledger, run jobs of their own branch (whose tokens the platform signs) and record on
their workstation. A `baseline.created` of their own that includes the change would hide the drift.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from gatekeeper.adapters.localissuer import LocalIssuer
from gatekeeper.adapters.oidc import sign_record
from gatekeeper.config import load_config
from gatekeeper.facts.baseline import snapshot
from gatekeeper.ledger import Draft
from tests.adversarial.conftest import Recorder
from tests.adversarial.test_attested_approvals import NOW, RFC, World
from tests.helpers import run_cli
from tests.platform.oidc import Jobs

SYSTEM = "minwon-portal"
ITEMS = "baseline:\n  items:\n    - {id: source, kind: source, paths: ['app/**/*.py']}\n"
FEATURE = "refs/heads/feature/quick-fix"


@pytest.fixture
def issuer() -> Iterator[LocalIssuer]:
    with LocalIssuer(clock=lambda: NOW) as running:
        yield running


def _world(tmp_path: Path, issuer: LocalIssuer) -> World:
    """A grade-1 system whose operator manager han recorded baseline 1.0 of HEAD in a job of the default
    branch, and whose developer then changed app/main.py without naming an RFC."""
    world = World(tmp_path, issuer, people=ITEMS)
    world.repo.commit(f"{RFC} the application form", files={"app/main.py": "print('form')\n"})
    created = _create(world, _job(world, "han"), "1.0")
    assert created.code == 0, created.stdout + created.stderr
    world.repo.commit("tweak the form quietly", files={"app/main.py": "print('form, unreviewed')\n"})
    return world


def _job(world: World, who: str, **claims: Any) -> dict[str, str]:
    """A GitHub job of the system's repository at HEAD run by `who` (`claims`: the token's, e.g. its ref)."""
    return Jobs(world.issuer, world.jobs.workdir, world.repo.head()).github(who, **claims)


def _create(world: World, env: dict[str, str], label: str, lang: str = "en") -> Any:
    return run_cli(
        ["--lang", lang, "baseline", "create", "--label", label], cwd=world.repo.path, env=env, now=NOW
    )


def _forge(world: World, label: str, actor: str, source: str, env: dict[str, str] | None = None) -> None:
    """A `baseline.created` of HEAD (the unreviewed change included) pushed straight to the ledger, signed
    by the job of `env` where one is given (its token, whatever the job's branch)."""
    config = load_config(world.repo.path / ".gatekeeper.yml")
    data = snapshot(world.repo.path, config, "HEAD").data(label)
    draft = Draft("baseline.created", SYSTEM, actor, source, NOW, data)
    if env is not None:
        signature = sign_record(config, world.repo.path, env, NOW, draft)
        assert signature is not None  # the platform signs a job of any branch
        draft = dataclasses.replace(draft, data={**data, "attestation": signature})
    world.append(draft)


def _drift(world: World, lang: str = "en") -> list[str]:
    result = run_cli(
        ["--lang", lang, "--format", "json", "gate", "--rfc", RFC],
        cwd=world.repo.path,
        env=_job(world, "ci"),
        now=NOW,
    )
    assert result.code in (0, 1), result.stderr
    body = json.loads(result.stdout)
    return [f["message"] for f in body["findings"] if f["rule"] == "baseline.drift"]


def test_a_baseline_the_operator_manager_recorded_in_the_default_branch_pipeline_counts(
    tmp_path: Path, issuer: LocalIssuer, reliability: Recorder
) -> None:
    world = _world(tmp_path, issuer)
    found = _drift(world)
    assert len(found) == 1 and "baseline 1.0" in found[0] and "app/main.py" in found[0], found
    reliability.row(
        "the operator manager records baseline 1.0 with `baseline create` in a job of the protected default "
        "branch (its token signing the record); a developer then changes a configuration item without an RFC",
        "none (the honest path)",
        "counted: baseline.drift names the item against baseline 1.0, the gate blocks (grade 1)",
    )


def test_a_baseline_forged_on_a_workstation_hides_no_drift(
    tmp_path: Path, issuer: LocalIssuer, reliability: Recorder
) -> None:
    world = _world(tmp_path, issuer)
    refused = _create(world, {}, "2.0")
    assert refused.code == 2 and "nothing was recorded" in refused.stderr, refused.stderr
    assert "workstation" in refused.stderr and "operator manager" in refused.stderr
    korean = _create(world, {}, "2.0", lang="ko")
    assert korean.code == 2 and "기록하지 않았습니다" in korean.stderr, korean.stderr
    _forge(world, "2.0", "dev", "local")
    found = _drift(world)
    assert len(found) == 1 and "baseline 1.0" in found[0], found
    assert "baseline 2.0" in found[0] and "workstation" in found[0], found
    found_ko = _drift(world, "ko")
    assert "베이스라인 2.0" in found_ko[0] and "개인 PC" in found_ko[0], found_ko
    reliability.row(
        "after an unreviewed change, the developer records baseline 2.0 of HEAD on their workstation "
        "(`baseline create`, then the same record pushed to the ledger)",
        "forged baseline (workstation, grade 1)",
        "refused: `baseline create` exits 2 and writes nothing; the pushed record is ignored and "
        "baseline.drift against 1.0 says why, the gate blocks",
    )


@pytest.mark.parametrize(
    ("who", "ref", "why"),
    [
        ("dev", FEATURE, "feature/quick-fix"),
        ("han", FEATURE, "feature/quick-fix"),
        ("dev", "refs/heads/main", "operator-manager"),
    ],
    ids=["developer-feature-branch", "role-holder-feature-branch", "developer-default-branch"],
)
def test_a_baseline_from_a_job_that_may_not_set_it_hides_no_drift(
    tmp_path: Path, issuer: LocalIssuer, reliability: Recorder, who: str, ref: str, why: str
) -> None:
    world = _world(tmp_path, issuer)
    job = _job(world, who, ref=ref, protected=ref.endswith("/main"))
    refused = _create(world, job, "2.0")
    assert refused.code == 2 and "nothing was recorded" in refused.stderr, refused.stderr
    assert why in refused.stderr, refused.stderr
    _forge(world, "2.0", who, "github-actions", job)
    found = _drift(world)
    assert len(found) == 1 and "baseline 1.0" in found[0] and "baseline 2.0" in found[0], found
    assert why in found[0], found
    reliability.row(
        f"after an unreviewed change, baseline 2.0 of HEAD is recorded in a signed job run by {who} on {ref} "
        "(`baseline create`, then the same signed record pushed to the ledger)",
        "forged baseline ("
        + ("a feature branch's job" if ref == FEATURE else "a job by someone without the role")
        + ")",
        "refused: `baseline create` exits 2 and writes nothing; the pushed record is ignored and "
        "baseline.drift against 1.0 says why, the gate blocks",
    )


def test_without_a_baseline_that_counts_there_is_no_approved_baseline(
    tmp_path: Path, issuer: LocalIssuer, reliability: Recorder
) -> None:
    world = World(tmp_path, issuer, people=ITEMS)
    world.repo.commit(f"{RFC} the application form", files={"app/main.py": "print('form')\n"})
    _forge(world, "1.0", "dev", "local")
    result = run_cli(["audit"], cwd=world.repo.path, env=_job(world, "ci"), now=NOW)
    assert result.code == 1, result.stdout + result.stderr
    said = result.stdout
    assert "no approved configuration baseline" in said and "baseline 1.0 (ledger #1)" in said, said
    assert "workstation" in said, said
    reliability.row(
        "the only baseline.created of the system is one the developer recorded on their workstation",
        "forged first baseline (grade 1)",
        "ignored: the audit's configuration baseline item fails with `no approved configuration baseline` "
        "and why",
    )


@settings(max_examples=8, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    forged=st.lists(
        st.sampled_from([("dev", "local"), ("han", "local"), ("dev", "github-actions")]),
        min_size=1,
        max_size=3,
    )
)
def test_no_sequence_of_unsigned_baselines_hides_drift(
    tmp_path_factory: pytest.TempPathFactory,
    issuer: LocalIssuer,
    reliability: Recorder,
    forged: list[tuple[str, str]],
) -> None:
    world = _world(tmp_path_factory.mktemp("world"), issuer)
    for n, (actor, source) in enumerate(forged, start=2):
        _forge(world, f"{n}.0", actor, source)
    found = _drift(world)
    assert len(found) == 1 and "baseline 1.0" in found[0], found
    if not reliability.rows:
        reliability.row(
            "generated sequences of 1–3 unsigned baseline.created records of HEAD pushed after an unreviewed "
            "change (by the developer or in the operator manager's name, local or claiming a CI job)",
            "forged baselines (property)",
            "every one ignored: baseline.drift against the signed 1.0, the gate blocks",
        )


def test_on_gitlab_only_a_job_of_the_protected_default_branch_sets_the_baseline(
    tmp_path: Path, issuer: LocalIssuer, reliability: Recorder
) -> None:
    world = _world(tmp_path, issuer)
    jobs = Jobs(world.issuer, world.jobs.workdir, world.repo.head())
    feature = jobs.gitlab("han", branch="feature/quick-fix", protected=False, job_id="5150")
    refused = _create(world, feature, "2.0")
    assert refused.code == 2 and "ref_path" in refused.stderr and "feature/quick-fix" in refused.stderr
    _forge(world, "2.0", "han", "gitlab-ci", feature)
    found = _drift(world)
    assert len(found) == 1 and "baseline 1.0" in found[0] and "feature/quick-fix" in found[0], found
    # The same operator manager's job on the protected default branch sets it: the drift is rebaselined.
    created = _create(world, jobs.gitlab("han", job_id="5151"), "3.0")
    assert created.code == 0, created.stdout + created.stderr
    assert _drift(world) == []
    reliability.row(
        "GitLab: baseline 2.0 of HEAD recorded (and pushed to the ledger, signed) in the operator manager's "
        "job of an unprotected feature branch; then baseline 3.0 in their job of the protected default "
        "branch",
        "forged baseline (a feature branch's GitLab job)",
        "2.0 refused by `baseline create` and ignored by the gate (its token's ref_path is the feature "
        "branch); 3.0 counts: no drift",
    )
