"""A local HTTP server that answers with recorded API responses, so the real PyGithub / python-gitlab
clients run end to end against 127.0.0.1.

A recording is a JSON file `{"exchanges": [...]}`; each exchange names the request it answers (`method`,
`path`, optionally `query` — a subset the request's query must contain) and the response (`status`,
`headers`, `body`). Exchanges are used once, in order (`times` repeats one); `delay` holds the answer back
to provoke a client timeout. `{{base}}` in a recording stands for the server's own URL, because API
responses carry absolute URLs that the clients follow. A request no exchange answers gets a 404 and is
listed in `unmatched`, so a test can assert that nothing unexpected was asked.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

RECORDINGS = Path(__file__).resolve().parent / "recordings"


@dataclass
class Seen:
    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    body: Any


@dataclass
class Replay:
    exchanges: list[dict[str, Any]]
    base: str = ""
    seen: list[Seen] = field(default_factory=list)
    unmatched: list[str] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def add(self, *exchanges: dict[str, Any]) -> None:
        with self.lock:
            self.exchanges.extend(json.loads(json.dumps(e).replace("{{base}}", self.base)) for e in exchanges)

    def answer(self, method: str, path: str, query: dict[str, str]) -> dict[str, Any] | None:
        with self.lock:
            for exchange in self.exchanges:
                if exchange.get("method", "GET") != method or exchange["path"] != path:
                    continue
                wanted = exchange.get("query") or {}
                if any(query.get(k) != str(v) for k, v in wanted.items()):
                    continue
                times = int(exchange.get("times", 1))
                if times <= 1:
                    self.exchanges.remove(exchange)
                else:
                    exchange["times"] = times - 1
                return exchange
        return None

    def requests(self, method: str | None = None, path: str | None = None) -> list[Seen]:
        return [
            s
            for s in self.seen
            if (method is None or s.method == method) and (path is None or s.path == path)
        ]


def load(name: str) -> list[dict[str, Any]]:
    data = json.loads((RECORDINGS / name).read_text(encoding="utf-8"))
    exchanges: list[dict[str, Any]] = data["exchanges"]
    return exchanges


def _handler(replay: Replay, prefix: str) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def _serve(self) -> None:
            parts = urlsplit(self.path)
            path = parts.path.removeprefix(prefix) or "/"
            query = {k: v[-1] for k, v in parse_qs(parts.query).items()}
            length = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(length) if length else b""
            try:
                body = json.loads(raw) if raw else None
            except ValueError:
                body = raw.decode("utf-8", "replace")
            replay.seen.append(Seen(self.command, path, query, dict(self.headers.items()), body))
            exchange = replay.answer(self.command, path, query)
            if exchange is None:
                replay.unmatched.append(f"{self.command} {path}?{parts.query}")
                exchange = {"status": 404, "body": {"message": "Not Found"}}
            if exchange.get("delay"):
                time.sleep(float(exchange["delay"]))
            payload = json.dumps(exchange.get("body")).encode() if "body" in exchange else b""
            self.send_response(int(exchange.get("status", 200)))
            headers = {"Content-Type": "application/json; charset=utf-8", **exchange.get("headers", {})}
            for name, value in headers.items():
                self.send_header(name, str(value))
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            with suppress(BrokenPipeError, ConnectionResetError):
                self.wfile.write(payload)

        do_GET = do_POST = do_PATCH = do_PUT = do_DELETE = _serve

        def log_message(self, *args: object) -> None:
            pass

    return Handler


@contextmanager
def serve(exchanges: list[dict[str, Any]], *, prefix: str = "") -> Iterator[Replay]:
    """Serve `exchanges` on 127.0.0.1; `prefix` is the API path prefix (`/api/v3`, `/api/v4`)."""
    replay = Replay([])
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(replay, prefix))
    server.daemon_threads = True
    replay.base = f"http://127.0.0.1:{server.server_address[1]}{prefix}"
    replay.add(*exchanges)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield replay
    finally:
        server.shutdown()
        server.server_close()
