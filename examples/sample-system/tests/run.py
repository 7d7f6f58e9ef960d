"""The sample system's test runner: runs every `test_*` function of the given files and writes a JUnit XML
report, with nothing but the standard library (the demo runs it from a plain `pip install`).

    python tests/run.py --junitxml reports/unit/unit.xml tests/test_complaints.py
"""

from __future__ import annotations

import argparse
import importlib.util
import sys
import time
import traceback
from pathlib import Path
from xml.etree import ElementTree


def _functions(path: Path) -> list[tuple[str, object]]:
    spec = importlib.util.spec_from_file_location(path.stem, path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return [(name, value) for name, value in vars(module).items() if name.startswith("test_") and callable(value)]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--junitxml", required=True, type=Path)
    parser.add_argument("files", nargs="+", type=Path)
    args = parser.parse_args()
    sys.path.insert(0, str(Path.cwd()))
    suite = ElementTree.Element("testsuite", name="sample-system")
    counts = {"tests": 0, "failures": 0, "errors": 0}
    for path in args.files:
        for name, function in _functions(path):
            counts["tests"] += 1
            case = ElementTree.SubElement(suite, "testcase", classname=path.stem, name=name)
            started = time.perf_counter()
            try:
                function()  # type: ignore[operator]
            except AssertionError as exc:
                counts["failures"] += 1
                failure = ElementTree.SubElement(case, "failure", message=str(exc) or "assertion failed")
                failure.text = traceback.format_exc()
            except Exception as exc:  # a test that crashes is an error, not a failure
                counts["errors"] += 1
                error = ElementTree.SubElement(case, "error", message=f"{type(exc).__name__}: {exc}")
                error.text = traceback.format_exc()
            case.set("time", f"{time.perf_counter() - started:.3f}")
    for key, value in counts.items():
        suite.set(key, str(value))
    suite.set("skipped", "0")
    args.junitxml.parent.mkdir(parents=True, exist_ok=True)
    ElementTree.ElementTree(suite).write(args.junitxml, encoding="utf-8", xml_declaration=True)
    bad = counts["failures"] + counts["errors"]
    print(f"{counts['tests'] - bad} passed, {bad} failed")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
