"""`python -m benchmarks`: run the `main()` of every benchmarks/bench_*.py module, in name order."""

from __future__ import annotations

import importlib
import sys
from pathlib import Path


def main() -> int:
    chosen = set(sys.argv[1:])
    for path in sorted(Path(__file__).resolve().parent.glob("bench_*.py")):
        if chosen and path.stem not in chosen:
            continue
        print(f"== {path.stem}", flush=True)
        importlib.import_module(f"benchmarks.{path.stem}").main()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
