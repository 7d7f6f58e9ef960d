"""Coverage-guided fuzzing (atheris) of the parsers that read attacker-controlled bytes: the streaming
test-result XML parser, the YAML reader behind every configuration, policy and RFC file, the CI event
payload reader, the ledger's stored records with their typed payloads, and the times given on the command
line — every input that once crashed gatekeeper (`tests="inf"`, a 5,000-digit integer, JSON nested
200,000 deep, NaN in a ledger row, `--at 0001-01-01…`) has a harness here.

    python -m tests.adversarial.atheris_run [--seconds N]     (default 60 per harness; `make fuzz`)

Each harness runs in its own process for a bounded time (`-max_total_time`); an input that raises anything
but the parser's expected error is a finding and is saved under build/adversarial/atheris/. The results
join the hypothesis run's in build/adversarial/results.json, and docs/reliability.md is regenerated.
Without atheris (the `fuzz` extra) the harnesses are skipped with a message and the table is still written.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

from tests.adversarial import reliability

ROOT = Path(__file__).resolve().parents[2]
OUT = ROOT / "build" / "adversarial"
CORPUS_SEEDS = {
    "xml": sorted((ROOT / "tests" / "corpora" / "test-results").rglob("*.xml"))[:60],
    "yaml": [ROOT / "policies" / "kr-ap-sop.yaml", ROOT / "policies" / "minimal.yaml"],
    "event": sorted((ROOT / "tests" / "corpora").rglob("*.json"))[:40],
    "record": [],  # seeded with gatekeeper's own records by `_record_seeds`
    "time": [],
}
HARNESSES = {
    "xml": "JUnit/xUnit/NUnit/TRX parser (gatekeeper.adapters.evidence.parse_report)",
    "yaml": "YAML reader and config/policy/RFC models (gatekeeper.config)",
    "event": "GitHub event payload reader (gatekeeper.adapters.ci.context.github_context)",
    "record": "stored ledger records and their typed payloads (ledger.parse_stored, domain.records.read)",
    "time": "times on the command line: --at, --since, --until (commands._options)",
}
TIME_SEEDS = [
    b"2026-11-24T10:00:00+09:00",
    b"0001-01-01T00:00:00+00:00",
    b"9999-12-31T23:59:59-12:00",
    b"2026-11-24",
    b"2026-11-24T01:00:00Z",
]


def _one_input_xml(data: bytes, scratch: Path) -> None:
    from gatekeeper.adapters.evidence import parse_report
    from gatekeeper.errors import InputError

    scratch.write_bytes(data)
    with contextlib.suppress(InputError):
        parse_report(scratch)


def _one_input_yaml(data: bytes, scratch: Path) -> None:
    from gatekeeper.config import Config, Policy, Rfc, parse_model
    from gatekeeper.config._yaml import load_yaml
    from gatekeeper.errors import ConfigError

    scratch.write_bytes(data)
    try:
        located = load_yaml(scratch)
    except ConfigError:
        return
    for model in (Config, Policy, Rfc):
        with contextlib.suppress(ConfigError):
            parse_model(model, located, "file")


def _one_input_event(data: bytes, scratch: Path) -> None:
    from gatekeeper.adapters.ci.context import github_context
    from gatekeeper.errors import InputError

    scratch.write_bytes(data)
    env = {
        "GITHUB_EVENT_PATH": str(scratch),
        "GITHUB_EVENT_NAME": "push" if data[:1] != b" " else "pull_request",
        "GITHUB_SHA": "a" * 40,
        "GITHUB_ACTOR": "dev",
    }
    with contextlib.suppress(InputError):
        github_context(env)


def _one_input_record(data: bytes, _scratch: Path) -> None:
    from gatekeeper.domain.records import PayloadError, read
    from gatekeeper.errors import LedgerIntegrityError
    from gatekeeper.ledger import parse_stored

    try:
        text = data.decode("utf-8")
        record = parse_stored(text, what="fuzzed record", hint="")
    except (UnicodeDecodeError, LedgerIntegrityError):
        return
    with contextlib.suppress(PayloadError):
        read(record)


def _one_input_time(data: bytes, _scratch: Path) -> None:
    from zoneinfo import ZoneInfo

    from gatekeeper.commands._options import parse_moment, parse_time
    from gatekeeper.errors import GatekeeperError

    text = data.decode("utf-8", "replace")
    with contextlib.suppress(GatekeeperError):
        parse_time(text, "--at")
    with contextlib.suppress(GatekeeperError):
        parse_moment(text, ZoneInfo("Asia/Seoul"), end=True, option="--until")


INSTRUMENTED = {
    "xml": ["gatekeeper.adapters.evidence", "gatekeeper.adapters.evidence._parse"],
    "yaml": ["gatekeeper.config", "gatekeeper.config._yaml", "gatekeeper.config.models"],
    "event": ["gatekeeper.adapters.ci.context", "gatekeeper.domain.canonical"],
    "record": ["gatekeeper.ledger", "gatekeeper.domain.records", "gatekeeper.domain.canonical"],
    "time": ["gatekeeper.commands._options"],
}
TARGETS = {
    "xml": _one_input_xml,
    "yaml": _one_input_yaml,
    "event": _one_input_event,
    "record": _one_input_record,
    "time": _one_input_time,
}


def _record_seeds() -> list[bytes]:
    """Records as gatekeeper writes them: an approval, a deployment start and finish."""
    from datetime import UTC, datetime

    from gatekeeper.ledger import Draft, Record

    at = datetime(2026, 11, 24, 11, 0, tzinfo=UTC)
    drafts = [
        Draft(
            "approval", "minwon-portal", "kim", "local", at, {"step": "cab", "decision": "approve"}, ("R-1",)
        ),
        Draft(
            "deployment.started",
            "minwon-portal",
            "ci",
            "github-actions",
            at,
            {"environment": "production"},
            (),
        ),
        Draft("deployment.finished", "minwon-portal", "ci", "github-actions", at, {"result": "failure"}, ()),
    ]
    out: list[bytes] = []
    record: Record | None = None
    for draft in drafts:
        record = draft.place_after(record)
        out.append(record.to_json().encode("utf-8"))
    return out


def _harness(name: str, seconds: int) -> None:
    """Runs inside the child process: atheris takes over the process and exits at the time limit."""
    import atheris

    scratch = Path(tempfile.mkdtemp(prefix=f"gatekeeper-atheris-{name}-")) / "input"
    import importlib

    target = TARGETS[name]
    # Instrumented on import: the coverage the mutations are guided by is the parsers' own.
    with atheris.instrument_imports(include=["gatekeeper"]):
        for module in INSTRUMENTED[name]:
            importlib.import_module(module)

    def test_one_input(data: bytes) -> None:
        target(data, scratch)

    corpus = OUT / "atheris" / f"{name}-corpus"
    corpus.mkdir(parents=True, exist_ok=True)
    for seed in CORPUS_SEEDS[name]:
        if seed.stat().st_size < 64_000:
            (corpus / seed.name).write_bytes(seed.read_bytes())
    extra = {"record": _record_seeds, "time": lambda: TIME_SEEDS}.get(name)
    for i, seed_bytes in enumerate(extra() if extra else []):
        (corpus / f"seed-{i}").write_bytes(seed_bytes)
    artifacts = OUT / "atheris" / f"{name}-crashes"
    artifacts.mkdir(parents=True, exist_ok=True)
    for old in artifacts.glob("*"):  # findings of an earlier run are in its log; this run reports its own
        old.unlink()
    args = [
        sys.argv[0],
        str(corpus),
        f"-max_total_time={seconds}",
        "-max_len=65536",
        "-rss_limit_mb=2048",
        f"-artifact_prefix={artifacts}/",
        "-print_final_stats=1",
    ]
    atheris.Setup(args, test_one_input)
    atheris.Fuzz()


def _run(name: str, seconds: int) -> dict[str, object]:
    log = OUT / "atheris" / f"{name}.log"
    log.parent.mkdir(parents=True, exist_ok=True)
    with log.open("w", encoding="utf-8") as handle:
        child = subprocess.run(
            [
                sys.executable,
                "-m",
                "tests.adversarial.atheris_run",
                "--child",
                name,
                "--seconds",
                str(seconds),
            ],
            cwd=ROOT,
            stdout=handle,
            stderr=subprocess.STDOUT,
            timeout=seconds * 3 + 120,
            check=False,
        )
    text = log.read_text(encoding="utf-8", errors="replace")
    runs = next(
        (line.split()[-1] for line in text.splitlines() if "stat::number_of_executed_units" in line), "?"
    )
    crashes = sorted(p.name for p in (OUT / "atheris" / f"{name}-crashes").glob("*"))
    ok = child.returncode == 0 and not crashes
    outcome = f"{runs} inputs in {seconds} s, " + (
        "no crash" if ok else f"FINDINGS: {', '.join(crashes) or 'exit ' + str(child.returncode)}"
    )
    return {
        "test": f"atheris:{name}",
        "section": "atheris",
        "input": HARNESSES[name],
        "fault": "coverage-guided mutation (atheris/libFuzzer)",
        "outcome": outcome,
        "lost": 0,
        "result": "passed" if ok else "failed",
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=int, default=int(os.environ.get("GATEKEEPER_FUZZ_SECONDS", "60")))
    parser.add_argument("--child", choices=sorted(HARNESSES))
    args = parser.parse_args(argv)
    if args.child:
        _harness(args.child, args.seconds)
        return 0
    try:
        import atheris  # noqa: F401
    except ImportError:
        print(
            "atheris is not installed, so the coverage-guided harnesses are skipped "
            "(install the fuzz extra: .venv/bin/pip install -e '.[fuzz]'); writing the table without them",
            file=sys.stderr,
        )
        rows: list[dict[str, object]] = []
    else:
        rows = [_run(name, args.seconds) for name in HARNESSES]
    results = reliability.load()
    results["rows"] = [r for r in results.get("rows", []) if r.get("section") != "atheris"] + rows
    reliability.RESULTS.parent.mkdir(parents=True, exist_ok=True)
    reliability.RESULTS.write_text(json.dumps(results, ensure_ascii=False, indent=1), encoding="utf-8")
    reliability.write_doc(results)
    print(f"wrote {reliability.DOC.relative_to(ROOT)}")
    return 0 if all(r["result"] == "passed" for r in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
