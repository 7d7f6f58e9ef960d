"""`gatekeeper check-commits [--range A..B | --message-file F]` (DESIGN §3–4).

Range mode reads the commits with one streaming `git log` and checks each with the commit rules; the
range comes from `--range`, else from the CI context (pushed range, pull/merge request, new branch), else
upstream..HEAD. Message-file mode is the commit-msg hook: it reads one message, never runs `git log`, and
prints the exact fix.
"""

from __future__ import annotations

import argparse
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from gatekeeper.commands import Context
from gatekeeper.errors import InputError, UsageError
from gatekeeper.messages import msg, tr

if TYPE_CHECKING:
    from gatekeeper.adapters.rfcstore import RfcStore
    from gatekeeper.config.models import AdoptionConfig
    from gatekeeper.domain import Finding

MAX_MESSAGE_BYTES = 1024 * 1024
SCISSORS = "# ------------------------ >8 ------------------------"


def configure(parser: argparse.ArgumentParser) -> None:
    source = parser.add_mutually_exclusive_group()
    source.add_argument(
        "--range",
        dest="commit_range",
        metavar="A..B",
        help="commits reachable from B and not from A (default: from the CI context, else upstream..HEAD)",
    )
    source.add_argument(
        "--message-file", metavar="FILE", help="check one commit message (the commit-msg hook)"
    )


def run(args: argparse.Namespace, ctx: Context) -> int:
    if args.message_file:
        return _check_message_file(Path(args.message_file), ctx)
    return _check_range(args.commit_range, ctx)


# ------------------------------------------------------------------------------------------- shared


class _Checker:
    """The commit judge of this run (`facts.commits`) and the outcome it adds up to."""

    def __init__(self, ctx: Context) -> None:
        from gatekeeper.adapters.rfcstore import open_store
        from gatekeeper.facts.commits import CommitJudge

        self.ctx = ctx
        self.config = ctx.config
        self.policy = ctx.policy
        self.pattern = self.config.rfc.id_pattern
        store: RfcStore = open_store(ctx.repo_root, self.config, ctx.runtime.env)
        self.judge = CommitJudge(
            self.config, self.policy, store.get, ctx.runtime.now(), ctx.lang, root=ctx.repo_root
        )
        self.findings: list[Finding] = []

    def governance(self, revisions: Sequence[str], named: Mapping[str, tuple[str, ...]]) -> None:
        """`config.changed` for each commit altering a governance file its RFCs do not declare
        (`rules.governance`), one `git log` for the whole range."""
        from gatekeeper.adapters.governance import commits_touching, scope_for
        from gatekeeper.domain.governance import GovernanceChange
        from gatekeeper.rules.governance import GOVERNANCE_RULES

        scope = scope_for(self.ctx.repo_root, self.config, self.ctx.config_path.name)
        base = self.config.governing_base
        shown = f"{base.branch} {base.commit[:10]}" if base is not None else ""
        for sha, paths in commits_touching(scope, revisions).items():
            ids = named.get(sha, ())
            entries = tuple(e for i in ids if (e := self.judge.rfcs.get(i)) is not None)
            change = GovernanceChange(paths, entries, shown, sha)
            for rule in GOVERNANCE_RULES.values():
                self.findings.extend(f for f in rule(change, self.judge.rule_context(ids)) if f is not None)

    def emit(self, extra: Mapping[str, object]) -> int:
        from gatekeeper.domain import Outcome

        outcome = Outcome(
            system=self.config.system.id,
            grade=int(self.config.system.grade),
            change_type=self.judge.change_type(),
            rfcs=tuple(self.judge.named),
            findings=tuple(self.findings),
            extra=dict(extra),
        )
        return self.ctx.emit(outcome)


def _suggested_id(pattern: str, *names: str | None) -> str | None:
    from gatekeeper.domain.rfcid import find_ids

    for name in names:
        if name:
            found = find_ids(pattern, name.replace("_", "-"))
            if found:
                return found[0]
    return None


# ------------------------------------------------------------------------------------------- hook


def commit_message(text: str) -> str:
    """The message git will record: comment lines and everything below the scissors line dropped."""
    kept = []
    for line in text.splitlines():
        if line.rstrip() == SCISSORS:
            break
        if not line.startswith("#"):
            kept.append(line.rstrip())
    return "\n".join(kept).strip()


def _read_message_file(path: Path, cwd: Path) -> str:
    full = path if path.is_absolute() else cwd / path
    try:
        with full.open("rb") as handle:
            raw = handle.read(MAX_MESSAGE_BYTES + 1)
    except OSError as exc:
        raise InputError(
            msg("{path}: cannot read the commit message: {reason}", path=path, reason=exc.strerror or exc),
            hint=msg("check the path of the message file git passed"),
        ) from None
    if len(raw) > MAX_MESSAGE_BYTES:
        raise InputError(
            msg(
                "{path}: the commit message is larger than {limit} bytes", path=path, limit=MAX_MESSAGE_BYTES
            ),
            hint=msg("shorten the message"),
        )
    if b"\0" in raw:
        raise InputError(
            msg("{path}: the commit message contains a NUL byte", path=path),
            hint=msg("remove the binary content"),
        )
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise InputError(
            msg("{path}: the commit message is not UTF-8 (byte {start})", path=path, start=exc.start),
            hint=msg("write the message in UTF-8 (git config i18n.commitEncoding utf-8)"),
        ) from None


