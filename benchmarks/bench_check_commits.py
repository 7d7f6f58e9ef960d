"""check-commits against raw `git log` on a generated 20,000-commit repository, and the commit-msg hook
against a bare interpreter start.

Per-commit cost is the slope between 1,000 and 20,000 commits (so process start-up and config loading
cancel out); the reference is `git log --format=%H%x00%an%x00%ae%x00%cn%x00%B` over the same ranges in the
same run. Targets: slope ratio <= 2x; hook median <= 10x `python3 -c pass`.
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

TOTAL = 20_000
SMALL = 1_000
REPEATS = 5
CONFIG = """\
version: 1
system: {id: minwon-portal, name: 민원포털, grade: 1, audience: public}
policy: kr-ap-sop
rfc: {id_pattern: 'RFC-\\d{4}-\\d{4}', store: files, dir: changes}
ledger: {backend: sqlite, path: .gatekeeper/ledger.db}
"""
RFC = """\
id: RFC-2026-{n:04d}
title: 민원 신청 화면 개선 {n}
type: normal
requester: lee
systems: [minwon-portal]
reason: 민원인 입력 오류를 줄이기 위해 신청 화면의 검증을 강화한다
test_plan: 단위테스트 40건, 통합테스트 12건, 사전검증 시나리오 5건을 수행한다
rollback_plan: 이전 릴리스 태그로 재배포하고 신청 테이블 정합성을 점검한다
"""


def _fast_import_stream(commits: int) -> bytes:
    """A linear history; the first commit adds the config and 20 RFCs, the rest name them in turn."""
    out: list[bytes] = []

    def data(payload: bytes) -> None:
        out.append(b"data %d\n" % len(payload) + payload + b"\n")

    stamp = 1_790_000_000
    for i in range(commits):
        out.append(b"commit refs/heads/main\n")
        out.append(b"mark :%d\n" % (i + 1))
        out.append(b"author Dev %d <dev%d@example.org> %d +0900\n" % (i % 7, i % 7, stamp + i))
        out.append(b"committer Dev Eloper <dev@example.org> %d +0900\n" % (stamp + i))
        rfc = 1 + i % 20
        message = f"RFC-2026-{rfc:04d} 변경 {i}: 신청 화면 입력 검증 단계 {i} 추가\n\n본문 설명 {i}.\n"
        data(message.encode())
        if i:
            out.append(b"from :%d\n" % i)
        else:
            out.append(b"M 644 inline .gatekeeper.yml\n")
            data(CONFIG.encode())
            for n in range(1, 21):
                out.append(f"M 644 inline changes/RFC-2026-{n:04d}.yml\n".encode())
                data(RFC.format(n=n).encode())
        out.append(b"\n")
    return b"".join(out)


def _make_repo(root: Path) -> None:
    subprocess.run(["git", "init", "-q", "-b", "main", str(root)], check=True)
    subprocess.run(["git", "fast-import", "--quiet"], cwd=root, input=_fast_import_stream(TOTAL), check=True)
    subprocess.run(["git", "checkout", "-q", "main"], cwd=root, check=True)


def _best(command: list[str], cwd: Path, env: dict[str, str], expect: int = 0) -> float:
    times = []
    for _ in range(REPEATS):
        start = time.perf_counter()
        result = subprocess.run(command, cwd=cwd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        times.append(time.perf_counter() - start)
        if result.returncode != expect:
            raise SystemExit(f"{command} exited {result.returncode}: {result.stderr.decode()[-500:]}")
    return min(times)


def _median(command: list[str], cwd: Path, env: dict[str, str], expect: int = 0, runs: int = 15) -> float:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        result = subprocess.run(command, cwd=cwd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        times.append(time.perf_counter() - start)
        if result.returncode != expect:
            raise SystemExit(f"{command} exited {result.returncode}: {result.stderr.decode()[-500:]}")
    return statistics.median(times)


def main() -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("GITHUB_", "GITLAB_", "CI_", "GIT_"))}
    with tempfile.TemporaryDirectory(prefix="gatekeeper-bench-") as folder:
        root = Path(folder) / "repo"
        started = time.perf_counter()
        _make_repo(root)
        print(f"generated {TOTAL} commits with git fast-import in {time.perf_counter() - started:.1f} s")
        shas = subprocess.run(
            ["git", "rev-list", "--reverse", "HEAD"], cwd=root, capture_output=True, text=True
        )
        order = shas.stdout.split()
        head = order[-1]
        small_base, large_base = order[-SMALL - 1], order[0]  # ranges of SMALL and TOTAL - 1 commits
        large = TOTAL - 1
        raw = ["git", "log", "--format=%H%x00%an%x00%ae%x00%cn%x00%B"]
        gate = [sys.executable, "-m", "gatekeeper", "check-commits", "--range"]
        raw_small = _best([*raw, f"{small_base}..{head}"], root, env)
        raw_large = _best([*raw, f"{large_base}..{head}"], root, env)
        gk_small = _best([*gate, f"{small_base}..{head}"], root, env)
        gk_large = _best([*gate, f"{large_base}..{head}"], root, env)
        raw_slope = (raw_large - raw_small) / (large - SMALL)
        gk_slope = (gk_large - gk_small) / (large - SMALL)
        print(
            f"raw git log:   {raw_small * 1e3:8.1f} ms / {SMALL} commits, {raw_large * 1e3:8.1f} ms / {large}"
        )
        print(
            f"check-commits: {gk_small * 1e3:8.1f} ms / {SMALL} commits, {gk_large * 1e3:8.1f} ms / {large}"
        )
        print(f"per commit: raw {raw_slope * 1e6:.1f} µs, check-commits {gk_slope * 1e6:.1f} µs")
        ratio = gk_slope / raw_slope
        verdict = "OK" if ratio <= 2 else "OVER"
        print(f"check-commits per-commit cost ratio: {ratio:.2f}x (target <= 2x) {verdict}")

        message = root / ".git" / "COMMIT_EDITMSG"
        message.write_text("RFC-2026-0003 신청 화면의 전화번호 입력 검증을 추가한다\n", encoding="utf-8")
        bare = _median(["python3", "-c", "pass"], root, env)
        hook = _median(
            [sys.executable, "-m", "gatekeeper", "check-commits", "--message-file", str(message)], root, env
        )
        hook_ratio = hook / bare
        print(f"commit-msg hook median {hook * 1e3:.1f} ms vs python3 -c pass {bare * 1e3:.1f} ms")
        print(
            f"commit-msg hook ratio: {hook_ratio:.2f}x (target <= 10x) {'OK' if hook_ratio <= 10 else 'OVER'}"
        )


if __name__ == "__main__":
    main()
