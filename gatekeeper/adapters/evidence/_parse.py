"""The streaming counter behind `parse_report`: one expat pass, one handler per format.

Expat is driven directly (not through ElementTree) so no element objects are built at all: each format's
handler keeps counters and a stack of open suites. Entity declarations and external DTDs are refused in
handlers, which is how defusedxml hardens expat too.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from pathlib import Path
from xml.parsers import expat

from gatekeeper.errors import InputError
from gatekeeper.messages import Message, msg

DEFAULT_MAX_BYTES = 1 << 30  # 1 GiB
FORMATS: tuple[str, ...] = ("junit", "xunit", "nunit", "trx")
_CHUNK = 1 << 20
_MAX_DEPTH = 256

# The format each root element announces.
_ROOTS: dict[str, str] = {
    "testsuites": "junit",
    "testsuite": "junit",
    "assemblies": "xunit",
    "assembly": "xunit",
    "test-run": "nunit",
    "test-results": "nunit",
    "test-suite": "nunit",  # an NUnit 3 report cut down to its assembly suite
    "TestRun": "trx",
}

PASSED, SKIPPED, FAILED, ERROR = 0, 1, 2, 3  # ordered: the worst result of a test wins


class _Refused(Exception):
    """Raised inside an expat handler to stop the parse; carries the user-facing reason (and, where it is
    written, its Korean and a fix of its own)."""

    def __init__(self, message: str | Message, *, hint: Message | None = None) -> None:
        super().__init__(str(message))
        self.ko = message.ko if isinstance(message, Message) else ""
        self.hint, self.hint_ko = (hint.en, hint.ko) if hint is not None else ("", "")


@dataclass
class Counts:
    format: str = ""
    digest: str = ""
    tests: int = 0
    passed: int = 0
    failed: int = 0
    errors: int = 0
    skipped: int = 0
    suites: int = 0
    timestamp: str | None = None
    hostname: str | None = None

    def add(self, result: int, count: int = 1) -> None:
        self.tests += count
        if result == PASSED:
            self.passed += count
        elif result == SKIPPED:
            self.skipped += count
        elif result == FAILED:
            self.failed += count
        else:
            self.errors += count


# More tests than any run reports; a larger "count" is not one (and `1e400` or `inf` is not a number).
MAX_COUNT = 10**9


def _count(attrs: dict[str, str], name: str) -> int:
    """A suite's total, as a whole number of tests; an absent or empty attribute is 0."""
    value = attrs.get(name, "").strip()
    if not value:
        return 0
    digits = value.lstrip("0") or "0"
    if not (value.isascii() and value.isdigit()) or len(digits) > 10 or int(digits) > MAX_COUNT:
        shown = value[:40] + ("…" if len(value) > 40 else "")
        raise _Refused(
            msg(
                '{name}="{shown}" is not a count of tests (a whole number up to {MAX_COUNT})',
                name=name,
                shown=shown,
                MAX_COUNT=MAX_COUNT,
            ),
            hint=msg(
                "the report's totals are whole numbers; re-run the tests so that the runner writes it again"
            ),
        )
    return int(digits)


@dataclass
class _Suite:
    cases: bool = False
    children: bool = False
    # failures, errors, skipped, tests: read when the suite opens, so a bad one is refused at its line
    totals: tuple[int, int, int, int] = (0, 0, 0, 0)


@dataclass
class _Handler:
    """Base: a stack of open elements; subclasses react to the tags of their format."""

    counts: Counts
    stack: list[str] = field(default_factory=list)

    def start(self, tag: str, attrs: dict[str, str]) -> None:
        raise NotImplementedError

    def end(self, tag: str) -> None:
        raise NotImplementedError


