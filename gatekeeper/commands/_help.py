"""`--help` in Korean (`--lang ko`, GATEKEEPER_LANG=ko): one catalogue of every help text, description and
title the parsers declare, keyed by the English text, and the pass that puts it in place before argparse
formats the help. argparse's own words (usage:, positional arguments, options, -h) are in it too.

A text the commands declare must have its Korean here (`tests/test_help_korean.py` walks every parser);
one already in Korean needs no entry.
"""

from __future__ import annotations

import argparse
import re

HELP_KO: dict[str, str] = {
    # argparse's own
    "positional arguments": "위치 인자",
    "options": "옵션",
    "show this help message and exit": "이 도움말을 보여 주고 끝냅니다",
    "show program's version number and exit": "프로그램 버전을 보여 주고 끝냅니다",
    # gatekeeper
    "Change- and release-governance for CI/CD pipelines (Korean public-sector AP SOP).": (
        "CI/CD 파이프라인의 변경·배포 통제 (공공부문 응용프로그램 표준운영절차)."
    ),
    "exit codes: 0 allowed/passed, 1 blocked/violations, 2 usage or input error, 3 internal error": (
        "종료 코드: 0 허용/통과, 1 차단/위반, 2 사용법 또는 입력 오류, 3 내부 오류"
    ),
    "configuration file (default: .gatekeeper.yml)": "설정 파일 (기본: .gatekeeper.yml)",
    "output format; a command that cannot print it refuses it (exit 2), see the README's table": (
        "출력 형식. 그 형식을 낼 수 없는 명령은 거부합니다(종료 코드 2). README의 표를 참고하십시오"
    ),
    "language of messages": "메시지 언어",
    # the commands
    "check that every commit names an active RFC": "모든 커밋이 유효한 변경요청을 가리키는지 검사",
    "install the commit-msg hook": "commit-msg 훅 설치",
    "create, validate and show RFC files": "변경요청 파일 작성·검증·조회",
    "record an approval step in the ledger": "승인 단계를 원장에 기록",
    "record the post-implementation review": "이행 후 검토(PIR) 기록",
    "record a prior notice to linked agencies": "연계기관 사전 공지 기록",
    "accept, review and close a release after its deployment (인수·일치성 검토·종료)": (
        "배포 후 릴리스의 인수·일치성 검토·종료"
    ),
    "hand approval steps to a deputy for a period, or revoke": (
        "승인 단계를 기간을 정해 대리인에게 위임하거나 철회"
    ),
    "open, update, close and list incidents (장애)": "장애 등록·갱신·종료·목록",
    "register a problem for root-cause analysis (문제)": "근본원인 분석을 위한 문제 등록",
    "record test evidence in the ledger": "테스트 증적을 원장에 기록",
    "is a deployment allowed at a time, and when next": "어느 시각에 배포할 수 있는지, 다음은 언제인지",
    "the change calendar: planned changes, freezes, collisions": "변경 일정표: 예정된 변경, 동결 기간, 충돌",
    "evaluate every rule for a deployment (writes nothing)": "배포에 대해 모든 규칙을 평가 (기록하지 않음)",
    "start or finish a governed deployment": "통제된 배포의 시작 또는 종료",
    "verify, list or export the ledger": "원장 검증·목록·내보내기",
    "create, diff and verify configuration baselines": "형상 베이스라인 생성·비교·검증",
    "the SOP audit checklist over ledger and history": "원장과 이력에 대한 표준운영절차 감사 점검표",
    "SOP KPIs and DORA metrics against targets": "표준운영절차 KPI와 DORA 지표의 목표 대비 결과",
    "render SOP forms from RFC and ledger data": "변경요청과 원장 자료로 표준운영절차 서식 작성",
    "scaffold gatekeeper in a repository": "저장소에 gatekeeper 기본 설정 생성",
    "print the JSON Schema of config, rfc or policy files": "설정·변경요청·정책 파일의 JSON Schema 출력",
    "run a whole governed release on the bundled example": "내장 예제로 통제된 릴리스 전 과정을 실행",
    # check-commits, hook
    "commits reachable from B and not from A (default: from the CI context, else upstream..HEAD)": (
        "B에서 닿고 A에서는 닿지 않는 커밋 (기본: CI 문맥, 없으면 upstream..HEAD)"
    ),
    "check one commit message (the commit-msg hook)": "커밋 메시지 하나를 검사 (commit-msg 훅)",
    "install the commit-msg hook in this repository": "이 저장소에 commit-msg 훅 설치",
    "replace a commit-msg hook gatekeeper did not write": "gatekeeper가 쓰지 않은 commit-msg 훅을 교체",
    # rfc
    "write a new RFC file from the template": "양식으로 새 변경요청 파일 작성",
    "validate RFC files and their plans": "변경요청 파일과 그 계획을 검증",
    "show an RFC, its digest and its state": "변경요청과 그 다이제스트, 상태를 표시",
    "the ID to use (default: the next free one)": "사용할 ID (기본: 다음 빈 번호)",
    "platform login of the requester (default: the CI or local user)": (
        "요청자의 플랫폼 로그인 (기본: CI 또는 로컬 사용자)"
    ),
    "template labels (default: ko for kr-ap-sop)": "양식 항목 이름의 언어 (기본: kr-ap-sop은 ko)",
    "RFC IDs (default: every RFC file)": "변경요청 ID (기본: 모든 변경요청 파일)",
    # approve
    "the RFC being approved": "승인할 변경요청",
    "the approval step of the policy pack, e.g. cab": "정책팩의 승인 단계 (예: cab)",
    "why (stored in the record)": "사유 (기록에 저장)",
    "the conditions a decision (a CAB's) is given under (stored in the record and the forms)": (
        "결정(변경관리위원회의 결정)의 조건 (기록과 서식에 저장)"
    ),
    "where the minutes of the CAB meeting are (a reference)": "변경관리위원회 회의록의 위치 (참조)",
    "the commit a release step approves (the pack's approvals.commit_steps; default: the job's commit, "
    "HEAD): the approval holds only for a deployment of that commit": (
        "배포 단계가 승인하는 커밋 (정책팩의 approvals.commit_steps, 기본: 작업의 커밋 HEAD): 그 커밋의 "
        "배포에만 유효합니다"
    ),
    "an artefact of the release a release step approves, by its digest (repeatable; optional): recorded "
    "inside the approval, and so inside what its attestation signs": (
        "배포 단계가 승인하는 릴리스 산출물과 그 다이제스트 (반복 가능, 선택): 승인 기록 안에 저장되어 그 "
        "증명이 서명하는 내용에 포함됩니다"
    ),
    # pir, notice
    "the RFC the review is about": "검토 대상 변경요청",
    "goal achieved?": "목적 달성 여부",
    "the improvement that follows a purpose not achieved (required with --result not-achieved): an action, "
    "or the RFC that carries it": (
        "목적을 달성하지 못한 뒤의 개선 조치 (--result not-achieved에 필수): 조치 내용 또는 그 조치를 담은 "
        "변경요청"
    ),
    "findings of the review (stored in the record)": "검토 결과 (기록에 저장)",
    "the RFC whose release is announced": "배포를 공지하는 변경요청",
    "the agencies notified": "공지한 기관",
    "how and when they were told (stored in the record)": "공지 방법과 시기 (기록에 저장)",
    # release
    "record the requester's acceptance test in production (인수테스트)": "요청자의 운영환경 인수테스트 기록",
    "record that the change plan, the release plan and the result agree (일치성 검토)": (
        "변경계획·배포계획·배포결과가 일치함을 기록 (일치성 검토)"
    ),
    "close the release and the change (배포·변경 종료)": "배포와 변경을 종료",
    "the id `deploy start` printed": "`deploy start`가 출력한 id",
    "what was tested and found (stored in the record)": "테스트한 내용과 결과 (기록에 저장)",
    "they agree": "일치함",
    "they do not": "일치하지 않음",
    "what was compared (stored in the record)": "비교한 내용 (기록에 저장)",
    "the closure's remarks (stored in the record)": "종료 의견 (기록에 저장)",
    "what later releases should do differently (배포관리 4.3 개선 사항)": (
        "이후 배포에서 달리할 점 (배포관리 4.3 개선 사항)"
    ),
    # delegate
    "the deputy (a login of the CI platform)": "대리인 (CI 플랫폼 로그인)",
    "the approval steps handed over, e.g. change-approval": "위임하는 승인 단계 (예: change-approval)",
    "when the delegation begins: a time with an offset, or a date (its start, in the system's zone)": (
        "위임 시작: 오프셋이 있는 시각 또는 날짜 (시스템 시간대의 그날 시작)"
    ),
    "when it ends: a time with an offset, or a date (through its end, in the system's zone)": (
        "위임 종료: 오프셋이 있는 시각 또는 날짜 (시스템 시간대의 그날 끝까지)"
    ),
    "why (stored in the record), e.g. 연가 12.7–12.11": "사유 (기록에 저장, 예: 연가 12.7–12.11)",
    "withdraw the delegation record with this id instead": "대신 이 id의 위임 기록을 철회",
    # incident, problem
    "record an incident (장애 인지/접수)": "장애 등록 (장애 인지/접수)",
    "record a step of the timeline or an intermediate report": "경과 단계 또는 중간보고 기록",
    "record the resolution (장애 종료) and the report's findings": "장애 종료와 보고서의 분석 결과 기록",
    "the system's incidents and their state": "시스템의 장애와 그 상태",
    "the incident's ID (default: INC- and the record's)": "장애 ID (기본: INC-와 기록의 id)",
    "장애 발생일시 (ISO 8601 with offset; default: now)": (
        "장애 발생일시 (오프셋이 있는 ISO 8601, 기본: 지금)"
    ),
    "장애 인지일시 (default: now)": "장애 인지일시 (기본: 지금)",
    "related RFCs": "관련 변경요청",
    "지역 보정: a nationwide service failing regionally": "지역 보정: 전국 서비스의 지역 장애",
    "서비스 중요도 보정: the highest priority among the services affected (1 = most important)": (
        "서비스 중요도 보정: 영향받은 서비스 중 가장 높은 우선순위 (1 = 가장 중요)"
    ),
    "this was an intermediate report (중간보고)": "중간보고임",
    "복구 일시: service restored and confirmed (default: now)": (
        "복구 일시: 서비스 복구 확인 시각 (기본: 지금)"
    ),
    "원인 유형 (unknown: 원인 불명)": "원인 유형 (unknown: 원인 불명)",
    "register a problem for root-cause analysis": "근본원인 분석을 위한 문제 등록",
    "the incident it comes from": "원인이 된 장애",
    # evidence, window, calendar
    "record test-result files as evidence of one kind": "테스트 결과 파일을 한 종류의 증적으로 기록",
    "RFC the tests belong to": "테스트가 속한 변경요청",
    "the production deployment these tests verified after it finished (운영환경 단위·통합 테스트, TST-P5): "
    "the id `deploy start` printed": (
        "이 테스트가 종료 후 검증한 운영 배포 (운영환경 단위·통합 테스트, TST-P5): `deploy start`가 출력한 id"
    ),
    "JUnit, xUnit, NUnit or TRX result files": "JUnit, xUnit, NUnit 또는 TRX 결과 파일",
    "the time to ask about (ISO 8601 with offset; default: now)": (
        "확인할 시각 (오프셋이 있는 ISO 8601, 기본: 지금)"
    ),
    "answer for the next allowed start": "다음 배포 가능 시각을 답함",
    "first day (YYYY-MM-DD, local) or time with offset; default: today": (
        "첫날 (YYYY-MM-DD, 현지) 또는 오프셋이 있는 시각, 기본: 오늘"
    ),
    "last day, inclusive (YYYY-MM-DD); default: 42 days on": "마지막 날, 포함 (YYYY-MM-DD), 기본: 42일 뒤",
    "the systems to show (repeatable), or `all`; default: this configuration's system": (
        "보여 줄 시스템 (반복 가능) 또는 `all`, 기본: 이 설정의 시스템"
    ),
    "write an HTML month view (.html) or iCalendar (.ics)": (
        "월간 HTML 보기(.html) 또는 iCalendar(.ics)로 저장"
    ),
    # gate, deploy
    "target environment": "대상 환경",
    "RFCs deployed": "배포하는 변경요청",
    "evaluate at this time (ISO 8601 with offset)": "이 시각 기준으로 평가 (오프셋이 있는 ISO 8601)",
    "extra test reports (KIND: unit, integration, performance, acceptance; default unit)": (
        "추가 테스트 보고서 (KIND: unit, integration, performance, acceptance, 기본 unit)"
    ),
    "an artefact being deployed: its SHA-256 must be the one the release approvals name for NAME (default: "
    "the file name), where they name one (repeatable)": (
        "배포하는 산출물: 배포 승인이 NAME(기본: 파일 이름)에 지정한 SHA-256이 있으면 그 값과 같아야 합니다 "
        "(반복 가능)"
    ),
    "run the gate; on allow record deployment.started and take the lock": (
        "게이트를 실행하고, 허용되면 deployment.started를 기록하고 잠금을 잡음"
    ),
    "record deployment.finished and release the lock": "deployment.finished를 기록하고 잠금을 풂",
    "who carried out the deployment": "배포 수행자",
    "who verified the result": "결과 확인자",
    "post-deployment test result": "배포 후 테스트 결과",
    "errors seen during the deployment": "배포 중 발생한 오류",
    "monitoring result after the deployment": "배포 후 모니터링 결과",
    "a deployed artefact: its SHA-256 is recorded under NAME (default: the file name) and compared with the "
    "configuration baseline (repeatable)": (
        "배포한 산출물: SHA-256을 NAME(기본: 파일 이름)으로 기록하고 형상 베이스라인과 비교 (반복 가능)"
    ),
    # ledger
    "check the whole hash chain, that the ledger still holds what this machine verified before, and any "
    "anchors; names the first bad seq (exit 1)": (
        "해시 체인 전체와, 이 컴퓨터가 전에 검증한 내용이 원장에 그대로 있는지, 앵커를 검사하고 처음 잘못된 "
        "seq를 알려 줌 (종료 코드 1)"
    ),
    "print the ledger's head (seq and hash) to record outside the ledger": (
        "원장 밖에 기록할 원장 헤드(seq와 해시) 출력"
    ),
    "list records, oldest first": "기록 목록 (오래된 것부터)",
    "write every record as JSON lines or CSV": "모든 기록을 JSON lines 또는 CSV로 저장",
    "a head recorded outside the ledger (`gatekeeper ledger head`): the record at SEQ must still have HASH "
    "(repeatable)": (
        "원장 밖에 기록해 둔 헤드(`gatekeeper ledger head`): SEQ의 기록이 아직 HASH여야 함 (반복 가능)"
    ),
    "a file of anchors, one SEQ:HASH a line": "한 줄에 SEQ:HASH 하나씩 적은 앵커 파일",
    "also every anchor the CI platform holds: the `gatekeeper/ledger` commit statuses of the last "
    "--anchor-depth commits of HEAD (needs the platform token CI jobs use)": (
        "CI 플랫폼이 보관한 앵커도 모두 검사: HEAD의 최근 --anchor-depth개 커밋의 `gatekeeper/ledger` 커밋 "
        "상태 (CI 작업이 쓰는 플랫폼 토큰 필요)"
    ),
    "how many commits of HEAD's history --anchors-from reads (default 200)": (
        "--anchors-from이 읽는 HEAD 이력의 커밋 수 (기본 200)"
    ),
    "also re-check every approval's OIDC attestation (exit 1 when one does not verify)": (
        "모든 승인의 OIDC 증명도 다시 검증 (검증되지 않는 것이 있으면 종료 코드 1)"
    ),
    "record kind, e.g. approval or deployment.started": "기록 종류 (예: approval, deployment.started)",
    "system id": "시스템 id",
    "RFC ID": "변경요청 ID",
    "records at or after this time (RFC 3339 with offset)": "이 시각 이후의 기록 (오프셋이 있는 RFC 3339)",
    "records before this time (RFC 3339 with offset)": "이 시각 전의 기록 (오프셋이 있는 RFC 3339)",
    "only the last N matching records": "조건에 맞는 마지막 N건만",
    "file to write (default: standard output)": "저장할 파일 (기본: 표준 출력)",
    # baseline
    "record a baseline of the configuration items at HEAD": "HEAD의 형상항목으로 베이스라인 기록",
    "added, removed and changed items since the baseline, with their RFCs": (
        "베이스라인 이후 추가·삭제·변경된 항목과 그 변경요청"
    ),
    "fail when items drifted from the baseline without an RFC": (
        "변경요청 없이 베이스라인과 달라진 항목이 있으면 실패"
    ),
    "version label, e.g. 1.0 (default: the next number)": "버전 이름 (예: 1.0, 기본: 다음 번호)",
    "the commit to baseline (default: HEAD)": "베이스라인으로 삼을 커밋 (기본: HEAD)",
    "compare with this commit (default: HEAD)": "비교할 커밋 (기본: HEAD)",
    "the baseline to compare with (default: the latest)": "비교할 베이스라인 (기본: 최신)",
    # audit, kpi
    "first day (YYYY-MM-DD, local) or time with offset; default: all": (
        "첫날 (YYYY-MM-DD, 현지) 또는 오프셋이 있는 시각, 기본: 전체"
    ),
    "last day, inclusive (YYYY-MM-DD), or an exclusive time with offset": (
        "마지막 날, 포함 (YYYY-MM-DD), 또는 오프셋이 있는 시각 (그 시각 미포함)"
    ),
    "the systems of the shared ledger to report on (repeatable), or `all`: a row per system and totals; "
    "default: this configuration's system alone, as before": (
        "공유 원장에서 보고할 시스템 (반복 가능) 또는 `all`: 시스템마다 한 행과 합계, 기본: 예전처럼 이 "
        "설정의 시스템만"
    ),
    "also write the self-contained HTML report to FILE": "독립 실행형 HTML 보고서도 FILE에 저장",
    "also write the report as an HWPX (한글) document to FILE (needs sop-gatekeeper[hwpx])": (
        "보고서를 HWPX(한글) 문서로도 FILE에 저장 (sop-gatekeeper[hwpx] 필요)"
    ),
    "do not record the run in the ledger (dry run)": "실행 기록을 원장에 남기지 않음 (시험 실행)",
    "print CSV (one row per system, month and KPI)": "CSV 출력 (시스템·월·KPI마다 한 행)",
    # report
    "render an SOP form from RFC and ledger data": "변경요청과 원장 자료로 표준운영절차 서식 작성",
    "the SOP's registers (변경이력·배포·장애 관리대장) as one .xlsx workbook": (
        "표준운영절차의 관리대장(변경이력·배포·장애)을 .xlsx 통합 문서 하나로"
    ),
    "change-request, release-plan, deployment-result, incident-report": (
        "change-request(변경요청서), release-plan(배포계획서), deployment-result(배포결과서), "
        "incident-report(장애보고서)"
    ),
    "an RFC ID, a deployment id or an incident record id": "변경요청 ID, 배포 id 또는 장애 기록 id",
    "HTML instead of Markdown": "Markdown 대신 HTML",
    "PDF on A4, printed by headless Chromium (needs --output)": (
        "헤드리스 Chromium으로 인쇄한 A4 PDF (--output 필요)"
    ),
    "HWPX (한글) document with tables and the 결재란 (needs --output and sop-gatekeeper[hwpx])": (
        "표와 결재란이 있는 HWPX(한글) 문서 (--output과 sop-gatekeeper[hwpx] 필요)"
    ),
    "write to FILE instead of standard output": "표준 출력 대신 FILE에 저장",
    "the workbook to write": "저장할 통합 문서",
    # init, demo
    "CI platform (default: inferred)": "CI 플랫폼 (기본: 자동 판단)",
    "system id (default: the repository folder name)": "시스템 id (기본: 저장소 폴더 이름)",
    "system name as users know it (default: the system id)": "사용자가 아는 시스템 이름 (기본: 시스템 id)",
    "정보시스템 등급 (default: 1, the strictest)": "정보시스템 등급 (기본: 1, 가장 엄격)",
    "policy pack name or path (default: kr-ap-sop)": "정책팩 이름 또는 경로 (기본: kr-ap-sop)",
    "the gatekeeper Action the GitHub workflows use (default: sop-gatekeeper/gatekeeper@v0.1.0; name your "
    "own copy where github.com is out of reach)": (
        "GitHub 워크플로가 쓰는 gatekeeper Action (기본: sop-gatekeeper/gatekeeper@v0.1.0, github.com에 닿지 "
        "않으면 자체 사본을 지정)"
    ),
    "what GitLab jobs pip-install (GATEKEEPER_PACKAGE; default: sop-gatekeeper==0.1.0): a version from your "
    "index, a git URL (`sop-gatekeeper @ git+https://...@v1.0`) or a wheel": (
        "GitLab 작업이 pip로 설치하는 것 (GATEKEEPER_PACKAGE, 기본: sop-gatekeeper==0.1.0): 자체 색인의 "
        "버전, git URL(`sop-gatekeeper @ git+https://...@v1.0`) 또는 wheel"
    ),
    "do not install the commit-msg hook": "commit-msg 훅을 설치하지 않음",
    "overwrite files that already exist": "이미 있는 파일을 덮어씀",
    "folder for the demo's repositories and report (emptied first; default: ./gatekeeper-demo)": (
        "데모 저장소와 보고서를 둘 폴더 (먼저 비움, 기본: ./gatekeeper-demo)"
    ),
}

