"""Approvals nobody can forge: every attack of the issue "platform-attested identities", through the real
CLI, against a real OIDC issuer on 127.0.0.1 (adapters.localissuer) that signs tokens with the claim
sets GitHub and GitLab document.

The attacker is a developer with write access: they can set any variable in a job they control, run the
approval workflow from their own branch, mint tokens with keys of their own, and push ledger records.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import jwt
import pytest

from gatekeeper.adapters.localissuer import LocalIssuer, SigningKey, github_claims
from gatekeeper.config import load_config
from gatekeeper.domain.attestation import thumbprint as jwk_thumbprint
from gatekeeper.ledger import Draft
from gatekeeper.ledger.backends import open_ledger
from tests.acceptance import junit
from tests.adversarial.conftest import Recorder
from tests.helpers import GitRepo, run_cli
from tests.platform.oidc import REPOSITORY, Jobs, add_oidc

NOW = datetime(2026, 11, 24, 11, 0, tzinfo=UTC)  # Tuesday 20:00 KST
RFC = "RFC-2026-0042"
CHAIN = [
    ("change-review", "kim"),
    ("cab", "choi"),
    ("change-approval", "park"),
    ("release-first", "han"),
    ("release-second", "lee"),
]
ROLES = """\
roles:
  agency-manager: [park]
  agency-officer: [kim, lee]
  operator-manager: [han]
  cab: [kim, park, choi]
