"""The commit-msg hook's files: written by `hook install` and by `init`."""

from __future__ import annotations

import shlex
from pathlib import Path

from gatekeeper.errors import UsageError
from gatekeeper.messages import msg

MARKER = "# installed by `gatekeeper hook install`"


def hook_script(python: str) -> str:
    """The hook: the interpreter gatekeeper runs under now, so the hook finds the same installation."""
    return (
        "#!/bin/sh\n"
        f"{MARKER}\n"
        "# Checks that the message names an active RFC and gives a reason (SOP CFG-P3).\n"
        f'exec {shlex.quote(python)} -m gatekeeper check-commits --message-file "$1"\n'
    )


def hooks_dir(root: Path) -> Path:
    from gatekeeper.adapters.git import git

    hooks = Path(git(root, "rev-parse", "--git-path", "hooks").strip())
    return hooks if hooks.is_absolute() else root / hooks


def install(root: Path, *, force: bool, python: str) -> tuple[Path, Path | None]:
    """Write the hook; returns its path and where a replaced foreign hook was kept (if any)."""
    target = hooks_dir(root) / "commit-msg"
    kept: Path | None = None
    if target.exists() or target.is_symlink():
        current = target.read_text(encoding="utf-8", errors="replace") if target.is_file() else ""
        if MARKER not in current:
            if not force:
                raise UsageError(
                    msg("{target} already exists and was not written by gatekeeper", target=target),
                    hint=msg(
                        "merge it by hand, or run `gatekeeper hook install --force` (the old hook is "
                        "kept as commit-msg.local)"
                    ),
                )
            kept = target.with_name("commit-msg.local")
            target.replace(kept)
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(hook_script(python), encoding="utf-8")
    target.chmod(0o755)
    return target, kept
