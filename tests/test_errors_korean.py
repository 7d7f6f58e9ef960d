"""Every error gatekeeper raises for a user is written in Korean too (issue 18 item 6): each construction of
a `GatekeeperError` (or of a subclass, found by reading the source) says its message, and its `hint=` where
it has one, through the catalogue (`msg(...)`, `gatekeeper.messages`), or passes `ko=` (and `hint_ko=`) for a
text composed of parts already said in both languages. A subclass with its own constructor passes them to
`super().__init__`. Read from the source (every module, the lazy imports too), so a new English-only error
fails here before a user meets it."""

from __future__ import annotations

import ast
import io
from pathlib import Path

from gatekeeper.errors import ConfigError, MissingExtraError
from tests.helpers import run_cli

PACKAGE = Path(__file__).resolve().parents[1] / "gatekeeper"
TREES = {path: ast.parse(path.read_text(encoding="utf-8")) for path in sorted(PACKAGE.rglob("*.py"))}


def _name(node: ast.expr) -> str | None:
    if isinstance(node, ast.Name):
        return node.id
    return node.attr if isinstance(node, ast.Attribute) else None


def _error_classes() -> dict[str, ast.ClassDef]:
    """GatekeeperError and every class deriving from it, however many steps away."""
    found: dict[str, ast.ClassDef] = {}
    names = {"GatekeeperError"}
    grew = True
    while grew:
        grew = False
        for tree in TREES.values():
            for node in ast.walk(tree):
                if not isinstance(node, ast.ClassDef) or node.name in found:
                    continue
                if node.name in names or any(_name(base) in names for base in node.bases):
                    found[node.name] = node
                    names.add(node.name)
                    grew = True
    return found


def _own_constructor(cls: ast.ClassDef) -> ast.FunctionDef | None:
    return next((n for n in cls.body if isinstance(n, ast.FunctionDef) and n.name == "__init__"), None)


def _is_message(node: ast.expr | None, known: frozenset[str] = frozenset()) -> bool:
    """`msg(...)`, or a name the module declares a `Message`: a parameter annotated so, a function that
    returns one, a module-level name bound to `msg(...)`."""
    if isinstance(node, ast.Call):
        return _name(node.func) in {"msg", "pmsg", *known}
    return isinstance(node, ast.Name | ast.Attribute) and _name(node) in known


def _messages_of(tree: ast.Module) -> frozenset[str]:
    known = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            if isinstance(node.returns, ast.Name) and node.returns.id == "Message":
                known.add(node.name)
            for arg in [*node.args.args, *node.args.kwonlyargs]:
                if isinstance(arg.annotation, ast.Name) and arg.annotation.id == "Message":
                    known.add(arg.arg)
        elif isinstance(node, ast.Assign) and isinstance(node.value, ast.Call) and _is_message(node.value):
            known.update(t.id for t in node.targets if isinstance(t, ast.Name))
    return frozenset(known)


def _missing(call: ast.Call, known: frozenset[str] = frozenset()) -> list[str]:
    keywords = {k.arg: k.value for k in call.keywords}
    if None in keywords:  # **kwargs: passed through whole
        return []
    message = call.args[0] if call.args else keywords.get("message")
    missing = [] if _is_message(message, known) or "ko" in keywords else ["ko"]
    hint = keywords.get("hint")
    if hint is not None and not _is_message(hint, known) and "hint_ko" not in keywords:
        missing.append("hint_ko")
    return missing


def _unwritten() -> list[str]:
    classes = _error_classes()
    # A class whose constructor takes no `ko` words its messages itself: its callers pass none.
    self_worded = {
        name
        for name, cls in classes.items()
        if (init := _own_constructor(cls)) is not None and "ko" not in {a.arg for a in init.args.kwonlyargs}
    }
    wrong = []
    for path, tree in TREES.items():
        known = _messages_of(tree)
        for node in ast.walk(tree):
            if not isinstance(node, ast.Call):
                continue
            name = _name(node.func)
            is_super_init = (
                isinstance(node.func, ast.Attribute)
                and node.func.attr == "__init__"
                and isinstance(node.func.value, ast.Call)
                and _name(node.func.value.func) == "super"
            )
            if name in self_worded and not is_super_init:
                continue
            if name in classes or (is_super_init and _inside_self_worded(tree, node, self_worded)):
                missing = _missing(node, known)
                if missing:
                    where = f"{path.relative_to(PACKAGE.parent)}:{node.lineno}"
                    wrong.append(f"{where}: {name or 'super().__init__'} without {', '.join(missing)}")
    return wrong


def _inside_self_worded(tree: ast.Module, call: ast.Call, self_worded: set[str]) -> bool:
    for node in ast.walk(tree):
        if isinstance(node, ast.ClassDef) and node.name in self_worded:
            init = _own_constructor(node)
            if init is not None and any(inner is call for inner in ast.walk(init)):
                return True
    return False


def test_every_error_is_written_in_korean_too() -> None:
    assert _unwritten() == []


def test_the_scan_finds_the_error_classes_and_their_raises() -> None:
    classes = _error_classes()
    for name in ("GatekeeperError", "ConfigError", "LedgerIntegrityError", "MissingExtraError", "DemoFailed"):
        assert name in classes
    calls = sum(
        1
        for tree in TREES.values()
        for node in ast.walk(tree)
        if isinstance(node, ast.Call) and _name(node.func) in classes
    )
    assert calls > 150  # the scan sees the raise sites, not an empty set


def test_the_scan_fails_on_an_english_only_error() -> None:
    english_only = ast.parse('raise ConfigError("bad", hint="fix it", ko="나쁨")').body[0]
    assert isinstance(english_only, ast.Raise) and isinstance(english_only.exc, ast.Call)
    assert _missing(english_only.exc) == ["hint_ko"]
    bare = ast.parse('InputError("bad")').body[0]
    assert isinstance(bare, ast.Expr) and isinstance(bare.value, ast.Call)
    assert _missing(bare.value) == ["ko"]


def test_a_rendered_error_in_korean_has_no_english_fix() -> None:
    error = ConfigError("bad", hint="fix it", ko="잘못됨", hint_ko="고치십시오")
    assert error.render("ko") == "잘못됨\n  조치: 고치십시오"
    missing = MissingExtraError("psycopg")
    assert "pip install" in missing.render("ko") and "needs the Python package" not in missing.render("ko")


def test_the_error_boundary_speaks_the_runs_language(tmp_path: Path) -> None:
    """The boundary's own words — "error", "internal error" — follow `--lang` like the message they frame."""
    from gatekeeper.cli import _crashed
    from gatekeeper.runtime import Runtime

    english = run_cli(["--lang", "en", "rfc", "show", "RFC-2099-0001"], cwd=tmp_path)
    korean = run_cli(["--lang", "ko", "rfc", "show", "RFC-2099-0001"], cwd=tmp_path)
    assert english.code == korean.code == 2
    assert english.stderr.startswith("gatekeeper: error: "), english.stderr
    assert korean.stderr.startswith("gatekeeper: 오류: "), korean.stderr
    for lang, words in (
        ("en", "gatekeeper: internal error: RuntimeError: x"),
        ("ko", "gatekeeper: 내부 오류"),
    ):
        runtime = Runtime(
            env={"HOME": str(tmp_path)}, cwd=tmp_path, stdout=io.StringIO(), stderr=io.StringIO()
        )
        assert _crashed(RuntimeError("x"), runtime, lang) == 3
        assert runtime.stderr.getvalue().startswith(words), runtime.stderr.getvalue()  # type: ignore[attr-defined]