"""


@pytest.fixture
def issuer() -> Iterator[LocalIssuer]:
    with LocalIssuer(clock=lambda: NOW) as running:
        yield running


class World:
    """A grade-1 system whose approval jobs get their tokens from `issuer`."""

    def __init__(self, tmp_path: Path, issuer: LocalIssuer, *, grade: int = 1, people: str = "") -> None:
        self.issuer = issuer
        self.repo = GitRepo.create(tmp_path / "repo")
        config = self.repo.path / ".gatekeeper.yml"
        text = config.read_text(encoding="utf-8").replace("grade: 1", f"grade: {grade}")
        text = text.replace(".gatekeeper/ledger.db", "../ledger.db")  # outside the checkout, as CI requires
        text = text.split("roles:")[0] + ROLES + text.split("cab: [kim, park, choi]\n", 1)[1] + people
        config.write_text(text, encoding="utf-8")
        add_oidc(config, issuer)
        self.repo.add_rfc(RFC)
        self.repo.commit(f"{RFC} validate the application form input", author="Dev Eloper <dev@example.org>")
        self.jobs = Jobs(issuer, tmp_path, self.repo.head())

    def approve(self, step: str, env: dict[str, str], decision: str = "approve", *options: str) -> Any:
        return run_cli(
            ["--format", "json", "approve", RFC, "--step", step, "--decision", decision, *options],
            cwd=self.repo.path,
            env=env,
            now=NOW,
        )

    def records(self) -> list[dict[str, Any]]:
        if not (self.repo.path.parent / "ledger.db").exists():
            return []
        result = run_cli(["--format", "json", "ledger", "log"], cwd=self.repo.path)
        found: list[dict[str, Any]] = json.loads(result.stdout)
        return found

    def gate(self, env: dict[str, str] | None = None) -> tuple[int, dict[str, Any]]:
        result = run_cli(["--format", "json", "gate", "--rfc", RFC], cwd=self.repo.path, env=env, now=NOW)
        assert result.code in (0, 1), result.stderr
        return result.code, json.loads(result.stdout)

    def chain(self, skip: str = "") -> None:
        """The other steps, each by its role holder in an attested job."""
        for step, actor in CHAIN:
            if step != skip:
                result = self.approve(step, self.jobs.github(actor))
                assert result.code == 0, result.stdout + result.stderr

    def tested(self, commit: str, kind: str = "integration") -> None:
        """The test job of `commit` records its passing `kind` evidence with `evidence add`, signed by its
        token (what a release approval certifies)."""
        report = self.repo.path / "reports" / f"{kind}-{commit[:8]}.xml"
        report.parent.mkdir(parents=True, exist_ok=True)
        report.write_text(junit(tests=10), encoding="utf-8")
        env = Jobs(self.issuer, self.jobs.workdir, commit).github("ci")
        result = run_cli(
            ["evidence", "add", "--kind", kind, str(report.relative_to(self.repo.path))],
            cwd=self.repo.path,
            env=env,
            now=NOW,
        )
        assert result.code == 0, result.stdout + result.stderr
        report.unlink()  # the next job's workspace does not hold it

    def pin(self, keys: list[SigningKey]) -> None:
        """Pin `keys` in the configuration on the default branch (`keys_file`), as a self-hosted runner
        should: CI reads the configuration and the keys it names from there. The jobs still run on the
        commit under deployment."""
        target = self.repo.path / ".gatekeeper" / "oidc-keys.json"
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(json.dumps({"keys": [key.jwk for key in keys]}), encoding="utf-8")
        add_oidc(self.repo.path / ".gatekeeper.yml", self.issuer, keys_file=".gatekeeper/oidc-keys.json")
        self.repo.commit(f"{RFC} pin the OIDC issuer's keys")

    def append(self, draft: Draft) -> None:
        config = load_config(self.repo.path / ".gatekeeper.yml")
        ledger = open_ledger(config, self.repo.path, {})
        try:
            ledger.append(draft)
        finally:
            ledger.close()


def _rules(body: dict[str, Any]) -> set[str]:
    return {f["rule"] for f in body["findings"]}


def _approval_rules(body: dict[str, Any]) -> set[str]:
    return {rule for rule in _rules(body) if rule.startswith(("approval.", "cab."))}


# ------------------------------------------------------------------------------ forged CI identities


def test_one_developer_cannot_approve_as_five_role_holders(
    tmp_path: Path, issuer: LocalIssuer, reliability: Recorder
) -> None:
    world = World(tmp_path, issuer)
    for step, holder in CHAIN:
        # GITHUB_ACTOR set to the role holder by a shell step; the platform's token says who really ran it.
        env = world.jobs.github(holder, actor="dev")
        result = world.approve(step, env)
        assert result.code == 1, result.stdout
        body = json.loads(result.stdout)
        assert "approval.unattested" in _rules(body) and "actor" in result.stdout
        # A shell step without the token (or that drops it) proves nobody either.
        bare = world.approve(step, world.jobs.github(holder, token=False))
        assert bare.code == 1 and "id-token: write" in bare.stdout
    assert world.records() == []
    reliability.row(
        "one developer runs `approve` five times with GITHUB_ACTOR set to the five role holders",
        "forged CI identity (environment variable)",
        "each refused: exit 1, approval.unattested (the token's actor is the developer); nothing written",
    )


def test_forged_records_pushed_to_the_ledger_do_not_count(
    tmp_path: Path, issuer: LocalIssuer, reliability: Recorder
) -> None:
    world = World(tmp_path, issuer)
    digest = json.loads(
        run_cli(["--format", "json", "rfc", "show", RFC], cwd=world.repo.path).stdout or "{}"
    ).get("digest", "")
    for step, holder in CHAIN:
        source = "gitlab-ci" if step == "cab" else "github-actions"
        world.append(
            Draft(
                "approval",
                "minwon-portal",
                holder,
                source,
                NOW,
                {"step": step, "decision": "approve", "rfc_digest": digest, "comment": ""},
                (RFC,),
            )
        )
    code, body = world.gate(world.jobs.github("han"))
    assert code == 1 and {"approval.missing", "cab.missing"} <= _rules(body), body
    assert "id-token" in json.dumps(body) and "id_tokens" in json.dumps(body)
    reliability.row(
        "five approval records (GITHUB_ACTOR / GITLAB_USER_LOGIN of the role holders) pushed to the ledger",
        "forged records without the platform's token",
        "a fresh runner's gate blocks: approval.missing / cab.missing naming how to enable attestation",
    )


def test_an_attested_chain_is_allowed_and_re_verified_offline_from_the_ledger(
    tmp_path: Path, issuer: LocalIssuer, reliability: Recorder
) -> None:
    world = World(tmp_path, issuer)
    world.tested(world.repo.head())  # what the release approvals certify
    world.chain()
    records = [r for r in world.records() if r["kind"] == "approval"]
    assert [r["data"]["attestation"]["provider"] for r in records] == ["github"] * 5
    assert all(r["data"]["attestation"]["jwk"]["kid"] == "local-1" for r in records)
    # (No test reports in this workspace: the gate's only findings are about the missing evidence.)
    assert _approval_rules(world.gate(world.jobs.github("han"))[1]) == set()
    issuer.down = True
    # Unpinned, no key is trusted without the issuer's answer (this machine's files vouch for nothing).
    body = world.gate(world.jobs.github("han"))[1]
    errors = [f["message"] for f in body["findings"] if f["rule"] == "gate.error"]
    assert errors and "could not be reached" in errors[0] and "keys_file" in errors[0], body
    # The issuer's keys pinned in the configuration verify every stored token without any network.
    world.pin(issuer.keys)
    asked = len(issuer.requests)
    body = world.gate(world.jobs.github("han"))[1]
    assert _approval_rules(body) == set() and "gate.error" not in _rules(body), body
    verify = run_cli(["--format", "json", "ledger", "verify", "--attestations"], cwd=world.repo.path, now=NOW)
    assert verify.code == 0, verify.stdout
    assert len(issuer.requests) == asked  # nothing was asked of the issuer
    reliability.row(
        "five attested approvals, then the issuer goes down",
        "issuer outage after recording",
        "without pinned keys the gate blocks (gate.error naming keys_file); with the issuer's keys pinned "
        "(`keys_file`) it counts every approval offline, verifying each stored token; ledger verify "
        "--attestations passes",
    )


# ------------------------------------------------------------------------------ hostile tokens


def _other_key() -> SigningKey:
    return SigningKey.generate("rogue-1")


def _forged(world: World, step: str, actor: str, key: SigningKey) -> Draft:
    """An approval record written by the attacker: the claims of `actor`'s approval job, in a token signed
    by `key` for this record, stored with `key`'s JWK (what a verifier that trusts the key would count)."""
    from gatekeeper.domain.attestation import audience, digest_of

    rfc_digest = json.loads(run_cli(["--format", "json", "rfc", "show", RFC], cwd=world.repo.path).stdout)
    draft = Draft(
        "approval",
        "minwon-portal",
        actor,
        "github-actions",
        NOW,
        {"step": step, "decision": "approve", "rfc_digest": rfc_digest["digest"], "comment": ""},
        (RFC,),
    )
    digest = digest_of(draft)
    token = jwt.encode(
        {
            **github_claims(REPOSITORY, actor),
            "iss": world.issuer.url,
            "aud": audience(digest),
            "jti": f"forged-{step}",
            "iat": int(NOW.timestamp()),
            "exp": int(NOW.timestamp()) + 300,
        },
        key.private,
        algorithm="RS256",
        headers={"kid": key.kid},
    )
    draft.data["attestation"] = {"provider": "github", "token": token, "jwk": key.jwk, "digest": digest}
    return draft


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _alg_none(issuer: LocalIssuer) -> Callable[[str], str]:
    def answer(aud: str) -> str:
        claims = {
            **github_claims(REPOSITORY, "choi"),
            "iss": issuer.url,
            "aud": aud,
            "jti": "x",
            "iat": int(NOW.timestamp()),
            "exp": int(NOW.timestamp()) + 300,
        }
        header = _b64(json.dumps({"alg": "none", "kid": "local-1", "typ": "JWT"}).encode())
        return f"{header}.{_b64(json.dumps(claims).encode())}."

    return answer


