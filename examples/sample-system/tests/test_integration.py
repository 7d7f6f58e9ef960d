from app.complaints import validate


def test_submission_round_trip() -> None:
    submissions = [("가로등 고장", "가로등이 사흘째 꺼져 있습니다.", "01098765432")]
    assert all(validate(*s) == [] for s in submissions)
