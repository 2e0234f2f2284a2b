"""Photos of task check-in reports (issue 14 #8 #9): re-encoded without GPS within the pixel
cap, stored under random names, and served only to those who may see the task."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone, translation
from PIL import Image

from renzhi.core.errors import ActionError
from renzhi.core.tests import upload_samples as samples
from renzhi.emergency.actions import tasks
from renzhi.emergency.models import TaskReport
from renzhi.emergency.tests import factories_incidents as factories

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    with translation.override("en"):
        yield settings.MEDIA_ROOT


@pytest.fixture
def task(world):
    w = factories.add_flood(factories.add_flood_plan(world))
    w.task = tasks.create_task(
        w.alice,
        w.incident,
        title="转移3号楼老人",
        deadline=timezone.now() + dt.timedelta(hours=2),
        assignee=w.gina,
    )
    return w


def test_a_report_photo_loses_its_gps_and_its_name(task):
    w = task
    report = tasks.report(w.gina, w.task, note="已转移", photo=samples.jpeg_with_gps("老人家.jpg"))
    assert "老人家" not in report.photo.name and report.photo.name.endswith(".jpg")
    with Image.open(report.photo.path) as stored:
        assert dict(stored.getexif()) == {}
    assert b"HomeCam" not in report.photo.read()


@pytest.mark.parametrize("side", [20_000, 13_000])
def test_a_decompression_bomb_is_a_field_error_and_changes_nothing(task, media, side):
    w = task
    with pytest.raises(ActionError) as refused:
        tasks.report(w.gina, w.task, note="已转移", photo=samples.png_bomb(side, side))
    assert [(e.field, e.message) for e in refused.value.errors] == [
        ("photo", "“bomb.png” has too many pixels (at most 40 megapixels).")
    ]
    assert not TaskReport.objects.exists() and not media.exists()


def test_a_bomb_posted_on_the_task_page_is_shown_by_the_field(task, client):
    w = task
    client.force_login(w.gina)
    response = client.post(
        f"/emergency/tasks/{w.task.pk}/", {"note": "已转移", "photo": samples.png_bomb()}
    )
    assert response.status_code == 200
    assert "像素过多" in " ".join(response.context["form"].errors["photo"])  # zh-Hans page
    assert not TaskReport.objects.exists()


def test_a_report_photo_is_served_to_who_sees_the_task_only(task, client):
    w = task
    report = tasks.report(w.gina, w.task, note="已转移", photo=samples.image("a.png"))
    url = f"/emergency/tasks/{w.task.pk}/reports/{report.pk}/photo/"
    client.force_login(w.gina)
    assert url in client.get(f"/emergency/tasks/{w.task.pk}/").content.decode()
    response = client.get(url)
    assert (response.status_code, response["Content-Type"]) == (200, "image/png")
    assert response["X-Content-Type-Options"] == "nosniff"
    client.force_login(w.ivy)
    assert client.get(url).status_code in (403, 404)
    client.logout()
    assert client.get(url).status_code == 302