def _confused(issuer: LocalIssuer) -> Callable[[str], str]:
    """HS256 "signed" with the issuer's public key as the HMAC secret: the classic algorithm confusion."""

    def answer(aud: str) -> str:
        import hashlib
        import hmac

        from cryptography.hazmat.primitives import serialization

        public = (
            issuer.keys[0]
            .private.public_key()
            .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        )
        claims = {
            **github_claims(REPOSITORY, "choi"),
            "iss": issuer.url,
            "aud": aud,
            "jti": "y",
            "iat": int(NOW.timestamp()),
            "exp": int(NOW.timestamp()) + 300,
        }
        signing = f"{_b64(json.dumps({'alg': 'HS256', 'kid': 'local-1', 'typ': 'JWT'}).encode())}." + _b64(
            json.dumps(claims).encode()
        )
        signature = hmac.new(public, signing.encode(), hashlib.sha256).digest()
        return f"{signing}.{_b64(signature)}"

    return answer


HOSTILE: dict[str, tuple[Callable[[LocalIssuer], dict[str, Any]], str]] = {
    "expired": (
        lambda i: {
            "answer": lambda aud: i.mint(
                github_claims(REPOSITORY, "choi"), aud, issued=NOW - timedelta(hours=2)
            )
        },
        "expired",
    ),
    "wrong audience": (
        lambda i: {
            "answer": lambda aud: i.mint(github_claims(REPOSITORY, "choi"), "https://github.com/minwon")
        },
        "does not verify",
    ),
    "another record's audience": (
        lambda i: {
            "answer": lambda aud: i.mint(github_claims(REPOSITORY, "choi"), "gatekeeper:sha256:" + "0" * 64)
        },
        "does not verify",
    ),
    "wrong repository": (lambda i: {"repository": "mallory/minwon-portal"}, "repository"),
    "feature branch": (
        lambda i: {
            "ref": "refs/heads/feature",
        },
        "refs/heads/feature",
    ),
    "unprotected environment name": (lambda i: {"environment": "scratch"}, "environment"),
    "unknown kid": (
        lambda i: {"answer": lambda aud: i.mint(github_claims(REPOSITORY, "choi"), aud, key=_other_key())},
        "not one",
    ),
    "alg none": (lambda i: {"answer": _alg_none(i)}, "'none'"),
    "algorithm confusion (HS256 with the public key)": (lambda i: {"answer": _confused(i)}, "HS256"),
}


@pytest.mark.parametrize("attack", sorted(HOSTILE))
def test_hostile_tokens_are_refused_and_nothing_is_written(
    tmp_path: Path, issuer: LocalIssuer, reliability: Recorder, attack: str
) -> None:
    world = World(tmp_path, issuer)
    make, says = HOSTILE[attack]
    result = world.approve("cab", world.jobs.github("choi", **make(issuer)))
    assert result.code == 1, result.stdout + result.stderr
    assert "approval.unattested" in _rules(json.loads(result.stdout)) and says in result.stdout, result.stdout
    assert world.records() == []
    reliability.row(
        f"approve with a token: {attack}",
        "hostile OIDC token",
        "exit 1, approval.unattested naming what does not fit; nothing written",
    )


def test_a_token_signed_by_the_attackers_own_key_and_stored_with_it_does_not_count(
    tmp_path: Path, issuer: LocalIssuer, reliability: Recorder
) -> None:
    """The attacker writes the record themselves, attaching a token and the JWK of a key of their own."""
    world = World(tmp_path, issuer)
    world.chain(skip="release-first")
    good = world.records()[0]["data"]["attestation"]
    draft = _forged(world, "release-first", "han", _other_key())
    world.append(draft)
    # ... and a second record replaying a genuine token (bound to another record) for the same step.
    replay = Draft(
        "approval",
        "minwon-portal",
        "kim",
        "github-actions",
        NOW,
        {
            "step": "release-first",
            "decision": "approve",
            "rfc_digest": world.records()[0]["data"]["rfc_digest"],
            "comment": "",
            "attestation": good,
        },
        (RFC,),
    )
    world.append(replay)
    code, body = world.gate(world.jobs.github("han"))
    assert code == 1 and "approval.missing" in _rules(body), body
    verify = run_cli(["ledger", "verify", "--attestations"], cwd=world.repo.path, now=NOW)
    assert verify.code == 1 and "not one" in verify.stdout and "another record" in verify.stdout, (
        verify.stdout
    )
    reliability.row(
        "a record carrying a token signed by the attacker's own key (and that key), and one replaying a "
        "genuine token",
        "forged attestation pushed to the ledger",
        "the gate does not count them (approval.missing); ledger verify --attestations exits 1 naming both",
    )


# ------------------------------------------------------------------------------ issuer down


