"""`gatekeeper schema config|rfc|policy|catalogue`: JSON Schema for editors' YAML language servers."""

from __future__ import annotations

import argparse
import json

from gatekeeper.commands import Context
from gatekeeper.errors import ExitCode


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("kind", choices=["config", "rfc", "policy", "catalogue"])


def schema_for(kind: str) -> dict[str, object]:
    from pydantic import BaseModel

    from gatekeeper.config.models import Config, Policy, Rfc, StandardCatalogue

    models: dict[str, type[BaseModel]] = {
        "config": Config,
        "rfc": Rfc,
        "policy": Policy,
        "catalogue": StandardCatalogue,
    }
    model = models[kind]
    schema = model.model_json_schema(mode="validation", by_alias=True)
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["title"] = {
        "config": "gatekeeper configuration (.gatekeeper.yml)",
        "rfc": "gatekeeper RFC file (changes/<ID>.yml)",
        "policy": "gatekeeper policy pack",
        "catalogue": "gatekeeper standard-change catalogue (standard_changes.catalogue)",
    }[kind]
    return dict(schema)


def run(args: argparse.Namespace, ctx: Context) -> int:
    ctx.out(json.dumps(schema_for(args.kind), ensure_ascii=False, indent=2))
    return int(ExitCode.OK)
