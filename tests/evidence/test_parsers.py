"""Parser behaviour beyond the corpus: dialects, metadata, digests and hostile or broken files."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from gatekeeper.adapters.evidence import TestSummary, parse_many, parse_report
from gatekeeper.errors import InputError


def write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


SUREFIRE = """<?xml version="1.0" encoding="UTF-8"?>
<testsuite name="com.example.AppTest" tests="4" failures="1" errors="0" skipped="1"
           timestamp="2026-11-24T10:00:00" hostname="build-7">
  <properties><property name="java.version" value="21"/></properties>
  <testcase name="ok" classname="com.example.AppTest" time="0.1"/>
  <testcase name="flaky" classname="com.example.AppTest"><flakyFailure message="first try"/></testcase>
  <testcase name="broken" classname="com.example.AppTest">
    <failure message="boom"/><rerunFailure message="boom again"/>
  </testcase>
  <testcase name="later" classname="com.example.AppTest"><skipped/></testcase>
</testsuite>
"""


def test_surefire_reruns_metadata_and_digest(tmp_path: Path) -> None:
    path = write(tmp_path, "TEST-com.example.AppTest.xml", SUREFIRE)
    summary = parse_report(path)
    assert (summary.tests, summary.passed, summary.failed, summary.errors, summary.skipped) == (4, 2, 1, 0, 1)
    assert summary.format == "junit" and summary.suites == 1
    assert summary.timestamp == "2026-11-24T10:00:00" and summary.hostname == "build-7"
    assert summary.digest == "sha256:" + hashlib.sha256(path.read_bytes()).hexdigest()
    assert summary.success_rate == pytest.approx(200 / 3)
    assert summary.as_dict()["digest"] == summary.digest


def test_gotestsum_and_nunit3_and_trx(tmp_path: Path) -> None:
    go = write(
        tmp_path,
        "go.xml",
        """<testsuites tests="2" failures="1">
  <testsuite tests="2" failures="1" name="example.org/pkg" hostname="runner">
    <testcase classname="example.org/pkg" name="TestA"/>
    <testcase classname="example.org/pkg" name="TestB"><failure message="Failed"/></testcase>
  </testsuite></testsuites>""",
    )
    nunit = write(
        tmp_path,
        "nunit.xml",
        """<test-run start-time="2026-11-24 01:00:00Z">
  <test-suite type="TestFixture"><test-case result="Passed"/><test-case result="Failed" label="Error"/>
  <test-case result="Skipped" label="Ignored"/></test-suite></test-run>""",
    )
    trx = write(
        tmp_path,
        "run.trx",
        """<TestRun xmlns="http://microsoft.com/schemas/VisualStudio/TeamTest/2010">
  <Times start="2026-11-24T10:00:00+09:00"/><Results>
  <UnitTestResult outcome="Passed" computerName="win-1"><InnerResults>
    <UnitTestResult outcome="Passed"/><UnitTestResult outcome="Passed"/></InnerResults></UnitTestResult>
  <UnitTestResult outcome="Failed"/></Results></TestRun>""",
    )
    got = parse_many([go, nunit, trx])
    assert [(s.format, s.tests, s.passed, s.failed, s.errors, s.skipped) for s in got] == [
        ("junit", 2, 1, 1, 0, 0),
        ("nunit", 3, 1, 0, 1, 1),
        ("trx", 2, 1, 1, 0, 0),
    ]
    assert got[1].timestamp == "2026-11-24 01:00:00Z" and got[2].hostname == "win-1"
    assert all(isinstance(s, TestSummary) for s in got)


XXE = """<?xml version="1.0"?>
<!DOCTYPE testsuite [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>
<testsuite><testcase name="&xxe;"/></testsuite>"""
BILLION_LAUGHS = """<?xml version="1.0"?>
<!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
<!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">]>
<testsuite><testcase name="&lol3;"/></testsuite>"""
EXTERNAL_DTD = """<?xml version="1.0"?>
<!DOCTYPE testsuite SYSTEM "http://example.invalid/junit.dtd">
<testsuite><testcase name="a"/></testsuite>"""
PARAMETER_ENTITY = """<?xml version="1.0"?>
<!DOCTYPE testsuite [<!ENTITY % remote SYSTEM "http://example.invalid/x.dtd"> %remote;]>
<testsuite><testcase name="a"/></testsuite>"""


@pytest.mark.parametrize(
    ("text", "words"),
    [
        (XXE, "declares entity 'xxe'"),
        (BILLION_LAUGHS, "declares entity 'lol'"),
        (EXTERNAL_DTD, "external DTD"),
        (PARAMETER_ENTITY, "declares entity 'remote'"),
    ],
    ids=["xxe", "billion-laughs", "external-dtd", "parameter-entity"],
)
def test_hostile_files_are_refused(tmp_path: Path, text: str, words: str) -> None:
    path = write(tmp_path, "hostile.xml", text)
    with pytest.raises(InputError) as caught:
        parse_report(path)
    assert str(path) in caught.value.message and words in caught.value.message
    assert ":2:" in caught.value.message  # the place: line 2, where the DOCTYPE is


def test_plain_doctype_is_accepted(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "plain.xml",
        '<?xml version="1.0"?><!DOCTYPE testsuite><testsuite><testcase name="a"/></testsuite>',
    )
    assert parse_report(path).passed == 1


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("", "is empty"),
        ("not xml at all", "not well-formed XML"),
        ("<testsuite><testcase name='a'>", "not well-formed XML"),
        ("<project><build/></project>", "root element <project>"),
        ("<!-- only a comment -->", "not well-formed"),
    ],
)
def test_broken_files_name_the_file_and_place(tmp_path: Path, text: str, words: str) -> None:
    path = write(tmp_path, "report.xml", text)
    with pytest.raises(InputError) as caught:
        parse_report(path)
    assert str(path) in caught.value.message and words in caught.value.message
    assert caught.value.hint


def test_format_mismatch_size_cap_missing_file_and_depth(tmp_path: Path) -> None:
    junit = write(tmp_path, "a.xml", "<testsuite><testcase name='a'/></testsuite>")
    with pytest.raises(InputError, match="root element <testsuite> is not trx"):
        parse_report(junit, "trx")
    with pytest.raises(InputError, match="unknown test-result format"):
        parse_report(junit, "cobertura")
    with pytest.raises(InputError, match="over the limit of 10"):
        parse_report(junit, max_bytes=10)
    with pytest.raises(InputError, match="cannot read"):
        parse_report(tmp_path / "missing.xml")
    deep = write(tmp_path, "deep.xml", "<testsuite>" * 300 + "</testsuite>" * 300)
    with pytest.raises(InputError, match="nested deeper"):
        parse_report(deep)
