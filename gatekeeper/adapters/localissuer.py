"""A small OIDC issuer on this machine, for `gatekeeper demo`, the test suite and `make bench`.

It serves what gatekeeper reads from a real issuer — the discovery document
(`/.well-known/openid-configuration`) and the key set (`/.well-known/jwks`) — and a token endpoint that
behaves like the GitHub Actions runtime's: `GET <ACTIONS_ID_TOKEN_REQUEST_URL>&audience=...` with
`Authorization: Bearer <ACTIONS_ID_TOKEN_REQUEST_TOKEN>` answers `{"value": "<jwt>"}`. Tokens are RS256
and carry the claim sets GitHub and GitLab document (`github_claims`, `gitlab_claims`); GitLab's
`id_tokens:` are minted directly (`mint`), as GitLab puts them in a variable before the job starts.

It listens on 127.0.0.1 only and is never a production issuer: its keys live in memory for one run.
"""

from __future__ import annotations

import json
import secrets
import threading
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

TOKEN_LIFETIME = timedelta(minutes=5)


@dataclass
class SigningKey:
    kid: str
    private: Any  # cryptography's RSAPrivateKey

    @classmethod
    def generate(cls, kid: str) -> SigningKey:
        from cryptography.hazmat.primitives.asymmetric import rsa

        return cls(kid, rsa.generate_private_key(public_exponent=65537, key_size=2048))

    @property
    def jwk(self) -> dict[str, Any]:
        from jwt.algorithms import RSAAlgorithm

        public: dict[str, Any] = RSAAlgorithm.to_jwk(self.private.public_key(), as_dict=True)
        return {**public, "kid": self.kid, "use": "sig", "alg": "RS256"}


@dataclass
class Job:
    """A job the token endpoint answers for: its bearer token and the claims of its tokens (`answer`, when
    given, makes the token for an audience instead: what a compromised or misbehaving runtime would send)."""

    claims: dict[str, Any]
    bearer: str = field(default_factory=lambda: secrets.token_urlsafe(24))
    answer: Callable[[str], str] | None = None


@dataclass
class LocalIssuer:
    clock: Callable[[], datetime] = lambda: datetime.now(UTC)
    keys: list[SigningKey] = field(default_factory=list)
    down: bool = False  # answer every request with 503, as an issuer in an outage does
    requests: list[str] = field(default_factory=list)  # paths asked for, in order
    _jobs: dict[str, Job] = field(default_factory=dict)
    _server: ThreadingHTTPServer | None = None
    _thread: threading.Thread | None = None

    def __post_init__(self) -> None:
        if not self.keys:
            self.keys.append(SigningKey.generate("local-1"))

    # -- lifecycle ---------------------------------------------------------------------------------------

    def start(self) -> LocalIssuer:
        issuer = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                issuer._answer(self)

            def log_message(self, format: str, *args: Any) -> None:
                return  # quiet: tests and the demo print what matters themselves

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def __enter__(self) -> LocalIssuer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def url(self) -> str:
        assert self._server is not None, "start() the issuer first"
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    @property
    def jwks(self) -> dict[str, Any]:
        return {"keys": [key.jwk for key in self.keys]}

    # -- tokens ------------------------------------------------------------------------------------------

    def mint(
        self,
        claims: Mapping[str, Any],
        audience: str,
        *,
        key: SigningKey | None = None,
        issued: datetime | None = None,
        lifetime: timedelta = TOKEN_LIFETIME,
    ) -> str:
        import jwt

        signer = key or self.keys[0]
        moment = issued or self.clock()
        body = {
            "jti": str(uuid.uuid4()),
            "iss": self.url,
            "aud": audience,
            "iat": int(moment.timestamp()),
            "nbf": int(moment.timestamp()) - 5,
            "exp": int((moment + lifetime).timestamp()),
            **claims,
        }
        return jwt.encode(body, signer.private, algorithm="RS256", headers={"kid": signer.kid})

    def actions_job(
        self, claims: Mapping[str, Any], *, answer: Callable[[str], str] | None = None
    ) -> dict[str, str]:
        """The variables the Actions runner gives a job with `permissions: id-token: write`."""
        job_id = uuid.uuid4().hex
        job = Job(dict(claims), answer=answer)
        self._jobs[job_id] = job
        return {
            "ACTIONS_ID_TOKEN_REQUEST_URL": f"{self.url}/idtoken/{job_id}?api-version=2.0",
            "ACTIONS_ID_TOKEN_REQUEST_TOKEN": job.bearer,
        }

    # -- HTTP --------------------------------------------------------------------------------------------

    def _answer(self, handler: BaseHTTPRequestHandler) -> None:
        parts = urlsplit(handler.path)
        self.requests.append(parts.path)
        if self.down:
            return self._send(handler, 503, {"message": "the issuer is down"})
        if parts.path == "/.well-known/openid-configuration":
            return self._send(
                handler,
                200,
                {
                    "issuer": self.url,
                    "jwks_uri": f"{self.url}/.well-known/jwks",
                    "subject_types_supported": ["public", "pairwise"],
                    "response_types_supported": ["id_token"],
                    "id_token_signing_alg_values_supported": ["RS256"],
                    "scopes_supported": ["openid"],
                },
            )
        if parts.path == "/.well-known/jwks":
            return self._send(handler, 200, self.jwks)
        if parts.path.startswith("/idtoken/"):
            job = self._jobs.get(parts.path.removeprefix("/idtoken/"))
            authorization = handler.headers.get("Authorization", "")
            if job is None or authorization != f"Bearer {job.bearer}":
                return self._send(handler, 401, {"message": "Unauthorized"})
            audience = parse_qs(parts.query).get("audience", [""])[-1]
            token = job.answer(audience) if job.answer is not None else self.mint(job.claims, audience)
            return self._send(handler, 200, {"value": token})
        return self._send(handler, 404, {"message": "Not Found"})

    @staticmethod
    def _send(handler: BaseHTTPRequestHandler, status: int, body: Mapping[str, Any]) -> None:
        data = json.dumps(body).encode("utf-8")
        handler.send_response(status)
        handler.send_header("Content-Type", "application/json")
        handler.send_header("Content-Length", str(len(data)))
        handler.end_headers()
        handler.wfile.write(data)


