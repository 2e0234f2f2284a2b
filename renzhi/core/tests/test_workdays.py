"""Working days and hours on the Chinese calendar, with real 2025/2026 holidays and 调休 days.

Working periods (settings.RENZHI_WORKING_PERIODS): 09:00–12:00 and 13:30–17:30 Asia/Shanghai,
so a working day has 3 + 4 = 7 hours. Every expected value below is worked out by hand in the
comment above it; none is computed by the code under test.
"""

from __future__ import annotations

import datetime as dt
import zoneinfo

import chinese_calendar
import pytest
from django.core.exceptions import ImproperlyConfigured
from django.utils import translation

from renzhi.core import actions, workdays
from renzhi.core.models import AuditEvent, CalendarOverride

SHANGHAI = zoneinfo.ZoneInfo("Asia/Shanghai")


def t(text: str) -> dt.datetime:
    """'2026-02-13 16:00' in Asia/Shanghai."""
    return dt.datetime.fromisoformat(text).replace(tzinfo=SHANGHAI)


def d(text: str) -> dt.date:
    return dt.date.fromisoformat(text)


def rest(day: str, note: str = "") -> None:
    CalendarOverride.objects.create(date=d(day), is_working_day=False, note=note)


def work(day: str, note: str = "") -> None:
    CalendarOverride.objects.create(date=d(day), is_working_day=True, note=note)


# --- the calendar facts the tests rely on, checked against chinese_calendar itself ----------


@pytest.mark.parametrize(
    ("day", "weekday", "working"),
    [
        # Spring Festival 2026: Sun 15 – Mon 23 February off; Saturdays 14 and 28 worked (调休).
        ("2026-02-13", "Fri", True),
        ("2026-02-14", "Sat", True),
        ("2026-02-15", "Sun", False),
        ("2026-02-16", "Mon", False),
        ("2026-02-20", "Fri", False),
        ("2026-02-23", "Mon", False),
        ("2026-02-24", "Tue", True),
        ("2026-02-28", "Sat", True),
        ("2026-03-01", "Sun", False),
        # National Day + Mid-Autumn 2025: 1–8 October off; Sun 28 Sep and Sat 11 Oct worked.
        ("2025-09-27", "Sat", False),
        ("2025-09-28", "Sun", True),
        ("2025-09-30", "Tue", True),
        ("2025-10-01", "Wed", False),
        ("2025-10-08", "Wed", False),
        ("2025-10-09", "Thu", True),
        ("2025-10-11", "Sat", True),
        # Labour Day 2025: 1–5 May off; Sun 27 April worked.
        ("2025-04-27", "Sun", True),
        ("2025-04-30", "Wed", True),
        ("2025-05-01", "Thu", False),
        ("2025-05-05", "Mon", False),
        ("2025-05-06", "Tue", True),
        # Dragon Boat 2025: Sat 31 May – Mon 2 June off.
        ("2025-05-30", "Fri", True),
        ("2025-06-02", "Mon", False),
    ],
)
def test_the_real_holidays_and_make_up_days_are_known(db, day, weekday, working):
    assert d(day).strftime("%a") == weekday
    assert chinese_calendar.is_workday(d(day)) is working
    assert workdays.is_working_day(d(day)) is working


# --- add_working_hours ----------------------------------------------------------------------


def test_hours_continue_after_the_lunch_break(db):
    # Mon 9 June 2025 11:00 + 2 h: 11:00–12:00 uses 1 h, lunch 12:00–13:30 does not count,
    # the remaining 1 h runs 13:30–14:30.
    assert workdays.add_working_hours(t("2025-06-09 11:00"), 2) == t("2025-06-09 14:30")


def test_a_start_inside_the_lunch_break_waits_for_the_afternoon(db):
    # 12:45 is lunch; the first working minute is 13:30, + 1.5 h = 15:00.
    assert workdays.add_working_hours(t("2025-06-09 12:45"), 1.5) == t("2025-06-09 15:00")


def test_a_start_before_opening_waits_for_nine(db):
    # 07:10 → the day starts at 09:00; 3 h fill the morning exactly and end at 12:00.
    assert workdays.add_working_hours(t("2025-06-09 07:10"), 3) == t("2025-06-09 12:00")


def test_hours_skip_an_ordinary_weekend(db):
    # Fri 13 June 2025 16:00 + 3 h: Friday 16:00–17:30 = 1.5 h; Sat 14 / Sun 15 rest;
    # Mon 16 09:00 + the remaining 1.5 h = 10:30.
    assert workdays.add_working_hours(t("2025-06-13 16:00"), 3) == t("2025-06-16 10:30")


