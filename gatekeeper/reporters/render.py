"""jinja2 templates from `templates/`: strict about undefined names, HTML-escaped for .html templates."""

from __future__ import annotations

import json
from functools import cache
from typing import TYPE_CHECKING, Any

from gatekeeper.resources import templates_dir

if TYPE_CHECKING:
    import jinja2


@cache
def environment() -> jinja2.Environment:
    import jinja2

    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(templates_dir())),
        undefined=jinja2.StrictUndefined,
        autoescape=jinja2.select_autoescape(enabled_extensions=("html", "html.j2", "htm"), default=False),
        keep_trailing_newline=True,
        trim_blocks=False,
    )
    # A YAML double-quoted scalar that keeps Korean readable (JSON strings are valid YAML).
    env.filters["yaml_str"] = lambda value: json.dumps(str(value), ensure_ascii=False)
    return env


def render_template(name: str, **values: Any) -> str:
    return environment().get_template(name).render(**values)