@dataclass
class _JUnit(_Handler):
    suites: list[_Suite] = field(default_factory=list)
    case: int | None = None  # the worst result seen in the open <testcase>
    case_depth: int = 0

    def start(self, tag: str, attrs: dict[str, str]) -> None:
        depth = len(self.stack)
        if tag == "testsuite":
            if self.suites:
                self.suites[-1].children = True
            skipped = _count(attrs, "skipped") or _count(attrs, "skip") or _count(attrs, "disabled")
            totals = (_count(attrs, "failures"), _count(attrs, "errors"), skipped, _count(attrs, "tests"))
            self.suites.append(_Suite(totals=totals))
            self.counts.suites += 1
            self.counts.timestamp = self.counts.timestamp or attrs.get("timestamp")
            self.counts.hostname = self.counts.hostname or attrs.get("hostname")
        elif tag == "testcase" and self.case is None:
            self.case, self.case_depth = PASSED, depth
            if self.suites:
                self.suites[-1].cases = True
            status = attrs.get("status", "").lower()
            if status in {"disabled", "skipped", "notrun"}:
                self.case = SKIPPED
            elif status in {"error", "errored"}:
                self.case = ERROR
            elif status in {"failed", "failure"}:
                self.case = FAILED
        elif self.case is not None and depth == self.case_depth + 1:
            # Surefire's flaky*/rerun* elements describe reruns: the <failure>/<error> beside them decides.
            result = {"skipped": SKIPPED, "failure": FAILED, "error": ERROR}.get(tag)
            if result is not None:
                self.case = max(self.case, result)

    def end(self, tag: str) -> None:
        depth = len(self.stack)
        if tag == "testcase" and self.case is not None and depth == self.case_depth:
            self.counts.add(self.case)
            self.case = None
        elif tag == "testsuite" and self.suites:
            suite = self.suites.pop()
            if not suite.cases and not suite.children:
                # A suite that only reports totals (some Bazel and Go runners): take its attributes.
                failed, errors, skipped, total = suite.totals
                self.counts.add(FAILED, failed)
                self.counts.add(ERROR, errors)
                self.counts.add(SKIPPED, skipped)
                self.counts.add(PASSED, max(0, total - failed - errors - skipped))


_XUNIT_RESULTS = {"pass": PASSED, "fail": FAILED, "skip": SKIPPED, "notrun": SKIPPED}


@dataclass
class _XUnit(_Handler):
    def start(self, tag: str, attrs: dict[str, str]) -> None:
        if tag == "assembly":
            if self.counts.timestamp is None and attrs.get("run-date"):
                self.counts.timestamp = f"{attrs['run-date']}T{attrs.get('run-time', '00:00:00')}"
        elif tag == "collection" or (tag == "class" and self.stack[-1:] == ["assembly"]):
            self.counts.suites += 1  # xUnit.net v2 collections, v1 classes
        elif tag == "test" and "test" not in self.stack:
            self.counts.add(_XUNIT_RESULTS.get(attrs.get("result", "").lower(), ERROR))

    def end(self, tag: str) -> None:
        return None


_NUNIT_RESULTS = {
    # NUnit 3 results (with `label` refining Failed) and NUnit 2 results.
    "passed": PASSED,
    "success": PASSED,
    "warning": PASSED,
    "failed": FAILED,
    "failure": FAILED,
    "error": ERROR,
    "cancelled": ERROR,
    "skipped": SKIPPED,
    "ignored": SKIPPED,
    "notrunnable": SKIPPED,
    "inconclusive": SKIPPED,
    "notrun": SKIPPED,
}


def _nunit_result(attrs: dict[str, str]) -> int | None:
    """The result an NUnit 3 (or NUnit 2.5+) test-case states; None for old NUnit 2 files without one."""
    if "result" in attrs:
        return _NUNIT_RESULTS.get(attrs["result"].lower(), ERROR)
    if attrs.get("executed", "True").lower() == "false":
        return SKIPPED
    return FAILED if attrs.get("success", "").lower() == "false" else None