def test_an_issuer_that_is_down(tmp_path: Path, issuer: LocalIssuer, reliability: Recorder) -> None:
    world = World(tmp_path, issuer)
    world.chain()
    issuer.down = True
    result = world.approve("cab", world.jobs.github("choi"), decision="reject")
    assert result.code == 3 and "could not" in result.stderr, result.stdout + result.stderr
    assert len(world.records()) == 5
    # The runner that ran the approvals keeps nothing that vouches for the stored tokens' keys.
    code, body = world.gate(world.jobs.github("han"))
    assert code == 1 and any(
        f["rule"] == "gate.error" and "could not be reached" in f["message"] and "keys_file" in f["message"]
        for f in body["findings"]
    ), body
    reliability.row(
        "the OIDC issuer is down (503)",
        "issuer outage",
        "approve exit 3, nothing written; the gate, on the runner that recorded the approvals too: "
        "gate.error naming keys_file; keys pinned in the configuration verify offline",
    )


# -------------------------------------------------------------------------- where trust in a key comes from


def _poison(world: World, runner: Path, key: SigningKey) -> list[Path]:
    """What a job of the developer's branch on a persistent runner (same OS user) can write: the key cache
    file earlier versions trusted, saying the attacker's key was seen published until 2099."""
    import hashlib

    name = hashlib.sha256(world.issuer.url.encode("utf-8")).hexdigest()[:32] + ".json"
    future = "2099-01-01T00:00:00+00:00"
    state = {
        "issuer": world.issuer.url,
        "fetched_at": future,
        "keys": {
            jwk_thumbprint(key.jwk): {
                "jwk": key.jwk,
                "first_seen": "2020-01-01T00:00:00+00:00",
                "last_seen": future,
            }
        },
    }
    files = [
        runner / ".local" / "state" / "gatekeeper" / "oidc" / name,
        runner / "xdg" / "gatekeeper" / "oidc" / name,
    ]
    for path in files:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(state), encoding="utf-8")
    return files


def _poisoned(tmp_path: Path, issuer: LocalIssuer) -> tuple[World, Path, list[Path]]:
    """Four steps approved; the fifth forged by the developer with their own key, which they also wrote
    into the runner's key cache (returned: the world, the runner's home, the poisoned files)."""
    world = World(tmp_path, issuer)
    world.chain(skip="release-first")
    rogue = _other_key()
    runner = tmp_path / "runner"
    files = _poison(world, runner, rogue)
    world.append(_forged(world, "release-first", "han", rogue))
    return world, runner, files


def _runner(world: World, runner: Path, who: str) -> dict[str, str]:
    return {**world.jobs.github(who), "HOME": str(runner), "XDG_STATE_HOME": str(runner / "xdg")}


def test_a_poisoned_key_cache_on_a_shared_runner_does_not_make_a_forged_approval_count(
    tmp_path: Path, issuer: LocalIssuer, reliability: Recorder
) -> None:
    world, runner, files = _poisoned(tmp_path, issuer)
    code, body = world.gate(_runner(world, runner, "han"))
    missing = {f["subject"] for f in body["findings"] if f["rule"] == "approval.missing"}
    assert code == 1 and missing == {f"{RFC} release-first"} and "gate.error" not in _rules(body), body
    assert "rogue-1" in json.dumps(body) and "keys_file" in json.dumps(body)  # the record and why not
    verify = run_cli(
        ["ledger", "verify", "--attestations"],
        cwd=world.repo.path,
        env=_runner(world, runner, "han"),
        now=NOW,
    )
    assert verify.code == 1 and "'rogue-1' is not one" in verify.stdout, verify.stdout
    assert all("rogue-1" in path.read_text(encoding="utf-8") for path in files)  # read by nobody, kept
    reliability.row(
        "a job of the developer's branch on a persistent runner writes the attacker's key into the runner's "
        "OIDC key cache ($HOME/.local/state, $XDG_STATE_HOME; seen published until 2099) and pushes an "
        "approval signed by that key",
        "poisoned trust anchor outside the repository",
        "the key cache is never read: the forged approval does not count (approval.missing naming the "
        "key); ledger verify --attestations exits 1",
    )


def test_a_poisoned_key_cache_with_the_issuer_down_counts_nothing(
    tmp_path: Path, issuer: LocalIssuer, reliability: Recorder
) -> None:
    world, runner, _ = _poisoned(tmp_path, issuer)
    issuer.down = True
    code, body = world.gate(_runner(world, runner, "han"))
    errors = [f["message"] for f in body["findings"] if f["rule"] == "gate.error"]
    assert code == 1 and errors and "could not be reached" in errors[0] and "keys_file" in errors[0], body
    assert body["decision"] == "block"
    korean = run_cli(
        ["--lang", "ko", "--format", "json", "gate", "--rfc", RFC],
        cwd=world.repo.path,
        env=_runner(world, runner, "han"),
        now=NOW,
    )
    assert korean.code == 1 and "공개키를 고정하세요" in korean.stdout, korean.stdout
    reliability.row(
        "the same poisoned key cache and forged approval, with the OIDC issuer down",
        "poisoned trust anchor + issuer outage",
        "gate.error (fail closed): the issuer could not be reached, pin its keys with keys_file (en, ko); "
        "no approval counted",
    )


@pytest.mark.parametrize(
    "garbage",
    [b"\x00\xff not json", b"[]", b'{"issuer": 5, "keys": "x", "fetched_at": "yesterday"}', b""],
    ids=["binary", "a list", "wrong types", "empty"],
)
def test_a_garbage_key_cache_file_is_never_read(
    tmp_path: Path, issuer: LocalIssuer, reliability: Recorder, garbage: bytes
) -> None:
    world = World(tmp_path, issuer)
    world.tested(world.repo.head())
    world.chain()
    runner = tmp_path / "runner"
    for path in _poison(world, runner, _other_key()):
        path.write_bytes(garbage)
    result = run_cli(
        ["--format", "json", "gate", "--rfc", RFC],
        cwd=world.repo.path,
        env=_runner(world, runner, "han"),
        now=NOW,
    )
    assert result.code in (0, 1) and "Traceback" not in result.stderr, result.stderr
    body = json.loads(result.stdout)
    assert _approval_rules(body) == set() and "gate.error" not in _rules(body), body
    reliability.row(
        f"the runner's old OIDC key cache file holds garbage ({garbage[:20]!r})",
        "corrupt file outside the repository",
        "never read: the approvals verify against the issuer's published keys; no traceback",
    )


