from app.complaints import validate


def test_accepts_a_complete_submission() -> None:
    assert validate("도로 파손 신고", "집 앞 도로에 큰 구멍이 있습니다.", "010-1234-5678") == []


def test_rejects_an_empty_title() -> None:
    assert "title is empty" in validate(" ", "집 앞 도로에 큰 구멍이 있습니다.", "010-1234-5678")


def test_rejects_a_short_body() -> None:
    assert "body is shorter than 10 characters" in validate("제목", "짧음", "010-1234-5678")


def test_rejects_a_landline() -> None:
    assert validate("제목", "집 앞 도로에 큰 구멍이 있습니다.", "02-123-4567")
