"""Korean words for the enum values people read in registers and command output (`--lang ko`); the files
and the ledger keep the English value, which stays the one to type on the command line."""

from __future__ import annotations

ENUM_KO: dict[str, str] = {
    # change type (RFC `type`)
    "normal": "일반변경",
    "standard": "단순변경",
    "emergency": "긴급변경",
    # RFC status
    "draft": "작성 중",
    "active": "진행",
    "closed": "종료",
    "cancelled": "취소",
    # deployment result
    "success": "성공",
    "failure": "실패",
    "rolled-back": "원상복구",
    "aborted": "중단",
    "in-progress": "진행 중",
    # incident status and type
    "open": "처리 중",
    "resolved": "조치 완료",
    "service-outage": "서비스 중단",
    "service-delay": "서비스 지연",
    "service-malfunction": "서비스 오동작",
    "internal": "내부 장애",
    "external": "외부 장애",
    "cyber": "사이버 침해",
    "deployment-failure": "배포 실패",
    "deployment-rolled-back": "배포 원상복구",
    # approval steps and decisions
    "change-review": "변경 검토",
    "cab": "변경관리위원회",
    "change-approval": "변경 승인",
    "release-first": "배포 1차 승인",
    "release-second": "배포 2차 승인",
    "approve": "승인",
    "reject": "반려",
    # RFC impact level
    "low": "낮음",
    "medium": "보통",
    "high": "높음",
}


def word(value: object, lang: str) -> str:
    """`value` as people read it in `lang`: its Korean word under ko where there is one, else itself."""
    text = str(value)
    return ENUM_KO.get(text, text) if lang == "ko" else text