def test_the_gate_asks_an_unpinned_issuer_for_its_keys_once_per_run(
    tmp_path: Path, issuer: LocalIssuer, reliability: Recorder
) -> None:
    world = World(tmp_path, issuer)
    world.tested(world.repo.head())
    world.chain()
    world.append(_forged(world, "cab", "kim", _other_key()))  # a key the issuer does not know: asked once
    for _ in range(2):  # each run asks afresh: nothing it fetched is kept on the machine to trust later
        issuer.requests.clear()
        body = world.gate(world.jobs.github("han"))[1]
        assert _approval_rules(body) == set(), body
        assert issuer.requests == ["/.well-known/openid-configuration", "/.well-known/jwks"], issuer.requests
    reliability.row(
        "a gate over five attested approvals, signed test evidence and one approval signed by an unknown "
        "key, issuer keys not pinned, run twice",
        "trust from the issuer's published keys",
        "each run fetches the discovery document and the key set once over the network (the unknown key "
        "asks nothing more), verifies every record with them and keeps nothing",
    )


def test_records_signed_by_a_key_the_issuer_retired_do_not_count_and_say_how_to_keep_them(
    tmp_path: Path, issuer: LocalIssuer, reliability: Recorder
) -> None:
    world = World(tmp_path, issuer)
    world.tested(world.repo.head(), "unit")
    world.tested(world.repo.head())
    world.chain()
    started = run_cli(
        ["deploy", "start", "--rfc", RFC], cwd=world.repo.path, env=world.jobs.github("han"), now=NOW
    )
    assert started.code == 0, started.stdout + started.stderr
    retired = issuer.keys[0]
    issuer.keys[:] = [SigningKey.generate("local-2")]  # the issuer rotates: local-1 is no longer published
    later = NOW + timedelta(days=1)

    def cli(*args: str) -> Any:
        # The auditor's job has no ID token: what it records (`audit.run`) needs no issuer.
        return run_cli(list(args), cwd=world.repo.path, env=world.jobs.github("han", token=False), now=later)

    gate = cli("--format", "json", "gate", "--rfc", RFC)
    missing = [f["message"] for f in json.loads(gate.stdout)["findings"] if f["rule"] == "approval.missing"]
    assert gate.code == 1 and len(missing) == 4, gate.stdout
    assert all("rotated out" in m and "keep retired keys" in m for m in missing), missing
    korean = cli("--lang", "ko", "gate", "--rfc", RFC)
    assert "폐기된 키도 그 파일에 남겨 두세요" in korean.stdout + korean.stderr, korean.stdout
    # The audit re-verifies the deployment's approvals: the checklist says why they no longer count.
    audit = cli("audit")
    line = next(x for x in audit.stdout.splitlines() if "change.approvals" in x)
    assert "NONCONFORM" in line and "'local-1' is not one" in audit.stdout and "keys_file" in audit.stdout, (
        audit.stdout
    )
    audit_ko = cli("--lang", "ko", "audit")
    assert "발급자의 공개키를 고정하고 폐기된 키도" in audit_ko.stdout, audit_ko.stdout
    verify = cli("ledger", "verify", "--attestations")
    assert verify.code == 1 and "keep retired keys" in verify.stdout, verify.stdout
    # Pinned with the retired key kept, the old records verify again — without the issuer.
    world.pin([retired, *issuer.keys])
    issuer.down = True
    assert _approval_rules(json.loads(cli("--format", "json", "gate", "--rfc", RFC).stdout)) == set()
    audit = cli("audit")
    line = next(x for x in audit.stdout.splitlines() if "change.approvals" in x)
    assert "NONCONFORM" not in line, audit.stdout
    assert cli("ledger", "verify", "--attestations").code == 0
    reliability.row(
        "the issuer rotates its keys: approvals and evidence signed by the retired key, no keys_file",
        "key rotation",
        "the records do not count (gate: approval.missing; audit: change.approvals nonconform; ledger "
        "verify --attestations exit 1), each saying the key is no longer published and to pin the "
        "issuer's keys keeping retired ones (en, ko); pinned so, they verify again offline",
    )


# ------------------------------------------------------------------------------ decisions at the door


def test_approve_refuses_what_the_gate_would_never_count(
    tmp_path: Path, issuer: LocalIssuer, reliability: Recorder
) -> None:
    world = World(tmp_path, issuer)
    assert world.approve("change-review", world.jobs.github("kim")).code == 0
    refusals = {
        "an actor without the step's role": ("cab", "mallory", "approval.unauthorized"),
        "the change's author": ("change-approval", "dev", "approval.unauthorized"),
        "a person who already gave another step": ("cab", "kim", "approval.same-person"),
    }
    for what, (step, actor, rule) in refusals.items():
        result = world.approve(step, world.jobs.github(actor))
        assert result.code == 1 and rule in _rules(json.loads(result.stdout)), (what, result.stdout)
    outsider = world.approve("cab", world.jobs.github("mallory"), decision="reject")
    assert outsider.code == 1 and "approval.unauthorized" in outsider.stdout
    assert len(world.records()) == 1
    reliability.row(
        "approve by someone without the role, by the author, by someone who gave another step; a rejection "
        "by an outsider",
        "decisions the gate would never count",
        "each refused at approve: exit 1 naming the rule and the fix; nothing written",
    )


