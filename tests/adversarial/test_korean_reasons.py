"""Every reason a signature or an OIDC token is refused, in Korean: under `--lang ko` (the kr-ap-sop pack's
default) a release manager reads why a forged, expired, copied or unsigned record does not count in Korean
only — in the gate, the audit and `ledger verify --attestations` — while the JSON output keeps its English
`result` and `reason` (the contract). The words change, never what counts.

The attacker is a developer with write access who pushes such records: the refusal they cause must be one a
Korean reader understands, or the control is only as good as the reader's English.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Callable, Iterator, Mapping
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import jwt
import pytest

from gatekeeper.adapters.localissuer import LocalIssuer, SigningKey, github_claims, gitlab_claims
from gatekeeper.domain.attestation import Expectation, Verdict, audience, digest_of, verify
from gatekeeper.ledger import Draft
from tests import acceptance as cases
from tests.adversarial.conftest import Recorder
from tests.adversarial.test_attested_approvals import NOW, RFC, World, _forged, _other_key
from tests.adversarial.test_signed_records import (
    SYSTEM,
    _append,
    _deployed,
    _finish,
    _gitlab_signed,
    _job_finish,
)
from tests.helpers import GitRepo, run_cli
from tests.platform.oidc import REPOSITORY, gitlab_job
from tests.test_korean_everywhere import HANGUL, english_lines

ISSUER = "https://token.actions.example"
GITLAB = "https://gitlab.example.go.kr"
DIGEST = "sha256:" + "ab" * 32
MOMENT = datetime(2026, 11, 24, 11, 0, tzinfo=UTC)
KEY = SigningKey.generate("k-1")
ROGUE = SigningKey.generate("rogue-1")


class _Trust:
    """Trusts the one key `KEY` (a pinned key set of one)."""

    def trusts(self, jwk: Mapping[str, Any], issued_at: datetime) -> bool:
        return jwk.get("n") == KEY.jwk["n"]


def _expect(provider: str, scope: str) -> Expectation:
    if provider == "github":
        return Expectation(
            "github",
            ISSUER,
            REPOSITORY,
            "gatekeeper-approvals",
            ".github/workflows/gatekeeper-approve.yml",
            scope=scope,
        )
    return Expectation("gitlab", GITLAB, REPOSITORY, "gatekeeper-approvals", ".gitlab-ci.yml", scope=scope)


def _claims(provider: str) -> dict[str, Any]:
    if provider == "github":
        return {
            **github_claims(REPOSITORY, "choi"),
            "iss": ISSUER,
            "aud": audience(DIGEST),
        }
    host = GITLAB.split("://", 1)[1]
    return {**gitlab_claims(host, REPOSITORY, "choi"), "iss": GITLAB, "aud": "gatekeeper"}


def _token(
    claims: Mapping[str, Any], *, key: SigningKey = KEY, headers: Mapping[str, Any] | None = None
) -> str:
    body = {
        "jti": "jti-1",
        "iat": int(MOMENT.timestamp()),
        "nbf": int(MOMENT.timestamp()) - 5,
        "exp": int(MOMENT.timestamp()) + 300,
        **claims,
    }
    return jwt.encode(body, key.private, algorithm="RS256", headers={"kid": KEY.kid, **(headers or {})})


def _attestation(provider: str, token: str, **extra: Any) -> dict[str, Any]:
    signed: dict[str, Any] = {"provider": provider, "token": token, "jwk": KEY.jwk, "digest": DIGEST}
    if provider == "gitlab":
        signed.update(jti="jti-1", job_id="4242")
    return {**signed, **extra}


def _refusals(provider: str, scope: str) -> Iterator[tuple[str, Verdict]]:
    """(what was tried, `verify`'s verdict) for every way a token of `provider` is refused."""
    expect = _expect(provider, scope)
    good = _claims(provider)
    commit = "c" * 40 if scope == "record" else ""

    def check(attestation: Mapping[str, Any]) -> Verdict:
        return verify(
            attestation,
            expect=expect,
            actor="choi",
            moment=MOMENT,
            digest=DIGEST,
            trust=_Trust(),
            commit=commit,
        )

    if commit:
        good["sha"] = commit
    assert check(_attestation(provider, _token(good))).ok  # the honest token verifies
    yield "no token", check({"provider": provider})
    yield "another platform", check({**_attestation(provider, _token(good)), "provider": "bitbucket"})
    yield "another record's digest", check(_attestation(provider, _token(good), digest="sha256:" + "0" * 64))
    yield "not a JWT", check(_attestation(provider, "not-a-jwt"))
    none = jwt.encode(good, None, algorithm="none", headers={"kid": KEY.kid})
    yield "alg none", check(_attestation(provider, none))
    yield "another key id", check(_attestation(provider, _token(good, headers={"kid": "other"})))
    yield "signed by another key", check(_attestation(provider, _token(good, key=ROGUE)))
    yield "wrong audience", check(_attestation(provider, _token({**good, "aud": "https://example.org"})))
    yield "wrong issuer", check(_attestation(provider, _token({**good, "iss": "https://evil.example"})))
    missing = jwt.encode(
        {k: v for k, v in good.items() if k != "aud"},
        KEY.private,
        algorithm="RS256",
        headers={"kid": KEY.kid},
    )
    yield "no audience", check(_attestation(provider, missing))
    yield "times not numbers", check(_attestation(provider, _token({**good, "exp": "soon"})))
    old = int((MOMENT - timedelta(hours=2)).timestamp())
    yield "expired", check(_attestation(provider, _token({**good, "iat": old, "nbf": old, "exp": old + 300})))
    late = int((MOMENT + timedelta(hours=2)).timestamp())
    yield (
        "issued after",
        check(_attestation(provider, _token({**good, "iat": late, "nbf": late, "exp": late + 300}))),
    )
    rogue = {**_attestation(provider, _token(good, key=ROGUE, headers={"kid": ROGUE.kid})), "jwk": ROGUE.jwk}
    yield "a key nobody trusts", check(rogue)
    for name in sorted(k for k in good if k not in {"iss", "aud", "sub"}):
        wrong = "false" if good[name] == "true" else "mallory"
        verdict = check(_attestation(provider, _token({**good, name: wrong})))
        if not verdict.ok:
            yield f"claim {name}", verdict
    if provider == "gitlab":
        yield "another job's jti", check(_attestation(provider, _token(good), jti="jti-2"))


@pytest.mark.parametrize(
    ("provider", "scope"), [(p, s) for p in ("github", "gitlab") for s in ("approval", "record")]
)
def test_every_refusal_of_a_token_says_why_in_korean(
    provider: str, scope: str, reliability: Recorder
) -> None:
    seen = list(_refusals(provider, scope))
    assert len(seen) >= 15, seen
    for tried, verdict in seen:
        en, ko = verdict.reasons
        assert not verdict.ok and en and verdict.reason_ko, (tried, verdict)
        assert HANGUL.search(ko) and english_lines(ko) == [], (tried, ko)
        assert not HANGUL.search(en), (tried, en)  # the English reason stays English (JSON reads it)
    by = dict(seen)
    assert "InvalidAudienceError" in by["wrong audience"].reason  # the contract's words, unchanged
    assert "aud(대상)" in by["wrong audience"].reason_ko
    assert "만료" in by["expired"].reason_ko
    reliability.row(
        f"{provider} tokens ({scope}s): no token, another platform or record, not a JWT, alg none, another "
        "key, wrong audience or issuer, a missing claim, expired, issued later, an untrusted key, each "
        "claim that does not fit",
        "hostile OIDC token",
        "each refused with its reason in English and in Korean (Hangul, no English sentence in it)",
    )


# ------------------------------------------------------------------------------ through the CLI


def _korean(result: Any, *phrases: str) -> str:
    """The human output of a `--lang ko` run: no English sentence in it, and each of `phrases`."""
    text = result.stdout + result.stderr
    assert "Traceback" not in text, text
    assert english_lines(text) == [], "\n".join(english_lines(text))
    for phrase in phrases:
        assert phrase in text, (phrase, text)
    return text


def _approval(world: World, step: str, actor: str, token: Callable[[str], str] | None) -> Draft:
    """An approval record of `step` by `actor` pushed to the ledger, carrying the token `token` makes for
    its audience (signed by the issuer's own key), or none."""
    rfc = json.loads(run_cli(["--format", "json", "rfc", "show", RFC], cwd=world.repo.path).stdout)
    data = {"step": step, "decision": "approve", "rfc_digest": rfc["digest"], "comment": ""}
    draft = Draft("approval", SYSTEM, actor, "github-actions", NOW, data, (RFC,))
    if token is not None:
        digest = digest_of(draft)
        jwk = world.issuer.keys[0].jwk
        signed = {"provider": "github", "token": token(audience(digest)), "jwk": jwk, "digest": digest}
        draft = dataclasses.replace(draft, data={**data, "attestation": signed})
    return draft


@pytest.fixture
def issuer() -> Iterator[LocalIssuer]:
    with LocalIssuer(clock=lambda: NOW) as running:
        yield running


def test_forged_expired_and_unsigned_approvals_are_refused_in_korean(
    tmp_path: Path, issuer: LocalIssuer, reliability: Recorder
) -> None:
    world = World(tmp_path, issuer)
    world.tested(world.repo.head())
    world.chain(skip="release-first")

    def approve(env: dict[str, str]) -> Any:
        args = ["--lang", "ko", "approve", RFC, "--step", "release-first", "--decision", "approve"]
        return run_cli(args, cwd=world.repo.path, env=env, now=NOW)

    expired = world.jobs.github(
        "han",
        answer=lambda aud: issuer.mint(
            github_claims(REPOSITORY, "han"), aud, issued=NOW - timedelta(hours=2)
        ),
    )
    # `approve` refuses a token of someone else (GITHUB_ACTOR set by a shell step) and an expired one.
    for env, says in (
        (world.jobs.github("han", actor="dev"), "토큰의 actor 값이 'han'이(가) 아닌 'dev'"),
        (expired, "만료되었습니다"),
    ):
        refused = approve(env)
        assert refused.code == 1, refused.stdout + refused.stderr
        _korean(refused, "CI 플랫폼의 토큰이 이 결정을 증명하지 못합니다", says)
    # The same pushed to the ledger, with a token signed by the developer's own key and an unsigned one.
    late = NOW - timedelta(hours=2)
    world.append(
        _approval(
            world, "release-first", "han", lambda aud: issuer.mint(github_claims(REPOSITORY, "dev"), aud)
        )
    )
    world.append(
        _approval(
            world,
            "release-first",
            "han",
            lambda aud: issuer.mint(github_claims(REPOSITORY, "han"), aud, issued=late),
        )
    )
    world.append(_forged(world, "release-first", "han", _other_key()))
    world.append(_approval(world, "release-first", "han", None))
    gate = run_cli(
        ["--lang", "ko", "gate", "--rfc", RFC], cwd=world.repo.path, env=world.jobs.github("han"), now=NOW
    )
    assert gate.code == 1
    _korean(gate, "release-first")
    checked = run_cli(["--lang", "ko", "ledger", "verify", "--attestations"], cwd=world.repo.path, now=NOW)
    assert checked.code == 1
    _korean(
        checked,
        "토큰의 actor 값이 'han'이(가) 아닌 'dev'입니다",
        "만료되었습니다",
        "서명 키 'rogue-1'",
        "증명 없음",
        "증명됨",
        "검증되지 않는 기록 3건",
    )
    audit = run_cli(["--lang", "ko", "audit"], cwd=world.repo.path, now=NOW + timedelta(days=1))
    assert audit.code in (0, 1)
    _korean(audit)
    # JSON keeps the English words of the contract.
    body = json.loads(
        run_cli(
            ["--format", "json", "ledger", "verify", "--attestations"], cwd=world.repo.path, now=NOW
        ).stdout
    )
    results = [a["result"] for a in body["approvals"]]
    assert "the token's actor is 'dev', not 'han'" in results and "unattested" in results, results
    assert any(r.startswith("the token expired at") for r in results), results
    reliability.row(
        "under `--lang ko`: `approve` with another person's token and with an expired one; approvals pushed "
        "to the ledger carrying another person's token, an expired token, a token of the developer's own "
        "key, no token",
        "forged and expired OIDC tokens, unsigned approval",
        "each refused as before; `approve`, the gate, `ledger verify --attestations` and the audit say why "
        "in Korean with no English sentence (JSON keeps the English `result`)",
    )


def test_forged_deployment_results_are_refused_in_korean(tmp_path: Path, reliability: Recorder) -> None:
    repo = GitRepo.create(tmp_path / "repo")
    at, head = cases.build(repo, {})
    ident = _deployed(repo, at, head)
    later = at + timedelta(minutes=10)
    other = "e" * 40
    forged = Draft("deployment.finished", SYSTEM, "dev", "gitlab-ci", later, _finish(ident), (cases.RFC_ID,))
    _append(repo, _gitlab_signed(forged, gitlab_job(other, "dev", later)))  # a job of the developer's branch
    unsigned = dataclasses.replace(forged, at=later + timedelta(minutes=1), actor="ci")
    _append(repo, unsigned)
    moment = later + timedelta(minutes=2)
    gate = run_cli(["--lang", "ko", "gate", "--rfc", cases.RFC_ID], cwd=repo.path, now=moment)
    assert gate.code == 1
    _korean(
        gate,
        "deploy.unattested",
        "토큰의 sha 값이",
        "이 기록에는 CI 작업의 서명이 없는데",
    )
    checked = run_cli(["--lang", "ko", "ledger", "verify", "--attestations"], cwd=repo.path, now=moment)
    assert checked.code == 1
    _korean(checked, "토큰의 sha 값이", "서명 없음", "서명됨")
    _job_finish(repo, ident, head, "success", later + timedelta(minutes=3))
    audit = run_cli(["--lang", "ko", "audit"], cwd=repo.path, now=at + timedelta(days=1))
    assert audit.code in (0, 1)
    _korean(audit, "토큰의 sha 값이")
    english = run_cli(["gate", "--rfc", cases.RFC_ID], cwd=repo.path, now=moment)
    assert "the token's sha is" in english.stdout  # the same refusal, in English words
    reliability.row(
        "under `--lang ko`: while a signed deployment is open, a `success` result signed by a job of "
        "another commit and an unsigned one are pushed",
        "forged ledger record (deployment.finished)",
        "not counted, as before; the gate (deploy.unattested), `ledger verify --attestations` and the audit "
        "say why in Korean with no English sentence",
    )


def test_another_systems_forged_result_is_ignored_in_korean(tmp_path: Path, reliability: Recorder) -> None:
    """Two systems share the agency's ledger and the RFC reaches the address service first. A `success`
    result of its open deployment, signed by a job of the developer's branch, is ignored: the portal's
    `deploy start` says which record and why, in Korean."""
    shared = tmp_path / "agency-ledger.db"
    order = {"systems": ["juso-api", SYSTEM]}
    ledger = {"ledger": {"backend": "sqlite", "path": str(shared)}}
    juso, portal = GitRepo.create(tmp_path / "juso"), GitRepo.create(tmp_path / "portal")
    juso_project = {"platform": {"gitlab": {"oidc": {"repository": "minwon/juso-api"}}}}
    at, _ = cases.build(
        juso,
        {"system": {"id": "juso-api", "name": "주소"}, "rfc": order, "config": {**ledger, **juso_project}},
    )
    registry = {"systems": [{"id": "juso-api", "name": "주소", "grade": 1, "repository": "minwon/juso-api"}]}
    cases.build(portal, {"rfc": order, "config": {**ledger, **registry}})
    job = {
        **gitlab_job(juso.head(), "ci", at, project_path="minwon/juso-api"),
        "CI_PROJECT_PATH": "minwon/juso-api",
    }
    started = run_cli(
        ["--format", "json", "deploy", "start", "--rfc", cases.RFC_ID], cwd=juso.path, now=at, env=job
    )
    assert started.code == 0, started.stdout + started.stderr
    ident = json.loads(started.stdout)["deployment_id"]
    later = at + timedelta(minutes=5)
    forged = Draft(
        "deployment.finished", "juso-api", "dev", "gitlab-ci", later, _finish(ident), (cases.RFC_ID,)
    )
    _append(juso, _gitlab_signed(forged, gitlab_job("e" * 40, "dev", later, project_path="minwon/juso-api")))
    moment = later + timedelta(minutes=1)
    korean = run_cli(["--lang", "ko", "deploy", "start", "--rfc", cases.RFC_ID], cwd=portal.path, now=moment)
    assert korean.code == 1, korean.stdout + korean.stderr
    _korean(
        korean,
        "deploy.sequence",
        "서명이 검증되지 않아 무시한 기록: deployment.finished 기록",
        "토큰의 sha 값이",
    )
    english = run_cli(["deploy", "start", "--rfc", cases.RFC_ID], cwd=portal.path, now=moment)
    assert english.code == 1 and "was ignored: the token's sha is" in english.stdout, english.stdout
    reliability.row(
        "under `--lang ko`: the first system of a two-system RFC is being deployed; a `success` result of it "
        "signed by a job of another commit is pushed, and the second system's `deploy start` runs",
        "forged ledger record of another system (deployment.finished)",
        "block: deploy.sequence (still being deployed), naming the ignored record and why in Korean",
    )


def test_the_gate_says_why_an_approval_with_a_token_does_not_count(
    tmp_path: Path, issuer: LocalIssuer, reliability: Recorder
) -> None:
    """An approval record carrying a token that proves something else (the developer's own job, signed
    for the role holder's name) is named in the gate's finding with the reason, in either language; one
    without any token gets the how-to-enable hint instead."""
    world = World(tmp_path, issuer)
    world.tested(world.repo.head())
    world.chain(skip="release-first")
    world.append(
        _approval(
            world, "release-first", "han", lambda aud: issuer.mint(github_claims(REPOSITORY, "dev"), aud)
        )
    )
    said = {}
    for lang in ("en", "ko"):
        gate = run_cli(
            ["--lang", lang, "--format", "json", "gate", "--rfc", RFC],
            cwd=world.repo.path,
            env=world.jobs.github("han"),
            now=NOW,
        )
        assert gate.code == 1, gate.stderr
        findings = json.loads(gate.stdout)["findings"]
        said[lang] = " ".join(f["message"] for f in findings if f["rule"].startswith("approval."))
    assert "does not count: the token's actor is 'dev', not 'han'" in said["en"], said["en"]
    assert "토큰의 actor 값이 'han'이(가) 아닌 'dev'" in said["ko"], said["ko"]
    reliability.row(
        "an approval of release-first in the release manager's name, signed by a token of the developer's "
        "own job, pushed to the ledger",
        "forged record (another person's token)",
        "block: the finding names the record and why its token does not count (the token's actor), in "
        "English and Korean",
    )


def test_malformed_records_are_explained_in_korean(tmp_path: Path, reliability: Recorder) -> None:
    """Records no pipeline wrote — test evidence without counts, a result naming no deployment, a signed PIR
    that does not read (and an approval of no step beside them) — are reported in Korean by the audit and by
    `ledger verify --attestations` (the readers' `PayloadError` says why in both languages)."""
    repo = GitRepo.create(tmp_path / "repo")
    at, head = cases.build(repo, {})
    moment = at - timedelta(hours=1)
    for kind, data in (
        ("test.evidence", {"kind": "unit", "commit": head}),
        ("deployment.finished", {"result": "success"}),
        ("approval", {"step": "coffee", "decision": "approve", "rfc_digest": "sha256:0"}),
        ("pir", {"result": "achieved", "attestation": {"provider": "github", "token": "x"}, "note": 7}),
    ):
        _append(repo, Draft(kind, SYSTEM, "ci", "github-actions", moment, data, (cases.RFC_ID,)))
    audit = run_cli(["--lang", "ko", "audit"], cwd=repo.path, now=at + timedelta(days=1))
    assert audit.code in (0, 1), audit.stderr
    _korean(
        audit,
        "테스트 건수가 없습니다",
        "닫는 배포(`started`)를 지정하지 않습니다",
        "`note`이(가) 텍스트가 아닙니다",
    )
    checked = run_cli(["--lang", "ko", "ledger", "verify", "--attestations"], cwd=repo.path, now=at)
    _korean(checked, "형식이 잘못된 기록", "텍스트가 아닙니다")
    english = run_cli(["ledger", "verify", "--attestations"], cwd=repo.path, now=at)
    assert "malformed: pir record" in english.stdout and "`note` is not text" in english.stdout, (
        english.stdout
    )
    reliability.row(
        "four malformed records pushed to the ledger (evidence without counts, a result naming no "
        "deployment, an approval of no step, a signed PIR whose note is a number), read with --lang ko",
        "malformed ledger records",
        "the audit and ledger verify --attestations say why each does not read, in Korean (English with "
        "--lang en)",
    )
