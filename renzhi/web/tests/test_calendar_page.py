"""The working-day calendar page."""

import datetime as dt

from renzhi.core.models import CalendarOverride


def test_month_view_marks_spring_festival_and_make_up_days(world, client):
    client.force_login(world.root)
    response = client.get("/calendar/", {"month": "2026-02"})
    days = {d["date"]: d for week in response.context["weeks"] for d in week}
    assert days[dt.date(2026, 2, 17)]["kind"] == "holiday"
    assert days[dt.date(2026, 2, 17)]["holiday_name"] == "春节"
    assert days[dt.date(2026, 2, 14)]["kind"] == "makeup"
    assert days[dt.date(2026, 2, 7)]["kind"] == "rest"
    assert days[dt.date(2026, 2, 9)]["kind"] == "work"


def test_a_bad_month_falls_back_to_this_month(world, client):
    client.force_login(world.root)
    assert client.get("/calendar/", {"month": "2026-13"}).status_code == 200


def test_admin_adds_and_removes_an_override(world, client):
    client.force_login(world.root)
    response = client.post(
        "/calendar/", {"date": "2027-02-08", "is_working_day": "0", "note": "2027 春节"}
    )
    assert response["Location"] == "/calendar/?month=2027-02"
    override = CalendarOverride.objects.get(date=dt.date(2027, 2, 8))
    assert not override.is_working_day
    body = client.get("/calendar/", {"month": "2027-02"}).content.decode()
    assert "2027 春节" in body

    response = client.post("/calendar/overrides/2027-02-08/remove/")
    assert response["Location"] == "/calendar/?month=2027-02"
    assert not CalendarOverride.objects.exists()


def test_a_bad_date_is_a_field_error_and_changes_nothing(world, client):
    client.force_login(world.root)
    response = client.post("/calendar/", {"date": "2027-02-30", "is_working_day": "0"})
    assert response.context["form"].errors["date"]
    assert not CalendarOverride.objects.exists()


def test_removing_an_unknown_override_is_404(world, client):
    client.force_login(world.root)
    assert client.post("/calendar/overrides/2027-02-08/remove/").status_code == 404
    assert client.post("/calendar/overrides/not-a-date/remove/").status_code == 404


def test_staff_without_calendar_rights_cannot_post(world, client):
    client.force_login(world.alice)
    response = client.post("/calendar/", {"date": "2027-02-08", "is_working_day": "0"})
    assert response.status_code == 403
    assert not CalendarOverride.objects.exists()