# A text already in Korean needs no entry: Hangul, and no English word outside `code` and identifiers.
_ENGLISH_WORD = re.compile(r"\b[a-z]{3,}\b")


def needs_korean(text: str) -> bool:
    """Whether `text` reads as English somewhere (outside `code`): it then needs its Korean here."""
    return bool(_ENGLISH_WORD.search(re.sub(r"`[^`]*`", "", text)))


class KoreanHelpFormatter(argparse.RawDescriptionHelpFormatter):
    """argparse's layout with its own word for usage in Korean."""

    def add_usage(self, usage, actions, groups, prefix=None):  # type: ignore[no-untyped-def]
        super().add_usage(usage, actions, groups, "사용법: " if prefix is None else prefix)


def korean(parser: argparse.ArgumentParser) -> None:
    """Put the Korean of every text of `parser` and of the parsers under it in place (`HELP_KO`)."""
    parser.formatter_class = KoreanHelpFormatter
    for name in ("description", "epilog"):
        text = getattr(parser, name)
        if text:
            setattr(parser, name, HELP_KO.get(text, text))
    for group in parser._action_groups:
        if group.title:
            group.title = HELP_KO.get(group.title, group.title)
    for action in parser._actions:
        if action.help and action.help is not argparse.SUPPRESS:
            action.help = HELP_KO.get(action.help, action.help)
        if isinstance(action, argparse._SubParsersAction):
            for choice in action._choices_actions:
                if choice.help:
                    choice.help = HELP_KO.get(choice.help, choice.help)
            for sub in dict.fromkeys(action.choices.values()):
                korean(sub)
