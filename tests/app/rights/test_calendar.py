"""The working-day calendar: deadlines from the holiday table, 国庆 and its make-up day, provisional years."""

from datetime import date

import pytest

from app.extensions import db
from app.rights import calendar
from app.rights.models import Holiday


def test_national_day_deadline_skips_the_holiday_and_counts_the_make_up_saturday(ctx, seeded_calendar):
    # Received Tuesday 29 September 2026: 30 Sep (1), 1-7 Oct holiday, 8 Oct (2), 9 Oct (3),
    # Saturday 10 Oct is a make-up working day (4), Monday 12 Oct (5).
    five = calendar.add_working_days(date(2026, 9, 29), 5)
    assert (five.date, five.provisional) == (date(2026, 10, 12), False)
    assert calendar.add_working_days(date(2026, 9, 29), 3).date == date(2026, 10, 9)
    assert calendar.working_days_between(date(2026, 9, 29), date(2026, 10, 12)) == 5
    assert calendar.is_working_day(date(2026, 10, 10)) and not calendar.is_working_day(date(2026, 10, 5))


def test_plain_weeks_and_zero_days(ctx, seeded_calendar):
    assert calendar.add_working_days(date(2026, 12, 2), 5).date == date(2026, 12, 9)
    assert calendar.add_working_days(date(2026, 12, 4), 1).date == date(2026, 12, 7)  # Friday -> Monday
    assert calendar.add_working_days(date(2026, 12, 2), 0) == calendar.Deadline(date(2026, 12, 2), False)
    assert calendar.working_days_between(date(2026, 12, 9), date(2026, 12, 2)) == 0


def test_a_year_the_table_does_not_cover_gives_a_provisional_deadline(ctx, seeded_calendar):
    # 2027 is not in chinesecalendar 1.11: 1 January counts as a working day, and the deadline says so.
    deadline = calendar.add_working_days(date(2026, 12, 28), 5)
    assert deadline == calendar.Deadline(date(2027, 1, 4), True)
    assert calendar.add_working_days(date(2026, 12, 21), 5).provisional is False


def test_staff_edits_change_deadlines_and_confirming_a_year_makes_them_final(ctx, seeded_calendar):
    calendar.set_day(date(2027, 1, 1), False, "元旦")
    calendar.mark_year_known(2027)
    assert calendar.add_working_days(date(2026, 12, 28), 5) == calendar.Deadline(date(2027, 1, 5), False)
    calendar.remove_day(date(2027, 1, 1))
    assert calendar.add_working_days(date(2026, 12, 28), 5).date == date(2027, 1, 4)


def test_staff_cannot_make_a_weekday_a_make_up_day_or_remove_a_day_that_is_not_there(ctx, seeded_calendar):
    from app.errors import ApiError

    with pytest.raises(ApiError) as refused:
        calendar.set_day(date(2026, 12, 2), True, "调休")
    assert refused.value.code == "not_a_weekend"
    with pytest.raises(ApiError) as refused:
        calendar.remove_day(date(2026, 12, 2))
    assert refused.value.code == "holiday_not_found"


def test_seed_keeps_staff_edits_and_refuses_a_year_the_package_lacks(ctx, seeded_calendar):
    from app.errors import ApiError

    calendar.set_day(date(2026, 10, 8), False, "本市调休")
    result = calendar.seed(2026)
    assert result["years"] == [2026]
    assert db.session.get(Holiday, date(2026, 10, 8)).source == "staff"
    with pytest.raises(ApiError) as refused:
        calendar.seed(2027)
    assert refused.value.code == "calendar_year_unknown"


def test_warning_from_first_november_when_next_year_is_missing(ctx, seeded_calendar):
    assert calendar.missing_next_year_warning(date(2026, 10, 31)) is None
    assert "2027" in calendar.missing_next_year_warning(date(2026, 11, 1))
    calendar.mark_year_known(2027)
    assert calendar.missing_next_year_warning(date(2026, 12, 2)) is None


def test_staff_calendar_api(app, client, seeded_calendar):
    from tests.factories import staff_headers

    with app.app_context():
        headers = staff_headers(client)
    year = client.get("/api/v1/rights/calendar?year=2026", headers=headers).get_json()
    assert year["known"] is True and 2027 not in year["known_years"]
    assert "2027" in year["warning"]
    oct10 = next(day for day in year["days"] if day["day"] == "2026-10-10")
    assert oct10["is_workday"] is True and oct10["name"] == "国庆节"

    answer = client.get("/api/v1/rights/calendar/deadline?start=2026-09-29&days=5", headers=headers).get_json()
    assert answer == {"start": "2026-09-29", "days": 5, "deadline": "2026-10-12", "provisional": False}

    response = client.put("/api/v1/rights/calendar/2027-01-01", headers=headers, json={"is_workday": False,
                                                                                      "name": "元旦"})
    assert response.status_code == 200 and response.get_json()["source"] == "staff"
    response = client.put("/api/v1/rights/calendar/years/2027", headers=headers)
    assert response.status_code == 200 and response.get_json()["warning"] is None
    response = client.put("/api/v1/rights/calendar/years/twenty", headers=headers)
    assert response.status_code == 422 and response.get_json()["code"] == "invalid_year"
    response = client.put("/api/v1/rights/calendar/2026-13-01", headers=headers, json={"is_workday": False,
                                                                                      "name": "x"})
    assert response.status_code == 422 and response.get_json()["code"] == "invalid_date"
    assert client.delete("/api/v1/rights/calendar/2027-01-01", headers=headers).status_code == 204
    response = client.delete("/api/v1/rights/calendar/2027-01-01", headers=headers)
    assert response.status_code == 404 and response.get_json()["code"] == "holiday_not_found"
    assert client.get("/api/v1/rights/calendar?year=2026").status_code == 401


def test_cli_seed_and_check(app, runner):
    result = runner.invoke(args=["calendar", "seed", "--year", "2026"])
    assert result.exit_code == 0, result.output
    assert "seeded 2026" in result.output
    result = runner.invoke(args=["calendar", "seed", "--year", "2027"])
    assert result.exit_code != 0 and "2027" in result.output
    result = runner.invoke(args=["calendar", "check"])
    assert "known years: 2026–2026" in result.output