def test_hours_before_spring_festival_land_on_the_make_up_saturday(db):
    # Fri 13 Feb 2026 16:00 + 4 h: Friday gives 1.5 h; Sat 14 Feb is a 调休 working day, so
    # the remaining 2.5 h run 09:00–11:30 on that Saturday.
    assert workdays.add_working_hours(t("2026-02-13 16:00"), 4) == t("2026-02-14 11:30")


def test_hours_jump_over_the_whole_spring_festival_holiday(db):
    # Sat 14 Feb 2026 (调休, working) 17:00 + 1 h: 0.5 h until 17:30; 15–23 Feb are off;
    # Tue 24 Feb 09:00 + 0.5 h = 09:30.
    assert workdays.add_working_hours(t("2026-02-14 17:00"), 1) == t("2026-02-24 09:30")


def test_five_working_days_after_spring_festival_end_on_the_second_make_up_saturday(db):
    # Tue 24 Feb 2026 09:00 + 35 h (5 days × 7 h): Tue 24, Wed 25, Thu 26, Fri 27 = 28 h;
    # the 5th working day is Sat 28 Feb (调休), fully used: it ends at 17:30.
    assert workdays.add_working_hours(t("2026-02-24 09:00"), 35) == t("2026-02-28 17:30")
    assert workdays.add_working_days(t("2026-02-24 09:00"), 5) == t("2026-02-28 17:30")


def test_hours_started_in_the_holiday_begin_on_the_first_working_morning(db):
    # Wed 18 Feb 2026 is inside the holiday; the first working time is Tue 24 Feb 09:00,
    # + 7 h = a full day, ending 17:30.
    assert workdays.add_working_hours(t("2026-02-18 10:00"), 7) == t("2026-02-24 17:30")


def test_hours_before_national_day_resume_after_eight_days_off(db):
    # Tue 30 Sep 2025 15:00 + 4 h: 15:00–17:30 = 2.5 h; 1–8 Oct off; Thu 9 Oct 09:00 + 1.5 h.
    assert workdays.add_working_hours(t("2025-09-30 15:00"), 4) == t("2025-10-09 10:30")


def test_a_saturday_start_before_national_day_counts_from_the_make_up_sunday(db):
    # Sat 27 Sep 2025 is rest; Sun 28 Sep is a 调休 working day: 09:00 + 1 h = 10:00.
    assert workdays.add_working_hours(t("2025-09-27 10:00"), 1) == t("2025-09-28 10:00")


def test_hours_after_national_day_use_the_make_up_saturday(db):
    # Fri 10 Oct 2025 17:00 + 1 h: 0.5 h on Friday; Sat 11 Oct is worked: 09:00 + 0.5 h.
    assert workdays.add_working_hours(t("2025-10-10 17:00"), 1) == t("2025-10-11 09:30")


def test_hours_before_labour_day_skip_to_the_sixth_of_may(db):
    # Wed 30 Apr 2025 17:00 + 1 h: 0.5 h on Wednesday; 1–5 May off; Tue 6 May 09:30.
    assert workdays.add_working_hours(t("2025-04-30 17:00"), 1) == t("2025-05-06 09:30")


def test_a_saturday_start_before_labour_day_lands_on_the_make_up_sunday(db):
    # Sat 26 Apr 2025 12:00 is rest; Sun 27 Apr is worked: 09:00 + 2 h = 11:00.
    assert workdays.add_working_hours(t("2025-04-26 12:00"), 2) == t("2025-04-27 11:00")


def test_a_friday_before_the_dragon_boat_long_weekend(db):
    # Fri 30 May 2025 16:00 + 3 h: 1.5 h on Friday; Sat 31 May, Sun 1 and Mon 2 June off;
    # Tue 3 June 09:00 + 1.5 h = 10:30.
    assert workdays.add_working_hours(t("2025-05-30 16:00"), 3) == t("2025-06-03 10:30")


def test_a_friday_before_spring_festival_2025_lands_on_its_make_up_sunday(db):
    # Fri 24 Jan 2025 16:00 + 3 h: 1.5 h on Friday; Sat 25 Jan rest; Sun 26 Jan is a 调休
    # working day: 09:00 + 1.5 h = 10:30.
    assert workdays.add_working_hours(t("2025-01-24 16:00"), 3) == t("2025-01-26 10:30")