def test_a_re_run_records_who_re_ran_it(tmp_path: Path, issuer: LocalIssuer, reliability: Recorder) -> None:
    world = World(tmp_path, issuer, grade=3)
    # lee re-runs the job kim first ran: GitHub keeps GITHUB_ACTOR (and the token's actor) as kim.
    result = world.approve("release-second", world.jobs.github("kim", triggering="lee"))
    assert result.code == 0, result.stdout + result.stderr
    record = json.loads(result.stdout)["record"]
    assert record["actor"] == "lee" and "attestation" not in record["data"]
    assert "approval.unattested" in result.stderr  # the token vouches for kim, not for lee
    grade1 = World(tmp_path / "g1", issuer)
    refused = grade1.approve("release-second", grade1.jobs.github("kim", triggering="lee"))
    assert refused.code == 1 and "actor" in refused.stdout
    reliability.row(
        "a rejected approval run re-run by someone else (GITHUB_TRIGGERING_ACTOR)",
        "re-run keeps the first run's actor",
        "the re-runner is recorded; grade 1 refuses it unattested (the token names the first actor)",
    )


# ------------------------------------------------------------------------------ the whole change


def test_separation_of_duties_over_the_whole_change(
    tmp_path: Path, issuer: LocalIssuer, reliability: Recorder
) -> None:
    people = "people:\n  kim: {names: [Minsu Kim], emails: [minsu.kim@agency.go.kr]}\n"
    world = World(tmp_path, issuer, people=people)
    repo = world.repo
    # An earlier push on a feature branch, merged since: kim wrote it under another name.
    from tests.helpers import git

    git(repo.path, "checkout", "-q", "-b", "feature")
    repo.commit(f"{RFC} tighten the phone number check", author="Minsu Kim <minsu.kim@agency.go.kr>")
    git(repo.path, "checkout", "-q", "main")
    git(repo.path, "merge", "-q", "--no-ff", "-m", f"{RFC} merge feature", "feature")
    repo.commit(f"{RFC} wording\n\nCO-AUTHORED-BY: Park Jiho <park@agency.go.kr>")
    self_review = world.approve("change-review", world.jobs.github("kim"))
    assert self_review.code == 1 and "approval.self" in self_review.stdout, self_review.stdout
    co_author = world.approve("change-approval", world.jobs.github("park"))
    assert co_author.code == 1 and "approval.self" in co_author.stdout, co_author.stdout
    assert world.records() == []
    reliability.row(
        "the author commits as 'Minsu Kim <minsu.kim@…>' on a merged branch and approves as kim; a "
        "co-author named in CO-AUTHORED-BY",
        "separation of duties sidestepped",
        "approve refuses both (approval.self): every commit naming the RFC, joined through people:",
    )


@pytest.mark.parametrize("readme", ["README.md", "README.ko.md"])
def test_every_row_of_the_trust_model_names_a_test_that_exists(readme: str) -> None:
    import re

    root = Path(__file__).resolve().parents[2]
    text = (root / readme).read_text(encoding="utf-8")
    rows = [line for line in text.splitlines() if line.startswith("| ") and "`tests/" in line]
    assert len(rows) >= 11, rows
    for row in rows:
        for path, name in re.findall(r"`(tests/[\w/.-]+?\.py)::(\w+)`", row):
            assert f"def {name}(" in (root / path).read_text(encoding="utf-8"), (readme, path, name)
        for case in re.findall(r"`(tests/cases/[\w/.-]+\.yaml)`", row):
            assert (root / case).is_file(), (readme, case)


# ------------------------------------------------------------------------------ one release, one commit


def test_release_approvals_certify_the_commit_they_were_given_for(
    tmp_path: Path, issuer: LocalIssuer, reliability: Recorder
) -> None:
    """REL-P1: the release plan is approved after the tests of one release. The approvals name that
    commit inside what the platform signs, so they never carry over to a commit deployed later, and
    rewriting the commit they name breaks their attestation."""
    world = World(tmp_path, issuer)
    tested = world.repo.head()
    world.tested(tested)
    world.chain()
    approvals = [r for r in world.records() if r["kind"] == "approval"]
    releases = [r for r in approvals if r["data"]["step"] in ("release-first", "release-second")]
    assert [r["data"]["commit"] for r in releases] == [tested, tested]
    assert not {r["data"].get("commit") for r in approvals if r not in releases} - {None}
    assert "approval.other-commit" not in _rules(world.gate(world.jobs.github("han"))[1])

    # Two days later another commit is deployed on the same approvals.
    later = world.repo.commit(f"{RFC} tune the session timeout", allow_empty=True)
    (tmp_path / "later").mkdir()
    jobs = Jobs(issuer, tmp_path / "later", later)
    code, body = world.gate(jobs.github("han"))
    found = [f for f in body["findings"] if f["rule"] == "approval.other-commit"]
    assert code == 1 and len(found) == 2 and tested[:12] in found[0]["message"], body["findings"]

    # The developer appends copies of the approvals naming the new commit, with their genuine tokens: the
    # tokens were signed for the records as first written, so the copies count for nothing.
    config = load_config(world.repo.path / ".gatekeeper.yml")
    ledger = open_ledger(config, world.repo.path, {})
    try:
        for record in ledger.find(kind="approval"):
            if record.data["step"] in ("release-first", "release-second"):
                forged = {k: v for k, v in record.data.items()}
                forged["commit"] = later
                world.append(
                    Draft(
                        "approval",
                        record.system,
                        record.actor,
                        record.actor_source,
                        record.moment,
                        forged,
                        record.rfcs,
                    )
                )
    finally:
        ledger.close()
    code, body = world.gate(jobs.github("han"))
    still = {f["subject"] for f in body["findings"] if f["rule"] == "approval.other-commit"}
    assert code == 1 and still == {f"{RFC} release-first", f"{RFC} release-second"}, body["findings"]

    # Approved again, in the approval jobs of the commit now deployed, after its tests: allowed.
    world.tested(later)
    for step, actor in CHAIN:
        if step.startswith("release-"):
            again = world.approve(step, jobs.github(actor))
            assert again.code == 0, again.stdout + again.stderr
    assert not _approval_rules(world.gate(jobs.github("han"))[1])
    reliability.row(
        "release approvals of one commit reused for a later commit; copies appended naming the new commit",
        "forgery",
        "block: approval.other-commit; copies naming the new commit carry tokens that do not verify and "
        "count for nothing; allowed once approved for the deployed commit",
    )


