"""`gatekeeper schema config|rfc|policy|catalogue` prints JSON Schemas that accept what gatekeeper accepts."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from gatekeeper.commands.schema import schema_for
from gatekeeper.config._yaml import load_yaml
from gatekeeper.resources import policies_dir
from tests.helpers import BASE_CONFIG, VALID_RFC, run_cli

ROOT = Path(__file__).resolve().parents[1]


def _validator(kind: str) -> jsonschema.protocols.Validator:
    schema = schema_for(kind)
    jsonschema.Draft202012Validator.check_schema(schema)
    return jsonschema.Draft202012Validator(schema)


def _yaml(tmp_path: Path, text: str) -> Any:
    path = tmp_path / "doc.yml"
    path.write_text(text, encoding="utf-8")
    return load_yaml(path).data


def _shipped(kind: str, tmp_path: Path) -> list[tuple[str, Any]]:
    documents: list[tuple[str, Any]] = []
    if kind == "policy":
        documents = [(p.name, load_yaml(p).data) for p in sorted(policies_dir().glob("*.yaml"))]
    elif kind == "catalogue":
        documents = [
            (str(p), load_yaml(p).data) for p in sorted(ROOT.glob("examples/*/standard-changes.yml"))
        ]
    elif kind == "config":
        documents = [("BASE_CONFIG", _yaml(tmp_path, BASE_CONFIG))]
        documents += [
            (str(p), load_yaml(p).data) for p in sorted((ROOT / "examples").rglob(".gatekeeper.yml"))
        ]
    else:
        text = VALID_RFC.format(id="RFC-2026-0001", type="normal", requester="lee", status="active")
        documents = [("VALID_RFC", _yaml(tmp_path, text))]
        documents += [(str(p), load_yaml(p).data) for p in sorted((ROOT / "examples").rglob("changes/*.yml"))]
    return documents


@pytest.mark.parametrize("kind", ["config", "rfc", "policy", "catalogue"])
def test_schema_accepts_the_shipped_files(kind: str, tmp_path: Path) -> None:
    validator = _validator(kind)
    documents = _shipped(kind, tmp_path)
    assert documents
    for name, document in documents:
        errors = [e.message for e in validator.iter_errors(document)]
        assert errors == [], name


@pytest.mark.parametrize(
    ("kind", "text"),
    [
        ("config", BASE_CONFIG + "colour: red\n"),
        ("config", BASE_CONFIG.replace("grade: 1", 'grade: "1"')),
        ("config", BASE_CONFIG.replace("backend: sqlite", "backend: mysql")),
        (
            "rfc",
            VALID_RFC.format(id="RFC-2026-0001", type="normal", requester="lee", status="active") + "x: 1\n",
        ),
        ("rfc", VALID_RFC.format(id="RFC-2026-0001", type="urgent", requester="lee", status="active")),
        ("policy", "version: 1\nname: p\nrules:\n  gate.error: {default: block}\n"),
        ("policy", "version: 1\nname: p\nwindows: {}\n"),
        (
            "catalogue",
            "version: 1\nchanges: [{id: S, title: t, systems: [s], paths: [a], report_to: [kim], x: 1}]\n",
        ),
        ("config", BASE_CONFIG + "environments: {production: {kind: live}}\n"),
    ],
)
def test_schema_rejects_what_gatekeeper_rejects(kind: str, text: str, tmp_path: Path) -> None:
    assert not _validator(kind).is_valid(_yaml(tmp_path, text))


@pytest.mark.parametrize("kind", ["config", "rfc", "policy", "catalogue"])
def test_schema_command_prints_the_schema(kind: str, tmp_path: Path) -> None:
    result = run_cli(["schema", kind], cwd=tmp_path)  # no configuration needed
    assert result.code == 0, result.stderr
    schema = json.loads(result.stdout)
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert schema == json.loads(json.dumps(schema_for(kind)))
    assert schema["additionalProperties"] is False


def test_schema_command_refuses_an_unknown_kind(tmp_path: Path) -> None:
    result = run_cli(["schema", "ledger"], cwd=tmp_path)
    assert result.code == 2
    assert "invalid choice: 'ledger'" in result.stderr