def _git_dir(root: Path, env: Mapping[str, str]) -> Path | None:
    """The repository's git folder without running git (the hook must start fast)."""
    if env.get("GIT_DIR"):
        chosen = Path(env["GIT_DIR"])
        return chosen if chosen.is_absolute() else root / chosen
    dot_git = root / ".git"
    if dot_git.is_dir():
        return dot_git
    if dot_git.is_file():  # a worktree or submodule: "gitdir: <path>"
        text = dot_git.read_text(encoding="utf-8", errors="replace").strip()
        if text.startswith("gitdir:"):
            target = Path(text.removeprefix("gitdir:").strip())
            return target if target.is_absolute() else root / target
    return None


def _branch_name(git_dir: Path | None) -> str | None:
    if git_dir is None:
        return None
    try:
        head = (git_dir / "HEAD").read_text(encoding="utf-8", errors="replace").strip()
    except OSError:
        return None
    return head.removeprefix("ref: refs/heads/") if head.startswith("ref: ") else None


def _check_message_file(path: Path, ctx: Context) -> int:
    from gatekeeper.rules.commit import CommitFacts

    message = commit_message(_read_message_file(path, ctx.runtime.cwd))
    if not message:
        return 0  # git itself aborts a commit with an empty message
    checker = _Checker(ctx)
    parts = checker.judge.read(message)
    git_dir = _git_dir(ctx.repo_root, ctx.runtime.env)
    # A merge being concluded: its tree is verified against git's own merge when CI checks the range.
    merging = git_dir is not None and (git_dir / "MERGE_HEAD").exists()
    facts = CommitFacts(
        sha=None,
        parts=parts,
        rfcs=checker.judge.rfcs,
        is_merge=merging,
        clean_merge=merging,
        suggested_id=_suggested_id(checker.pattern, _branch_name(git_dir)),
    )
    checker.findings.extend(checker.judge.judge(facts))
    return checker.emit({})


# ------------------------------------------------------------------------------------------- range


def _explicit_range(root: Path, text: str) -> tuple[str | None, str]:
    from gatekeeper.adapters import git

    if "..." in text or text.count("..") != 1:
        raise UsageError(
            msg("--range {text!r} is not of the form A..B", text=text),
            hint=msg("e.g. --range origin/main..HEAD"),
        )
    low, high = text.split("..")
    return (git.rev_parse(root, low) if low else None), git.rev_parse(root, high or "HEAD")


def _check_range(text: str | None, ctx: Context) -> int:
    from gatekeeper.adapters import git
    from gatekeeper.adapters.ci.context import detect_ci
    from gatekeeper.facts.adoption import exempt_count, governed_revisions

    checker = _Checker(ctx)
    root = ctx.repo_root
    if text is not None:
        base, head = _explicit_range(root, text)
        if base is None:
            commit_range = git.resolve_range(root, None, head)
        else:
            commit_range = git.CommitRange(head, base, (f"{base}..{head}",))
        ref = git.current_branch(root)
    else:
        ci = detect_ci(ctx.runtime.env, ctx.runtime.cwd)
        commit_range = git.resolve_range(root, ci.base, ci.head, ref=ci.ref)
        ref = ctx.runtime.env.get("GITHUB_HEAD_REF") or ctx.runtime.env.get(
            "CI_MERGE_REQUEST_SOURCE_BRANCH_NAME"
        )
        ref = ref or ci.ref
    suggested = _suggested_id(checker.pattern, ref)
    adoption = checker.config.adoption
    before = exempt_count(root, adoption, commit_range.revisions)
    count = 0
    revisions = governed_revisions(adoption, commit_range.revisions)
    named: dict[str, tuple[str, ...]] = {}
    for commit in git.iter_commits(root, revisions):
        count += 1
        judged = checker.judge.judge_commit(commit, suggested)
        named[commit.sha] = judged.rfcs
        checker.findings.extend(judged.findings)
    checker.governance(revisions, named)
    notes = [commit_range.note] if commit_range.note else []
    extra: dict[str, object] = {"range": commit_range.label, "commits": count}
    if adoption is not None and before:
        notes.append(_adoption_note(ctx, adoption, before))
        extra["before_adoption"] = {
            "commit": adoption.commit,
            "at": adoption.at.isoformat(),
            "commits": before,
        }
    if notes and ctx.output_format == "text":
        ctx.runtime.stderr.writelines(f"gatekeeper: note: {note}\n" for note in notes)
    if notes:
        extra["note"] = "; ".join(notes)
    return checker.emit(extra)


def _adoption_note(ctx: Context, adoption: AdoptionConfig, before: int) -> str:
    when = adoption.at.astimezone(ZoneInfo(ctx.config.timezone)).strftime("%Y-%m-%d %H:%M")
    return tr(
        ctx.lang,
        "{before} commit(s) from before the adoption point {commit} ({when}) are exempt: "
        "governance starts after it (.gatekeeper.yml adoption)",
        before=before,
        commit=adoption.commit[:10],
        when=when,
    )