def test_release_approvals_given_before_the_tests_certify_nothing(
    tmp_path: Path, issuer: LocalIssuer, reliability: Recorder
) -> None:
    """REL-P1/TST-P4: release-first comes after the integration test of the commit it approves. Approvals
    given before any test, with the tests recorded afterwards, are out of order; tests of another commit
    do not count; the ledger's order cannot be rewritten (seq is assigned on append)."""
    world = World(tmp_path, issuer)
    head = world.repo.head()
    world.tested("f" * 40)  # another commit's tests
    world.chain()
    world.tested(head)  # the deployed commit's tests, recorded after its release approvals
    code, body = world.gate(world.jobs.github("han"))
    early = {f["subject"] for f in body["findings"] if f["rule"] == "approval.before-evidence"}
    assert code == 1 and early == {f"{RFC} release-first", f"{RFC} release-second"}, body["findings"]
    assert all(f["severity"] == "error" for f in body["findings"] if f["rule"] == "approval.before-evidence")
    # The audit re-runs the same rules on the recorded deployment facts: the same verdict.
    # Approved again now that the tests are in the ledger: allowed.
    for step in ("release-first", "release-second"):
        actor = dict(CHAIN)[step]
        assert world.approve(step, world.jobs.github(actor)).code == 0
    assert not _approval_rules(world.gate(world.jobs.github("han"))[1])
    reliability.row(
        "release approvals given before the integration tests of the deployed commit (tests of another "
        "commit before, the commit's own recorded after)",
        "process bypass",
        "block: approval.before-evidence for both release steps; allowed once approved again after the "
        "evidence (the ledger's seq orders them; a record cannot be placed earlier)",
    )


def test_approve_artifact_digests_are_recorded_inside_the_attested_approval(
    tmp_path: Path, issuer: LocalIssuer, reliability: Recorder
) -> None:
    world = World(tmp_path, issuer, grade=3)
    good = "sha256:" + "a" * 64
    for bad in ("app.war", "app.war=md5:abc", "=" + good, "app.war=sha256:" + "A" * 64):
        result = world.approve("release-first", world.jobs.github("han"), "approve", "--artifact", bad)
        assert result.code == 2 and "--artifact" in result.stderr and "Traceback" not in result.stderr, bad
    assert world.records() == []
    result = world.approve(
        "release-first", world.jobs.github("han"), "approve", "--artifact", f"app.war={good}"
    )
    assert result.code in (0, 1), result.stderr
    (record,) = world.records()
    assert record["data"]["artifacts"] == {"app.war": good} and record["data"]["attestation"]
    reliability.row(
        "`approve --artifact` with a malformed, empty-named, upper-case or non-sha256 digest",
        "bad input",
        "exit 2 naming --artifact and the form, nothing written; a well-formed one is recorded inside the "
        "attested approval",
    )


def test_approve_commit_names_a_commit_of_the_repository(
    tmp_path: Path, issuer: LocalIssuer, reliability: Recorder
) -> None:
    world = World(tmp_path, issuer, grade=3)
    for bad in ("not-a-commit", "-x", "f" * 40, "HEAD~9"):
        result = world.approve("release-first", world.jobs.github("han"), "approve", "--commit", bad)
        assert result.code == 2 and "--commit" in result.stderr and "Traceback" not in result.stderr, bad
    assert world.records() == []
    reliability.row(
        "`approve --commit` naming no commit of the repository (junk, an option, an unknown id)",
        "bad input",
        "exit 2, nothing written",
    )


# ------------------------------------------------------------------------------ every record from CI signed


