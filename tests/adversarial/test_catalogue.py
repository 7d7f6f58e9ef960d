"""The message catalogue under hostile values: what a developer with write access controls — a commit
subject, an RFC title, a record's text — fills the fields of a message and can never become part of its
template. A value holding `{where}`, `{0}`, `{x.__class__}`, `%s`, a format spec or control characters is
shown as written, in English and in Korean, and never raises (which in a gate would be a crash, not a
verdict)."""

from __future__ import annotations

import string
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from gatekeeper import translations
from gatekeeper.messages import msg, ptr, tr
from tests.adversarial.conftest import Recorder
from tests.helpers import GitRepo, run_cli
from tests.test_message_catalogue import CALLS, CONTEXT_ARG, MESSAGE_ARG, _literal

HOSTILE = st.one_of(
    st.sampled_from(
        ["{where}", "{0}", "{x.__class__}", "{{}}", "}{", "%s %d", "{:>99999}", "\x1b[31m", "\u202e"]
    ),
    st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=40),
)


def _plain_messages() -> list[tuple[str | None, str, tuple[str, ...]]]:
    """(context, message, fields) of every call whose fields take any value: none with a format spec or a
    conversion other than `!r`/`!s`, whose value must be a number or a time."""
    found = []
    for _where, call in CALLS:
        name = call.func.id  # type: ignore[attr-defined]
        message = _literal(call.args[MESSAGE_ARG[name]])
        fields = tuple(k.arg for k in call.keywords if k.arg)
        if message is None or not fields or any(k.arg is None for k in call.keywords):
            continue
        context = _literal(call.args[CONTEXT_ARG[name]]) if name in CONTEXT_ARG else None
        if name in CONTEXT_ARG and context is None:
            continue
        said = [message, translations.read(translations.po_path()).get(message, context).string]
        if any(spec for text in said for _, _, spec, _ in string.Formatter().parse(text) if spec):
            continue
        found.append((context, message, fields))
    return found


PLAIN = _plain_messages()


def _uses_fields(lang: str, context: str | None, message: str) -> bool:
    """Whether the message's text in `lang` shows any of its fields (a Korean text may leave one out)."""
    unfilled = ptr(lang, context, message) if context else tr(lang, message)
    return any(name for _, name, _, _ in string.Formatter().parse(unfilled))


@settings(max_examples=60, deadline=None)
@given(index=st.integers(min_value=0, max_value=len(PLAIN) - 1), value=HOSTILE)
def test_a_hostile_value_is_shown_as_written_never_as_template(index: int, value: str) -> None:
    context, message, fields = PLAIN[index]
    values = dict.fromkeys(fields, value)
    for lang in ("en", "ko"):
        said = ptr(lang, context, message, **values) if context else tr(lang, message, **values)
        if _uses_fields(lang, context, message):
            # Each field filled with the value as written (repr'd where the template says `!r`).
            assert value in said or repr(value) in said


def test_every_catalogue_message_survives_hostile_fields(reliability: Recorder) -> None:
    hostile = "{where} {0} {x.__class__} %s }{"
    for context, message, fields in PLAIN:
        values = dict.fromkeys(fields, hostile)
        for lang in ("en", "ko"):
            said = ptr(lang, context, message, **values) if context else tr(lang, message, **values)
            if _uses_fields(lang, context, message):
                assert hostile in said or repr(hostile) in said, (message, lang, said)
    reliability.row(
        f"all {len(PLAIN)} catalogue messages with free-text fields, in English and Korean",
        "every field filled with format syntax: `{where} {0} {x.__class__} %s }{`",
        "the value shown as written; no KeyError, no attribute lookup, no traceback",
    )


def test_a_nested_message_cannot_smuggle_a_field(reliability: Recorder) -> None:
    inner = msg("the commit message")
    outer = msg(
        "{where} names {rfc_id}, which does not exist in the RFC store", where=inner, rfc_id="{where}"
    )
    assert outer.en == "the commit message names {where}, which does not exist in the RFC store"
    assert "{where}" in outer.ko and "커밋 메시지" in outer.ko
    reliability.row(
        "a message whose field is itself a message, next to a field holding `{where}`",
        "a value that names another field of the template",
        "each said once in the run's language; the value is never re-read as a template",
    )


def test_a_hostile_commit_subject_reaches_the_korean_finding_as_written(
    tmp_path: Path, reliability: Recorder
) -> None:
    repo = GitRepo.create(tmp_path / "repo")
    repo.add_rfc("RFC-2026-0001")
    base = repo.commit("RFC-2026-0001 Add the configuration and the RFC files")
    subject = "fix {where} {0} {x.__class__} %s"
    repo.commit(subject, files={"app.py": "x = 1\n"})
    result = run_cli(["--lang", "ko", "check-commits", "--range", f"{base}..HEAD"], cwd=repo.path)
    assert result.code == 1, result.stderr
    shown = result.stdout + result.stderr
    assert "{where} {0} {x.__class__} %s" in shown
    assert "Traceback" not in shown
    reliability.row(
        "a commit subject `fix {where} {0} {x.__class__} %s` (no RFC ID)",
        "format syntax in the text a Korean finding quotes",
        "check-commits exits 1 with the subject quoted as written in the Korean message",
    )
