"""jinja2 templates from `templates/`: strict about undefined names, HTML-escaped for .html templates.

A template says its words through the message catalogue as the Python code does: `{{ _("Agency") }}`,
`{{ _("{errors} error(s)", errors=n) }}`, `{{ p_("context", "Type") }}`, in the language the render is
given (`lang`, or `ko` true); `python -m gatekeeper.translations` extracts them with jinja2's Babel
extractor."""

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
    from gatekeeper.messages import Message

    lang = str(values.get("lang") or ("ko" if values.get("ko") else "en"))

    def said(message: str, **fields: Any) -> str:
        return Message(message, fields).said(lang)

    def said_in(context: str, message: str, **fields: Any) -> str:
        return Message(message, fields, context).said(lang)

    return environment().get_template(name).render(_=said, p_=said_in, **values)
