"""Coverage-guided fuzzing (atheris) of the two parsers that read attacker-controlled bytes: the streaming
test-result XML parser and the YAML reader behind every configuration, policy and RFC file.

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
}
HARNESSES = {
    "xml": "JUnit/xUnit/NUnit/TRX parser (gatekeeper.adapters.evidence.parse_report)",
    "yaml": "YAML reader and config/policy/RFC models (gatekeeper.config)",
}


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


def _harness(name: str, seconds: int) -> None:
    """Runs inside the child process: atheris takes over the process and exits at the time limit."""
    import atheris

    scratch = Path(tempfile.mkdtemp(prefix=f"gatekeeper-atheris-{name}-")) / "input"
    target = _one_input_xml if name == "xml" else _one_input_yaml
    with atheris.instrument_imports():
        pass

    def test_one_input(data: bytes) -> None:
        target(data, scratch)

    corpus = OUT / "atheris" / f"{name}-corpus"
    corpus.mkdir(parents=True, exist_ok=True)
    for seed in CORPUS_SEEDS[name]:
        if seed.stat().st_size < 64_000:
            (corpus / seed.name).write_bytes(seed.read_bytes())
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
