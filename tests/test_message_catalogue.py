"""One message catalogue (issue 18 item 6): every message gatekeeper says is a msgid of
`gatekeeper/locale/ko/LC_MESSAGES/gatekeeper.po`, with its Korean, and nothing Korean is written elsewhere.

- The catalogue is what `python -m gatekeeper.translations` makes of the code: every message the code says
  (extracted by Babel) has a Korean text, none is left over, and the `.mo` the runtime reads is compiled from
  the `.po` as it is.
- Each call's fields fill its template in both languages: a Korean text never names a field the call does not
  pass (it would raise KeyError, in Korean runs only, where English tests cannot see it).
- The msgid of every call is a literal, so the extraction sees it.
- No Hangul in gatekeeper's Python source outside docstrings and comments, except on a line marked
  `korean-by-design` (a pattern matching Korean input, a bilingual calendar title): a Korean text written in
  the code would bypass the catalogue.
"""

from __future__ import annotations

import ast
import io
import re
import string
import tokenize
from pathlib import Path

import pytest

from gatekeeper import translations
from gatekeeper.messages import Message, msg, ptr, template

PACKAGE = Path(__file__).resolve().parents[1] / "gatekeeper"
SOURCES = sorted(PACKAGE.rglob("*.py"))
HANGUL = re.compile(r"[\uac00-\ud7a3]")
BY_DESIGN = "korean-by-design"
# The message functions and where their context and msgid are (`translations.KEYWORDS`).
MESSAGE_ARG = {"tr": 1, "ptr": 2, "msg": 0, "pmsg": 1}
CONTEXT_ARG = {"ptr": 1, "pmsg": 0}
HELP_KEYWORDS = {"help", "description", "title"}
MSGIDS = {m.id for m in translations.read(translations.po_path()) or () if m.id}


def _fields(text: str) -> set[str]:
    """The top-level field names a `str.format` template uses."""
    names = set()
    for _literal, name, spec, _conversion in string.Formatter().parse(text):
        if name is not None:
            names.add(re.split(r"[.\[]", name, maxsplit=1)[0])
        if spec:
            names |= _fields(spec)
    return names


def _literal(node: ast.expr) -> str | None:
    return node.value if isinstance(node, ast.Constant) and isinstance(node.value, str) else None


def _calls() -> list[tuple[str, ast.Call]]:
    found = []
    for path in SOURCES:
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in MESSAGE_ARG:
                found.append((f"{path.relative_to(PACKAGE.parent)}:{node.lineno}", node))
    return found


CALLS = [
    (where, call) for where, call in _calls() if not where.startswith("gatekeeper/messages.py")
]


@pytest.fixture(scope="module")
def catalogue():  # type: ignore[no-untyped-def]
    return translations.read(translations.po_path())


def test_every_message_has_its_korean_and_the_files_are_current(catalogue) -> None:  # type: ignore[no-untyped-def]
    made = translations.updated(catalogue)
    assert translations.untranslated(made) == []
    # Nothing stale or missing: the .po is exactly what the code says, and the .mo is compiled from it.
    made.creation_date, made.revision_date = catalogue.creation_date, catalogue.revision_date
    po = translations.po_path()
    assert po.read_bytes() == translations.po_bytes(made), "run `make catalogue`"
    assert po.with_suffix(".mo").read_bytes() == translations.mo_bytes(made), "run `make catalogue`"