def github_claims(
    repository: str,
    actor: str,
    *,
    environment: str = "gatekeeper-approvals",
    workflow: str = ".github/workflows/gatekeeper-approve.yml",
    ref: str = "refs/heads/main",
    protected: bool = True,
    sha: str = "0" * 40,
) -> dict[str, Any]:
    """The claims GitHub documents for a job of `workflow` run on `ref` at commit `sha` by `actor` in
    `environment`."""
    owner = repository.split("/", 1)[0]
    workflow_ref = f"{repository}/{workflow}@{ref}"
    return {
        "sub": f"repo:{repository}:environment:{environment}",
        "environment": environment,
        "ref": ref,
        "ref_type": "branch",
        "ref_protected": "true" if protected else "false",
        "sha": sha,
        "repository": repository,
        "repository_owner": owner,
        "repository_id": "74",
        "repository_owner_id": "65",
        "repository_visibility": "private",
        "actor": actor,
        "actor_id": str(sum(map(ord, actor))),
        "run_id": "1",
        "run_number": "1",
        "run_attempt": "1",
        "runner_environment": "github-hosted",
        "workflow": "gatekeeper approve",
        "workflow_ref": workflow_ref,
        "workflow_sha": "0" * 40,
        "job_workflow_ref": workflow_ref,
        "job_workflow_sha": "0" * 40,
        "head_ref": "",
        "base_ref": "",
        "event_name": "workflow_dispatch",
    }


def gitlab_claims(
    host: str,
    project: str,
    user: str,
    *,
    environment: str = "gatekeeper-approvals/cab",
    config_path: str = ".gitlab-ci.yml",
    branch: str = "main",
    protected: bool = True,
    environment_protected: bool = True,
    job_id: str = "4242",
    sha: str = "0" * 40,
) -> dict[str, Any]:
    """The claims GitLab documents for an `id_tokens:` token of a job run by `user` at commit `sha`."""
    namespace = project.rsplit("/", 1)[0]
    return {
        "sub": f"project_path:{project}:ref_type:branch:ref:{branch}",
        "namespace_id": "1",
        "namespace_path": namespace,
        "project_id": "22",
        "project_path": project,
        "user_id": "42",
        "user_login": user,
        "user_email": f"{user}@example.go.kr",
        "user_access_level": "maintainer",
        "pipeline_id": "1000",
        "pipeline_source": "web",
        "job_id": job_id,
        "ref": branch,
        "ref_type": "branch",
        "ref_path": f"refs/heads/{branch}",
        "ref_protected": "true" if protected else "false",
        "environment": environment,
        "environment_protected": "true" if environment_protected else "false",
        "environment_action": "prepare",
        "deployment_tier": "other",
        "runner_id": 1,
        "runner_environment": "self-hosted",
        "sha": sha,
        "project_visibility": "private",
        "ci_config_ref_uri": f"{host}/{project}//{config_path}@refs/heads/{branch}",
        "ci_config_sha": "0" * 40,
    }