def test_a_start_in_another_time_zone_means_the_same_instant(db):
    # 08:00 UTC = 16:00 in Shanghai; same case as the Spring Festival Saturday above.
    start = dt.datetime(2026, 2, 13, 8, 0, tzinfo=dt.UTC)
    deadline = workdays.add_working_hours(start, 4)
    assert deadline == t("2026-02-14 11:30")
    assert deadline.utcoffset() == dt.timedelta(hours=8)


def test_fractions_of_an_hour_are_exact_to_the_second(db):
    # Mon 9 June 2025 09:00 + 0.25 h = 09:15; + 1/3600 h more = 09:15:01.
    assert workdays.add_working_hours(t("2025-06-09 09:00"), 0.25) == t("2025-06-09 09:15")
    assert workdays.add_working_hours(t("2025-06-09 09:00"), 0.25 + 1 / 3600) == t(
        "2025-06-09 09:15:01"
    )


def test_zero_hours_is_the_start_itself(db):
    # Nothing to add, even outside working time (a Saturday evening).
    assert workdays.add_working_hours(t("2025-06-14 20:00"), 0) == t("2025-06-14 20:00")


@pytest.mark.parametrize("hours", [-1, -0.001, float("nan"), float("inf")])
def test_negative_or_non_finite_hours_are_refused(db, hours):
    with pytest.raises(ValueError) as error:
        workdays.add_working_hours(t("2025-06-09 09:00"), hours)
    assert error.value.errors[0].field == "hours"


def test_a_naive_datetime_is_refused(db):
    with pytest.raises(ValueError):
        workdays.add_working_hours(dt.datetime(2026, 2, 13, 16, 0), 1)
    with pytest.raises(ValueError):
        workdays.working_hours_between(dt.datetime(2026, 2, 13, 16, 0), t("2026-02-14 10:00"))
    with pytest.raises(ValueError):
        workdays.working_hours_between(dt.datetime(2026, 2, 13), dt.datetime(2026, 2, 14))


# --- working_hours_between ------------------------------------------------------------------


def test_a_whole_working_day_has_seven_hours(db):
    # 08:00–18:00 on Mon 9 June 2025 covers both periods entirely: 3 + 4 = 7 h.
    assert workdays.working_hours_between(t("2025-06-09 08:00"), t("2025-06-09 18:00")) == 7


def test_the_lunch_break_counts_nothing(db):
    assert workdays.working_hours_between(t("2025-06-09 12:05"), t("2025-06-09 13:25")) == 0


def test_hours_between_across_spring_festival(db):
    # Fri 13 Feb 2026 16:00 → Tue 24 Feb 10:00: Friday 1.5 h + Saturday 14 (调休) 7 h
    # + 15–23 Feb nothing + Tuesday 09:00–10:00 1 h = 9.5 h.
    a, b = t("2026-02-13 16:00"), t("2026-02-24 10:00")
    assert workdays.working_hours_between(a, b) == 9.5


def test_hours_between_is_negative_when_the_end_comes_first(db):
    a, b = t("2026-02-13 16:00"), t("2026-02-24 10:00")
    assert workdays.working_hours_between(b, a) == -9.5
    assert workdays.working_hours_between(a, a) == 0


def test_hours_between_over_a_weekend_in_mixed_time_zones(db):
    # Fri 13 June 2025 16:00 Shanghai → Mon 16 June 02:30 UTC (= 10:30 Shanghai):
    # Friday 1.5 h + Monday 09:00–10:30 1.5 h = 3 h.
    end = dt.datetime(2025, 6, 16, 2, 30, tzinfo=dt.UTC)
    assert workdays.working_hours_between(t("2025-06-13 16:00"), end) == 3


@pytest.mark.parametrize(
    ("start", "hours"),
    [
        ("2026-02-13 16:00", 4),
        ("2026-02-14 17:00", 1),
        ("2025-09-30 15:00", 4),
        ("2025-06-09 11:00", 2),
        ("2025-04-30 17:00", 12.75),
        ("2025-01-24 16:00", 30),
    ],
)
def test_hours_between_undoes_add_working_hours(db, start, hours):
    deadline = workdays.add_working_hours(t(start), hours)
    assert workdays.working_hours_between(t(start), deadline) == pytest.approx(hours)


# --- admin overrides and years the package does not know --------------------------------------


def test_an_override_can_make_a_working_day_a_rest_day(db):
    # As the weekend case, but Mon 16 June 2025 declared rest: Tue 17 June 10:30.
    rest("2025-06-16", "台风停工")
    assert workdays.add_working_hours(t("2025-06-13 16:00"), 3) == t("2025-06-17 10:30")