def test_the_check_fails_on_a_message_without_korean(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # The check itself can fail: an emptied translation is reported and exits 1.
    current = translations.read(translations.po_path())
    assert current is not None
    first = next(m for m in current if m.id)
    first.string = ""
    copy = tmp_path / "ko" / "LC_MESSAGES" / "gatekeeper.po"
    copy.parent.mkdir(parents=True)
    copy.write_bytes(translations.po_bytes(current))
    monkeypatch.setattr(translations, "po_path", lambda lang="ko": copy)
    assert translations.main(["--check"]) == 1


@pytest.mark.parametrize("where,call", CALLS, ids=[where for where, _ in CALLS])
def test_each_call_passes_every_field_its_templates_use(where: str, call: ast.Call, catalogue) -> None:  # type: ignore[no-untyped-def]
    name = call.func.id  # type: ignore[attr-defined]
    args = call.args
    assert len(args) > MESSAGE_ARG[name], f"{where}: {name} without its message"
    message = _literal(args[MESSAGE_ARG[name]])
    assert message is not None, f"{where}: the message must be a string literal, or Babel cannot extract it"
    context = _literal(args[CONTEXT_ARG[name]]) if name in CONTEXT_ARG else None
    if name in CONTEXT_ARG:
        assert context is not None, f"{where}: the context must be a string literal"
    passed = {k.arg for k in call.keywords}
    if None in passed:  # **fields: checked where they are built
        return
    entry = catalogue.get(message, context)
    assert entry is not None and entry.string, f"{where}: {message!r} has no Korean"
    if not passed:
        return  # said as written: its braces are literal
    for lang, text in (("en", message), ("ko", entry.string)):
        unknown = _fields(text) - passed
        assert not unknown, f"{where}: the {lang} text uses {sorted(unknown)}, which the call does not pass"


def _hangul_outside_docstrings(path: Path, root: Path = PACKAGE.parent) -> list[str]:
    """Lines of `path` with Hangul in a string that is not a docstring, unless marked korean-by-design."""
    source = path.read_text(encoding="utf-8")
    tree = ast.parse(source)
    docstrings = set()
    for node in ast.walk(tree):
        if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)):
            body = node.body
            if body and isinstance(body[0], ast.Expr) and _literal(body[0].value) is not None:
                docstrings.add(body[0].value.lineno)
    # A message's English may cite the SOP's Korean term ("incidents (장애)"): a msgid, in the catalogue. So
    # may a command-line help text, which `--help` looks up in the catalogue (`commands._help`).
    in_messages = set()
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call):
            continue
        texts = [k.value for k in node.keywords if k.arg in HELP_KEYWORDS]
        if isinstance(node.func, ast.Name) and node.func.id in MESSAGE_ARG:
            texts += node.args
        for arg in texts:
            if _literal(arg) is not None:
                in_messages.update(range(arg.lineno, (arg.end_lineno or arg.lineno) + 1))
    # So is any literal that is itself a msgid (a command's one-line help in the CLI's registry).
    for node in ast.walk(tree):
        if _literal(node) in MSGIDS:  # type: ignore[arg-type]
            in_messages.update(range(node.lineno, (node.end_lineno or node.lineno) + 1))
    lines = source.splitlines()
    found = []
    for token in tokenize.generate_tokens(io.StringIO(source).readline):
        if token.type not in (tokenize.STRING, getattr(tokenize, "FSTRING_MIDDLE", -1)):
            continue
        if not HANGUL.search(token.string) or token.start[0] in docstrings | in_messages:
            continue
        if any(BY_DESIGN in lines[n - 1] for n in range(token.start[0], token.end[0] + 1)):
            continue
        found.append(f"{path.relative_to(root)}:{token.start[0]}: {token.string[:60]}")
    return found


def test_no_korean_is_written_outside_the_catalogue() -> None:
    found = [line for path in SOURCES for line in _hangul_outside_docstrings(path)]
    assert found == [], "\n".join(found[:40])


def test_the_scan_finds_a_korean_literal(tmp_path: Path) -> None:
    # The scan itself can fail: a Korean message written in the code is found, a marked one is not.
    sample = tmp_path / "sample.py"
    sample.write_text(
        '"""문서 설명은 괜찮다."""\nA = "기록함"\nB = "배포 동결"  # korean-by-design: a calendar title\n',
        encoding="utf-8",
    )
    found = _hangul_outside_docstrings(sample, tmp_path)
    assert [line.split(": ", 1)[0] for line in found] == ["sample.py:2"]


def test_templates_are_said_in_both_languages() -> None:
    # A message said in Korean comes from the catalogue, its fields filled in, nested messages too.
    said = msg("{root} is not inside a git repository", root=msg("choose a writable path for --output"))
    assert isinstance(said, Message)
    assert str(said) == said.en == "choose a writable path for --output is not inside a git repository"
    assert said.ko == "--output에 쓸 수 있는 경로를 지정하십시오은(는) git 저장소 안이 아닙니다"
    assert template("ko", "{root} is not inside a git repository") == "{root}은(는) git 저장소 안이 아닙니다"
    assert ptr("ko", "incident register", "Type") != ptr("ko", "change register", "Type")


# Templates written whole in one language (`*.ko.*`) and the files `init` writes into a repository, whose
# comments name the SOP's Korean terms for the reader of that file, are documents rather than messages.
TEMPLATES = PACKAGE.parent / "templates"
DOCUMENT_TEMPLATES = ("init/",)


def test_no_template_writes_korean_outside_the_catalogue() -> None:
    found = []
    for path in sorted(TEMPLATES.rglob("*.j2")):
        relative = path.relative_to(TEMPLATES).as_posix()
        if ".ko." in path.name or relative.startswith(DOCUMENT_TEMPLATES):
            continue
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            if HANGUL.search(line):
                found.append(f"templates/{relative}:{number}: {line.strip()[:60]}")
    assert found == [], "\n".join(found)


def test_importing_gatekeeper_reads_no_catalogue() -> None:
    # A table that says its words at import would make every run, English ones too, read the Korean
    # catalogue at start-up: tables hold messages, said where they are used.
    import subprocess
    import sys

    code = (
        "import importlib, pkgutil, gatekeeper, gatekeeper.messages as m\n"
        "for found in pkgutil.walk_packages(gatekeeper.__path__, 'gatekeeper.'):\n"
        "    if not found.name.endswith('__main__'):\n"
        "        importlib.import_module(found.name)\n"
        "print(m._translations.cache_info().currsize)\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "0"