def test_every_record_a_ci_job_writes_is_signed_and_a_rewrite_is_detected(
    tmp_path: Path, issuer: LocalIssuer, reliability: Recorder
) -> None:
    """A job with an ID token signs each record it writes (here test evidence and a notice), bound to the
    record's digest. Whoever rewrites one in the ledger — passing tests for failing ones — and rebuilds the
    hash chain passes `ledger verify`, not `ledger verify --attestations`."""
    from gatekeeper.ledger import GENESIS, canonical_json, record_hash

    world = World(tmp_path, issuer)
    report = world.repo.path.parent / "unit.xml"
    report.write_text(
        '<testsuite name="u" tests="3" failures="1" errors="0" skipped="0">'
        '<testcase name="a"/><testcase name="b"/><testcase name="c"><failure message="x"/></testcase>'
        "</testsuite>",
        encoding="utf-8",
    )
    job = world.jobs.github("ci-bot")
    stored = run_cli(
        ["evidence", "add", "--kind", "unit", "--rfc", RFC, str(report)],
        cwd=world.repo.path,
        env=job,
        now=NOW,
    )
    assert stored.code == 0, stored.stdout + stored.stderr
    officer = world.jobs.github("kim")  # the agency officer announces the release (REL-NOTICE)
    notice = run_cli(["notice", RFC, "--to", "행정안전부"], cwd=world.repo.path, env=officer, now=NOW)
    assert notice.code == 0, notice.stderr
    records = world.records()
    assert [r["kind"] for r in records] == ["test.evidence", "notice"]
    assert all(r["data"]["attestation"]["provider"] == "github" for r in records)
    checked = run_cli(
        ["--format", "json", "ledger", "verify", "--attestations"], cwd=world.repo.path, now=NOW
    )
    body = json.loads(checked.stdout)
    records_checked = body["records"]
    assert checked.code == 0 and [r["result"] for r in records_checked] == ["signed", "signed"], body

    # Rewrite the evidence to "3 of 3 passed" and rebuild the chain, as someone holding the ledger could.
    import sqlite3

    db = sqlite3.connect(world.repo.path.parent / "ledger.db")
    prev = GENESIS
    with db:
        for seq, text in db.execute("SELECT seq, body FROM records ORDER BY seq").fetchall():
            record = json.loads(text)
            record["prev"] = prev
            if record["kind"] == "test.evidence":
                record["data"]["totals"].update(passed=3, failed=0)
            record["hash"] = prev = record_hash(record)
            db.execute(
                "UPDATE records SET hash = ?, body = ? WHERE seq = ?", (prev, canonical_json(record), seq)
            )
    db.close()
    # This machine's checkpoint already tells (the ledger was rewritten); an auditor's fresh machine has none.
    mine = run_cli(["ledger", "verify"], cwd=world.repo.path, now=NOW)
    assert mine.code == 1 and "REWRITTEN" in mine.stdout
    fresh = {"XDG_STATE_HOME": str(tmp_path / "auditor-state")}
    plain = run_cli(["ledger", "verify"], cwd=world.repo.path, env=fresh, now=NOW)
    assert plain.code == 0, plain.stdout  # the chain alone cannot tell
    checked = run_cli(["ledger", "verify", "--attestations"], cwd=world.repo.path, env=fresh, now=NOW)
    assert (
        checked.code == 1 and "another record" in checked.stdout and "1 that do not verify" in checked.stdout
    )
    korean = run_cli(
        ["--lang", "ko", "ledger", "verify", "--attestations"], cwd=world.repo.path, env=fresh, now=NOW
    )
    assert korean.code == 1 and "검증되지 않는 기록 1건" in korean.stdout
    reliability.row(
        "test evidence written by a CI job rewritten to passing, the hash chain rebuilt",
        "forgery (hashes recomputed)",
        "`ledger verify` passes; `ledger verify --attestations` exit 1: the platform's signature no longer "
        "matches the record",
    )


def test_release_approvals_certify_the_builds_they_name(
    tmp_path: Path, issuer: LocalIssuer, reliability: Recorder
) -> None:
    import hashlib

    world = World(tmp_path, issuer)
    world.tested(world.repo.head())
    approved = "sha256:" + hashlib.sha256(b"minwon 1.4.2 build 118").hexdigest()
    for step, actor in CHAIN:
        named = ("--artifact", f"minwon.war={approved}") if step.startswith("release") else ()
        given = world.approve(step, world.jobs.github(actor), "approve", *named)
        assert given.code == 0, given.stdout + given.stderr
    build = world.repo.path / "dist" / "minwon.war"
    build.parent.mkdir()

    def gate_with(content: bytes) -> set[str]:
        build.write_bytes(content)
        result = run_cli(
            ["--format", "json", "gate", "--rfc", RFC, "--artifact", "minwon.war=dist/minwon.war"],
            cwd=world.repo.path,
            env=world.jobs.github("han"),
            now=NOW,
        )
        assert result.code in (0, 1), result.stderr
        return _approval_rules(json.loads(result.stdout))

    assert gate_with(b"minwon 1.4.2 build 119") == {"approval.other-artifact"}  # rebuilt after the tests
    assert gate_with(b"minwon 1.4.2 build 118") == set()
    reliability.row(
        "release approvals name build 118 of minwon.war (`approve --artifact`); build 119 of the same commit "
        "is deployed (`gate --artifact`)",
        "another build than the one approved",
        "block: approval.other-artifact names the artefact; the approved build passes",
    )


def test_a_bad_artifact_argument_is_an_input_error_in_both_languages(
    repo: GitRepo, reliability: Recorder
) -> None:
    cases = [
        (["--artifact", "minwon.war=dist/missing.war"], "cannot read the artefact", "읽을 수 없습니다"),
        (["--artifact", "=dist/a.war"], "names no file", "파일이 없습니다"),
        (["--artifact", "a=dist/a.war", "--artifact", "a=dist/b.war"], "names 'a' twice", "두 번"),
    ]
    for name in ("a.war", "b.war"):
        repo.write(f"dist/{name}", name)
    for extra, en, ko in cases:
        for lang, text in (("en", en), ("ko", ko)):
            result = run_cli(
                ["--lang", lang, "deploy", "start", "--rfc", RFC, *extra], cwd=repo.path, now=NOW
            )
            assert result.code == 2 and "Traceback" not in result.stderr, result.stderr
            assert text in result.stderr, result.stderr
    assert not (repo.path / ".gatekeeper" / "ledger.db").exists()  # nothing was recorded
    reliability.row(
        "`deploy start --artifact` naming a missing file, no file, or one name twice",
        "bad input",
        "exit 2 naming the argument, in English and Korean; nothing recorded",
    )