def test_an_override_can_make_a_weekend_day_a_working_day(db):
    # As the weekend case, but Sat 14 June 2025 declared working: Sat 09:00 + 1.5 h = 10:30.
    work("2025-06-14", "防汛值守")
    assert workdays.add_working_hours(t("2025-06-13 16:00"), 3) == t("2025-06-14 10:30")


def test_an_override_beats_a_make_up_saturday(db):
    # Sat 14 Feb 2026 declared rest after all: Fri 16:00 + 4 h = 1.5 h Friday, then nothing
    # until Tue 24 Feb 09:00 + 2.5 h = 11:30.
    rest("2026-02-14")
    assert workdays.add_working_hours(t("2026-02-13 16:00"), 4) == t("2026-02-24 11:30")


def test_an_unknown_year_falls_back_to_monday_to_friday(db):
    with pytest.raises(NotImplementedError):
        chinese_calendar.is_workday(d("2027-01-08"))
    # Fri 8 Jan 2027 16:00 + 3 h: 1.5 h Friday; Sat 9 / Sun 10 rest; Mon 11 Jan 10:30.
    assert workdays.add_working_hours(t("2027-01-08 16:00"), 3) == t("2027-01-11 10:30")


def test_an_unknown_year_follows_the_admin_overrides(db):
    # An admin enters a (hypothetical) 2027 make-up Saturday and a holiday Monday:
    # Fri 8 Jan 2027 16:00 + 3 h + 7 h = 10 h: Friday 1.5 h; Sat 9 Jan (worked) 7 h;
    # Sun 10 rest; Mon 11 declared rest; Tue 12 Jan 09:00 + 1.5 h = 10:30.
    work("2027-01-09")
    rest("2027-01-11")
    assert workdays.add_working_hours(t("2027-01-08 16:00"), 10) == t("2027-01-12 10:30")


def test_day_info_names_holidays_and_make_up_days(db):
    with translation.override("zh-hans"):
        assert workdays.day_info(d("2026-02-16"))["holiday_name"] == "春节"
        make_up = workdays.day_info(d("2026-02-14"))
        assert make_up["is_working_day"] is True
        assert make_up["holiday_name"] == "春节调休"
        assert workdays.day_info(d("2026-02-24"))["holiday_name"] is None
    with translation.override("en"):
        assert workdays.day_info(d("2025-10-01"))["holiday_name"] == "National Day"
        assert workdays.day_info(d("2025-10-11"))["holiday_name"] == (
            "National Day (make-up working day)"
        )


def test_day_info_shows_an_override_and_its_note(db):
    rest("2027-02-08", "2027 春节")
    info = workdays.day_info(d("2027-02-08"))
    assert info == {
        "date": d("2027-02-08"),
        "is_working_day": False,
        "holiday_name": "2027 春节",
        "overridden": True,
    }


# --- API ------------------------------------------------------------------------------------


def test_the_calendar_api_lists_spring_festival_2026(world, api_client):
    response = api_client.as_user(world.alice).get(
        "/api/calendar", {"start": "2026-02-13", "end": "2026-03-01"}
    )

    assert response.status_code == 200
    days = {day["date"]: day["is_working_day"] for day in response.json()}
    # 13 Feb – 1 Mar is 17 days; working: 13, 14 (调休), 24–27, 28 (调休) = 7 days.
    assert len(days) == 17
    assert [k for k, v in days.items() if v] == [
        "2026-02-13",
        "2026-02-14",
        "2026-02-24",
        "2026-02-25",
        "2026-02-26",
        "2026-02-27",
        "2026-02-28",
    ]


def test_the_deadline_api_adds_working_hours(world, api_client):
    response = api_client.as_user(world.alice).get(
        "/api/calendar/deadline", {"start": "2026-02-13T16:00:00+08:00", "hours": 4}
    )

    assert response.status_code == 200
    deadline = dt.datetime.fromisoformat(response.json()["deadline"])
    assert deadline == t("2026-02-14 11:30")


def test_the_calendar_needs_a_login(db, api_client):
    assert (
        api_client.get("/api/calendar", {"start": "2026-02-13", "end": "2026-02-14"}).status_code
        == 401
    )


