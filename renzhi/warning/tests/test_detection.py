"""The nightly job finds the demo city's injected outbreaks; series counting; detector settings.

One small demo city (reduced scale, ~10 months ending on a fixed date) is built for the module
inside a transaction rolled back at the end, as in renzhi/demo/tests.
"""

from __future__ import annotations

import datetime as dt
import io

import numpy as np
import pytest
from django.core.management import call_command
from django.db import transaction

from renzhi.appeals.models import Appeal, new_public_id
from renzhi.core.errors import ActionError
from renzhi.core.models import AuditEvent
from renzhi.core.workdays import LOCAL_TZ
from renzhi.warning import actions, detection, series, tasks
from renzhi.warning.models import (
    CapMessage,
    DetectorConfig,
    Series,
    SeriesCount,
    SeriesWeek,
    Signal,
    Status,
    Warning,
)

END = dt.datetime(2026, 9, 30, 15, 0, tzinfo=LOCAL_TZ)


@pytest.fixture(scope="module")
def city(django_db_setup, django_db_blocker):
    with django_db_blocker.unblock(), transaction.atomic():
        call_command(
            "demo_city",
            "--scale", "0.15", "--appeal-days", "300", "--appeal-end", END.isoformat(), "--quiet",
            stdout=io.StringIO(),
        )  # fmt: skip
        event = AuditEvent.objects.filter(verb="demo.create_appeals").order_by("-seq").first()
        yield event.after["outbreaks"]
        transaction.set_rollback(True)


@pytest.fixture
def outbreaks(city, db):
    return city


def test_the_nightly_job_detects_every_injected_outbreak(outbreaks):
    Signal.objects.all().delete()
    assert len(outbreaks) >= 4
    for outbreak in outbreaks:
        start = dt.date.fromisoformat(outbreak["start"])
        for k in range(outbreak["days"]):
            day = start + dt.timedelta(days=k)
            out = io.StringIO()
            call_command("detect", "--date", day.isoformat(), stdout=out)
        found = Signal.objects.filter(
            series__place__code=outbreak["community"],
            series__category__code=outbreak["category"],
            day__gte=start,
            day__lt=start + dt.timedelta(days=outbreak["days"]),
        )
        assert found.exists(), f"outbreak {outbreak} not detected"
        first = found.order_by("day").first()
        assert (first.day - start).days <= 1


def test_detection_is_idempotent_for_a_day(outbreaks):
    day = dt.date.fromisoformat(outbreaks[0]["start"])
    detection.run(day)
    before = sorted(Signal.objects.filter(day=day).values_list("series_id", "method", "observed"))
    detection.run(day)
    after = sorted(Signal.objects.filter(day=day).values_list("series_id", "method", "observed"))
    assert before == after and before


def test_a_decided_signal_keeps_its_decision_on_a_rerun(outbreaks, django_user_model):
    day = dt.date.fromisoformat(outbreaks[0]["start"])
    detection.run(day)
    signal = Signal.objects.filter(day=day).first()
    staff = django_user_model.objects.get(username="admin")
    actions.dismiss_signal(staff, signal.pk, "已知原因")
    detection.run(day)
    signal.refresh_from_db()
    assert signal.status == "dismissed"


def test_the_demo_made_warnings_of_every_colour(outbreaks):
    published = Warning.objects.exclude(published_at=None)
    assert {w.colour for w in published} == {"blue", "yellow", "orange", "red"}
    assert published.filter(status=Status.CANCELLED).exists()
    assert published.filter(status=Status.UPDATED).exists()
    assert CapMessage.objects.filter(msg_type="Update").exists()


def test_a_rebuild_gives_the_same_counts_as_the_incremental_refresh(outbreaks):
    series.refresh()  # appeals other demo stages added after the warning stage
    before = sorted(SeriesCount.objects.values_list("series_id", "day", "count"))
    weeks = sorted(SeriesWeek.objects.values_list("series_id", "week_start", "count"))
    call_command("warning_series", "--rebuild", stdout=io.StringIO())
    assert sorted(SeriesCount.objects.values_list("series_id", "day", "count")) == before
    assert sorted(SeriesWeek.objects.values_list("series_id", "week_start", "count")) == weeks


def test_new_appeals_are_counted_by_the_periodic_refresh(outbreaks):
    series.refresh()
    appeal = Appeal.objects.filter(community__isnull=False).order_by("-id").first()
    day = appeal.received_at.astimezone(LOCAL_TZ).date()
    s = Series.objects.get(place=appeal.community, category=None)
    before = SeriesCount.objects.get(series=s, day=day).count
    clone = Appeal.objects.get(pk=appeal.pk)
    clone.pk = None
    clone.tracking_no = "RZ20990101-000001"
    clone.idempotency_key = None
    clone.public_id = new_public_id()
    clone.save()
    tasks.refresh_series.enqueue()
    assert SeriesCount.objects.get(series=s, day=day).count == before + 1
    tasks.refresh_series.enqueue()  # nothing new: nothing changes
    assert SeriesCount.objects.get(series=s, day=day).count == before + 1


def test_totals_agree_across_levels(outbreaks):
    series.refresh()
    district = Series.objects.get(place__level="district", category=None)
    total = sum(SeriesCount.objects.filter(series=district).values_list("count", flat=True))
    assert total == Appeal.objects.count()


@pytest.mark.parametrize(
    ("method", "parameters", "word"),
    [
        ("ears_c1", {"alpha": 2}, "alpha"),
        ("ears_c2", {"baseline": -1}, "baseline"),
        ("cusum", {"h": -1}, "h"),
        ("ears_c1", {"nonsense": 1}, "nonsense"),
    ],
)
def test_detector_settings_out_of_range_are_refused_naming_the_parameter(
    outbreaks, django_user_model, method, parameters, word
):
    root = django_user_model.objects.get(username="admin")
    before = DetectorConfig.objects.count()
    with pytest.raises(ActionError) as refused:
        actions.save_detector_config(root, method=method, parameters=parameters)
    assert refused.value.errors[0].field == "parameters"
    assert word in refused.value.errors[0].message
    assert DetectorConfig.objects.count() == before


def test_the_matrix_is_series_by_day(outbreaks):
    ids = list(Series.objects.values_list("id", flat=True)[:5])
    m = series.matrix(ids, dt.date(2026, 9, 1), dt.date(2026, 9, 30))
    assert m.shape == (5, 30) and m.dtype == np.int64 and (m >= 0).all()
