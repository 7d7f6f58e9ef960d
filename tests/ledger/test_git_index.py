"""The git ledger's look-up index must never hide a record: what it reads from a stored row's bytes is what
a JSON parser reads from them, or the row is a candidate of every look-up."""

from __future__ import annotations

import json
import os
import subprocess
from datetime import UTC, datetime
from pathlib import Path

from hypothesis import given
from hypothesis import strategies as st

from gatekeeper.ledger import Draft, record_matches
from gatekeeper.ledger.git import GitLedger, _encoded, _members

TEXT = st.text(alphabet=st.characters(codec="utf-8"), max_size=12)
NOW = datetime(2026, 11, 24, 11, 0, tzinfo=UTC)


def _parsed(row: bytes) -> tuple[bytes, bytes, list[bytes]] | None:
    try:
        body = json.loads(row)
    except ValueError:
        return None
    return _encoded(body["kind"]), _encoded(body["system"]), [_encoded(r) for r in body["rfcs"]]


@given(kind=TEXT, system=TEXT, rfcs=st.lists(TEXT, max_size=3), data=st.dictionaries(TEXT, TEXT, max_size=3))
def test_the_members_of_a_canonical_record_are_what_a_parser_reads(
    kind: str, system: str, rfcs: list[str], data: dict[str, str]
) -> None:
    record = Draft(kind, system, "kim", "local", NOW, data, tuple(rfcs)).place(7, "0" * 64)
    row = record.to_json().encode()
    assert _members(row) == _parsed(row)


@given(
    kind=TEXT,
    tail=st.sampled_from(
        [
            ',"kind":"{}"}}',  # a second kind after the canonical members: the parser keeps it
            " }}",  # whitespace: not canonical
            ',"zzz":{{"kind":"{}"}}}}',  # a nested object last
        ]
    ),
)
def test_a_row_that_is_not_canonical_is_read_as_a_parser_reads_it(kind: str, tail: str) -> None:
    record = Draft("approval", "a", "kim", "local", NOW, {}, ("RFC-1",)).place(3, "0" * 64)
    row = (record.to_json()[:-1] + tail.format(json.dumps(kind)[1:-1])).encode()
    members = _members(row)
    assert members is None or members == _parsed(row)


def test_rows_that_are_no_record_stay_candidates() -> None:
    for row in (b"", b"not json", b"[1, 2]", b'{"kind": 1, "system": "a", "rfcs": []}', b"[" * 5000):
        assert _members(row) is None


def test_find_through_the_index_is_a_plain_filter_over_every_record(tmp_path: Path) -> None:
    remote = tmp_path / "remote.git"
    subprocess.run(["git", "init", "-q", "--bare", str(remote)], check=True)
    subprocess.run(["git", "init", "-q", "--bare", str(tmp_path / "w.git")], check=True)
    writer = GitLedger(tmp_path / "w.git", remote=str(remote), env=os.environ)
    hostile = ['a"b', "a\\b", 'x","prev":"', "민원", "a\nb", ""]
    for i, text in enumerate(hostile * 2):
        writer.append(
            Draft(text if i % 2 else "approval", hostile[i % 3], "kim", "local", NOW, {}, (text, "R"))
        )
    subprocess.run(["git", "init", "-q", "--bare", str(tmp_path / "r.git")], check=True)
    reader = GitLedger(tmp_path / "r.git", remote=str(remote), env=os.environ)
    every = list(reader.records())
    for kind in [None, "approval", *hostile]:
        for system in [None, *hostile[:3]]:
            for rfc in [None, "R", *hostile]:
                expected = [r for r in every if record_matches(r, kind=kind, system=system, rfc=rfc)]
                assert list(reader.find(kind=kind, system=system, rfc=rfc)) == expected