@dataclass
class _NUnit(_Handler):
    suites: list[_Suite] = field(default_factory=list)
    case: int | None = None
    case_depth: int = 0

    def start(self, tag: str, attrs: dict[str, str]) -> None:
        if tag in {"test-run", "test-results"} and not self.stack:
            self.counts.timestamp = attrs.get("start-time") or (
                f"{attrs['date']}T{attrs.get('time', '00:00:00')}" if attrs.get("date") else None
            )
        elif tag == "environment":
            self.counts.hostname = self.counts.hostname or attrs.get("machine-name")
        elif tag == "test-suite":
            self.suites.append(_Suite())
        elif tag == "test-case" and "test-case" not in self.stack:
            if self.suites:
                self.suites[-1].cases = True
            result = _nunit_result(attrs)
            label = attrs.get("label", "").lower()
            if result == FAILED and label in {"error", "invalid", "cancelled"}:
                result = ERROR
            # Without a stated result, a <failure> child decides (counted when the test-case ends).
            self.case = PASSED if result is None else result
            self.case_depth = len(self.stack)
        elif tag == "failure" and self.case == PASSED and len(self.stack) == self.case_depth + 1:
            self.case = FAILED

    def end(self, tag: str) -> None:
        if tag == "test-case" and self.case is not None and len(self.stack) == self.case_depth:
            self.counts.add(self.case)
            self.case = None
        elif tag == "test-suite" and self.suites and self.suites.pop().cases:
            self.counts.suites += 1


_TRX_RESULTS = {
    "passed": PASSED,
    "passedbutrunaborted": PASSED,
    "warning": PASSED,
    "failed": FAILED,
    "error": ERROR,
    "timeout": ERROR,
    "aborted": ERROR,
    "disconnected": ERROR,
    "notexecuted": SKIPPED,
    "notrunnable": SKIPPED,
    "inconclusive": SKIPPED,
    "pending": SKIPPED,
    "inprogress": ERROR,
    "completed": PASSED,
}


@dataclass
class _Trx(_Handler):
    def start(self, tag: str, attrs: dict[str, str]) -> None:
        if tag == "TestRun":
            self.counts.suites = 1
        elif tag == "Times" and self.stack[-1:] == ["TestRun"]:
            self.counts.timestamp = attrs.get("start") or attrs.get("creation")
        elif tag == "UnitTestResult" and "UnitTestResult" not in self.stack:
            # Data-driven rows sit in <InnerResults> of their parent result, which carries the verdict.
            self.counts.hostname = self.counts.hostname or attrs.get("computerName")
            self.counts.add(_TRX_RESULTS.get(attrs.get("outcome", "").lower(), ERROR))

    def end(self, tag: str) -> None:
        return None


_HANDLERS: dict[str, type[_Handler]] = {"junit": _JUnit, "xunit": _XUnit, "nunit": _NUnit, "trx": _Trx}