@pytest.mark.parametrize(
    ("path", "params", "field"),
    [
        ("/api/calendar", {"start": "2026-02-13", "end": "2026-02-12"}, "end"),
        ("/api/calendar", {"start": "2025-01-01", "end": "2026-06-01"}, "end"),
        ("/api/calendar/deadline", {"start": "2026-02-13T16:00:00+08:00", "hours": -1}, "hours"),
        ("/api/calendar/deadline", {"start": "2026-02-13T16:00:00+08:00", "hours": "nan"}, "hours"),
        ("/api/calendar/deadline", {"start": "2026-02-13T16:00:00", "hours": 2}, "start"),
    ],
)
def test_bad_calendar_input_is_a_400_naming_the_field(world, api_client, path, params, field):
    response = api_client.as_user(world.alice).get(path, params)

    assert response.status_code == 400, response.content
    detail = response.json()["detail"]
    assert [e["field"] for e in detail] == [field]
    assert detail[0]["message"]


def test_the_root_admin_sets_an_override_through_the_api(world, api_client):
    client = api_client.as_user(world.root)

    response = client.post_json(
        "/api/calendar/overrides",
        {"date": "2025-06-16", "is_working_day": False, "note": "台风停工"},
    )

    assert response.status_code == 201
    assert response.json() == {
        "date": "2025-06-16",
        "is_working_day": False,
        "holiday_name": "台风停工",
        "overridden": True,
    }
    assert AuditEvent.objects.filter(verb="calendar.override").count() == 1
    deadline = client.get(
        "/api/calendar/deadline", {"start": "2025-06-13T16:00:00+08:00", "hours": 3}
    ).json()["deadline"]
    assert dt.datetime.fromisoformat(deadline) == t("2025-06-17 10:30")


def test_changing_an_override_records_what_it_was(world):
    actions.set_calendar_override(world.root, date=d("2025-06-16"), is_working_day=False)
    actions.set_calendar_override(
        world.root, date=d("2025-06-16"), is_working_day=True, note="补班"
    )

    override = CalendarOverride.objects.get(date=d("2025-06-16"))
    assert override.is_working_day is True
    event = AuditEvent.objects.order_by("-seq").first()
    assert event.before == {"working": False, "note": ""}
    assert event.after == {"date": "2025-06-16", "working": True, "note": "补班"}


@pytest.mark.parametrize("who", ["alice", "charlie", "dora", "frank", "adam"])
def test_only_the_root_admin_may_set_overrides(world, api_client, who):
    # adam administers street A only; the calendar sets deadlines in every jurisdiction.
    response = api_client.as_user(getattr(world, who)).post_json(
        "/api/calendar/overrides", {"date": "2025-06-16", "is_working_day": False}
    )

    assert response.status_code == 403
    assert response.json()["detail"][0]["code"] == "forbidden"
    assert not CalendarOverride.objects.exists()
    assert not AuditEvent.objects.filter(verb="calendar.override").exists()


def test_an_override_with_a_bad_date_is_refused_without_a_500(world, api_client):
    response = api_client.as_user(world.root).post_json(
        "/api/calendar/overrides", {"date": "2025-02-30", "is_working_day": False}
    )

    assert 400 <= response.status_code < 500
    assert response.json()["detail"][0]["field"] == "date"
    assert not CalendarOverride.objects.exists()


# --- configuration --------------------------------------------------------------------------


def test_the_working_periods_come_from_settings(db, settings):
    settings.RENZHI_WORKING_PERIODS = [("08:30", "17:00")]
    # One 8.5 h period, 08:30–17:00. Mon 9 June 2025 16:00 + 1 h: 16:00–17:00 is exactly 1 h,
    # so 17:00 the same day. + 2 h: 1 h on Monday, then Tue 10 June 08:30 + 1 h = 09:30.
    assert workdays.add_working_hours(t("2025-06-09 16:00"), 1) == t("2025-06-09 17:00")
    assert workdays.add_working_hours(t("2025-06-09 16:00"), 2) == t("2025-06-10 09:30")
    assert workdays.WorkCalendar().hours_per_day == 8.5


@pytest.mark.parametrize(
    "periods",
    [
        [("12:00", "09:00")],
        [("09:00", "12:00"), ("11:00", "17:30")],
        [("13:30", "17:30"), ("09:00", "12:00")],
        [("09:00", "09:00")],
    ],
    ids=["backwards", "overlapping", "unordered", "empty"],
)
def test_misconfigured_working_periods_are_refused(db, settings, periods):
    settings.RENZHI_WORKING_PERIODS = periods
    with pytest.raises(ImproperlyConfigured):
        workdays.add_working_hours(t("2025-06-09 09:00"), 1)
