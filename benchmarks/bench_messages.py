"""What the message catalogue costs (targets: a message said through it within 10x of the inline f-string
choice it replaced — a few microseconds, against the milliseconds a command takes — and the catalogue's
one-time load under a tenth of the CLI's own start-up).

- Per message: `tr(lang, template, **fields)` (a gettext lookup, then `str.format`) against the code it
  replaced, `ko if lang == "ko" else en` over two f-strings, for a finding with three fields, in Korean and
  in English. A gate says a few dozen messages; this is the price of each.
- Once per run: in a fresh interpreter, the first Korean message (reading the `.mo`) against the import of
  `gatekeeper.cli` before it (the start-up every command pays, `--version` included, which reads no
  catalogue); both timed inside the interpreter, so process creation does not blur them.
"""

from __future__ import annotations

import statistics
import subprocess
import sys
import time

from gatekeeper.messages import template, tr

ROUNDS = 50_000
STARTS = 25
TEMPLATE = (
    "step {step} of RFC {rfc_id} was approved by {actor} without a verified attestation of the CI platform "
    "(ledger record {seq})"
)


def _inline(lang: str, step: str, rfc_id: str, actor: str, seq: int) -> str:
    return (
        f"변경요청 {rfc_id}의 {step} 단계 승인({actor}, 원장 {seq}번)에 CI 플랫폼의 검증된 증명이 없습니다"
        if lang == "ko"
        else f"step {step} of RFC {rfc_id} was approved by {actor} without a verified attestation of the CI "
        f"platform (ledger record {seq})"
    )


def _per_call(say: object, lang: str) -> float:
    start = time.perf_counter()
    for n in range(ROUNDS):
        say(lang, "cab", f"RFC-2026-{n % 10_000:04d}", "kim", n)  # type: ignore[operator]
    return (time.perf_counter() - start) / ROUNDS * 1e6


def _catalogue(lang: str, step: str, rfc_id: str, actor: str, seq: int) -> str:
    return tr(lang, TEMPLATE, step=step, rfc_id=rfc_id, actor=actor, seq=seq)


_FRESH = """
import time
began = time.perf_counter()
import gatekeeper.cli
imported = time.perf_counter()
from gatekeeper.messages import template
template("ko", "x")
print(imported - began, time.perf_counter() - imported)
"""


def _start() -> tuple[float, float]:
    """Median milliseconds of (importing gatekeeper.cli, then reading the Korean catalogue)."""
    imports, loads = [], []
    for _ in range(STARTS):
        done = subprocess.run([sys.executable, "-c", _FRESH], check=True, capture_output=True, text=True)
        first, second = (float(x) for x in done.stdout.split())
        imports.append(first)
        loads.append(second)
    return statistics.median(imports) * 1000, statistics.median(loads) * 1000


def main() -> None:
    assert template("ko", TEMPLATE) != TEMPLATE  # a message of the catalogue, read once per process
    for lang in ("ko", "en"):
        inline = min(_per_call(_inline, lang) for _ in range(3))
        catalogue = min(_per_call(_catalogue, lang) for _ in range(3))
        print(
            f"one message ({lang}): inline {inline:.2f} µs, catalogue {catalogue:.2f} µs, "
            f"ratio {catalogue / inline:.2f} (target <= 10)"
        )
    bare, extra = _start()
    print(
        f"start-up: import gatekeeper.cli {bare:.1f} ms; reading the Korean catalogue adds {extra:.1f} ms, "
        f"ratio {extra / bare:.3f} (target < 0.1)"
    )


if __name__ == "__main__":
    main()