def parse_file(path: Path, format: str, max_bytes: int) -> Counts:
    if format != "auto" and format not in FORMATS:
        raise InputError(
            msg("{path}: unknown test-result format {format!r}", path=path, format=format),
            hint=msg("use auto or one of {formats}", formats=", ".join(FORMATS)),
        )
    try:
        size = path.stat().st_size
    except OSError as exc:
        raise InputError(
            msg("{path}: cannot read the test-result file ({strerror})", path=path, strerror=exc.strerror),
            hint=msg("check the file's path and permissions"),
        ) from None
    if size == 0:
        raise InputError(
            msg("{path}: the test-result file is empty", path=path),
            hint=msg("check that the test run wrote its report"),
        )
    if size > max_bytes:
        raise InputError(
            msg(
                "{path}: the test-result file is {size} bytes, over the limit of {max_bytes}",
                path=path,
                size=size,
                max_bytes=max_bytes,
            ),
            hint=msg("split the report per module or raise the evidence size limit"),
        )
    counts = Counts()
    sha = hashlib.sha256()
    state: dict[str, _Handler] = {}
    stack: list[str] = []

    def on_start(tag: str, attrs: dict[str, str]) -> None:
        handler = state.get("h")
        if handler is None:
            detected = _ROOTS.get(tag)
            if detected is None or (format != "auto" and detected != format):
                expected = format if format != "auto" else "a JUnit, xUnit, NUnit or TRX report"
                raise _Refused(f"root element <{tag}> is not {expected}")
            counts.format = detected
            handler = state["h"] = _HANDLERS[detected](counts, stack)
        if len(stack) >= _MAX_DEPTH:
            raise _Refused(f"elements nested deeper than {_MAX_DEPTH} levels")
        handler.start(tag, attrs)
        stack.append(tag)

    def on_end(tag: str) -> None:
        stack.pop()
        state["h"].end(tag)

    def on_doctype(name: str, sysid: str | None, pubid: str | None, has_internal: int) -> None:
        if sysid or pubid:
            raise _Refused("an external DTD is referenced (refused: nothing is fetched)")

    def on_entity(name: str, *_args: object) -> None:
        raise _Refused(f"the DTD declares entity {name!r} (refused: entity expansion and XXE)")

    def on_external(*_args: object) -> int:
        raise _Refused("an external entity is referenced (refused: nothing is fetched)")

    parser = expat.ParserCreate()
    parser.SetParamEntityParsing(expat.XML_PARAM_ENTITY_PARSING_NEVER)
    parser.StartElementHandler = on_start
    parser.EndElementHandler = on_end
    parser.StartDoctypeDeclHandler = on_doctype
    parser.EntityDeclHandler = on_entity
    parser.UnparsedEntityDeclHandler = on_entity
    parser.ExternalEntityRefHandler = on_external
    parser.buffer_text = True
    read = 0
    try:
        with path.open("rb") as stream:
            while chunk := stream.read(_CHUNK):
                read += len(chunk)
                if read > max_bytes:
                    raise _Refused(f"the file grew past the limit of {max_bytes} bytes while being read")
                sha.update(chunk)
                parser.Parse(chunk, False)
            parser.Parse(b"", True)
    except _Refused as exc:
        where = f"{path}:{parser.CurrentLineNumber}:{parser.CurrentColumnNumber + 1}"
        raise InputError(
            f"{where}: {exc}",
            hint=exc.hint or "give the test runner's own report file (JUnit, xUnit.net, NUnit or TRX XML)",
            ko=f"{where}: {exc.ko}" if exc.ko else "",
            hint_ko=exc.hint_ko,
        ) from None
    except expat.ExpatError as exc:
        raise InputError(
            msg(
                "{path}:{lineno}:{offset}: not well-formed XML ({ErrorString_code})",
                path=path,
                lineno=exc.lineno,
                offset=exc.offset + 1,
                ErrorString_code=expat.ErrorString(exc.code),
            ),
            hint=msg("the report is truncated or corrupt; re-run the tests to produce it again"),
        ) from None
    except (LookupError, ValueError) as exc:
        # The XML declaration names an encoding Python does not know, or a multi-byte one expat cannot take.
        raise InputError(
            msg(
                "{path}:1: the encoding the XML declaration names cannot be read ({exc})", path=path, exc=exc
            ),
            hint=msg(
                "write the report in UTF-8 (the runner's default), or re-run the tests if it is corrupt"
            ),
        ) from None
    except OSError as exc:
        raise InputError(
            msg("{path}: cannot read the test-result file ({strerror})", path=path, strerror=exc.strerror),
            hint=msg("check the file's path and permissions"),
        ) from None
    if "h" not in state:
        raise InputError(
            msg("{path}: no XML element found", path=path),
            hint=msg("give a JUnit, xUnit.net, NUnit or TRX report"),
        )
    counts.digest = f"sha256:{sha.hexdigest()}"
    return counts
