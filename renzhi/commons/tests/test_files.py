"""Charters and photos of the commons (issue 14 #2 #9): a charter is a PDF by its bytes, photos
are re-encoded within the pixel cap, everything is stored under random names and served only by
the commons' own views, within the scope of the organisation, activity or proposal."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone, translation
from PIL import Image

from renzhi.commons.actions import activities, proposals
from renzhi.commons.actions import organisations as orgs
from renzhi.commons.models import ActivityPhoto, ImplementationTask, Organisation
from renzhi.core.errors import ActionError
from renzhi.core.tests import upload_samples as samples


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    with translation.override("en"):
        yield settings.MEDIA_ROOT


def files_under(root) -> list[str]:
    return sorted(str(p) for p in root.rglob("*") if p.is_file()) if root.exists() else []


def file_org(w, charter, name="舞蹈队"):
    return orgs.file_organisation(
        w.charlie,
        community=w.community_a,
        name=name,
        kind="culture_sports",
        purpose="跳舞",
        activity_area="广场",
        charter=charter,
        submit=True,
    )


def an_activity(w):
    start = timezone.now() + dt.timedelta(days=3)
    return activities.publish_activity(
        w.alice,
        community=w.community_a,
        title="义诊",
        kind="cultural",
        location="广场",
        starts_at=start,
        ends_at=start + dt.timedelta(hours=1),
        capacity=5,
    )


def test_an_html_charter_is_refused_under_charter_and_changes_nothing(world, media):
    html = samples.named("charter.html", samples.HTML, "text/html")
    with pytest.raises(ActionError) as refused:
        file_org(world, html)
    assert [(e.field, e.message) for e in refused.value.errors] == [
        ("charter", "“charter.html”: only PDF files are accepted.")
    ]
    assert not Organisation.objects.exists() and files_under(media) == []


def test_an_html_charter_named_pdf_is_refused_too(world, media):
    fake = samples.named("章程.pdf", samples.HTML, "application/pdf")
    with pytest.raises(ActionError):
        file_org(world, fake)
    assert not Organisation.objects.exists()


def test_a_pdf_charter_is_stored_under_a_random_name_and_downloaded_as_a_pdf(world, media, client):
    org = file_org(world, samples.named("我们的章程.pdf", samples.PDF, "text/html"))
    name = org.charter.name
    assert name.startswith("commons/charters/") and name.endswith(".pdf")
    assert "章程" not in name and len(name.rsplit("/", 1)[1]) == 36
    client.force_login(world.charlie)
    page = client.get(f"/commons/organisations/{org.pk}/")
    assert f'href="/commons/organisations/{org.pk}/charter/"' in page.content.decode()
    response = client.get(f"/commons/organisations/{org.pk}/charter/")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"] == f'attachment; filename="charter-{org.pk}.pdf"'
    assert response["X-Content-Type-Options"] == "nosniff"
    assert b"".join(response.streaming_content) == samples.PDF


def test_an_organisation_without_a_charter_has_no_charter_to_download(world, client):
    org = file_org(world, None)
    client.force_login(world.charlie)
    assert client.get(f"/commons/organisations/{org.pk}/charter/").status_code == 404


def test_an_activity_photo_loses_its_gps_and_is_served_only_with_its_activity(world, client):
    w = world
    act, other = an_activity(w), an_activity(w)
    photo = activities.add_photo(w.alice, act, samples.jpeg_with_gps("家.jpg"))
    assert "家" not in photo.image.name
    with photo.image.open("rb") as stored:
        data = stored.read()
    assert b"HomeCam" not in data
    client.force_login(w.charlie)
    url = f"/commons/activities/{act.pk}/photos/{photo.pk}/"
    assert url in client.get(f"/commons/activities/{act.pk}/").content.decode()
    response = client.get(url)
    assert (response.status_code, response["Content-Type"]) == (200, "image/jpeg")
    assert response["Content-Disposition"].startswith("inline;")
    assert client.get(f"/commons/activities/{other.pk}/photos/{photo.pk}/").status_code == 404


@pytest.mark.parametrize("side", [20_000, 13_000])
def test_a_decompression_bomb_is_a_field_error_on_an_activity(world, media, side):
    act = an_activity(world)
    with pytest.raises(ActionError) as refused:
        activities.add_photo(world.alice, act, samples.png_bomb(side, side))
    assert [(e.field, e.message) for e in refused.value.errors] == [
        ("photo", "“bomb.png” has too many pixels (at most 40 megapixels).")
    ]
    assert not ActivityPhoto.objects.exists() and files_under(media) == []


def test_a_bomb_posted_on_the_activity_page_is_shown_not_a_500(world, client, media):
    act = an_activity(world)
    client.force_login(world.alice)
    response = client.post(
        f"/commons/activities/{act.pk}/act/photo/", {"photo": samples.png_bomb()}, follow=True
    )
    assert response.status_code == 200
    assert "像素过多" in response.content.decode()  # the page speaks zh-Hans
    assert not ActivityPhoto.objects.exists()


def implementing(w):
    """A proposal of community A with one implementation task owned by alice (set up directly:
    the vote that leads there is not what these tests are about)."""
    p = proposals.raise_proposal(w.alice, community=w.community_a, title="修路", body="修路")
    p.phase = "implementing"
    p.save(update_fields=["phase"])
    return p, ImplementationTask.objects.create(proposal=p, title="铺路", owner=w.alice)


def test_a_progress_photo_is_re_encoded_and_served_within_the_proposals_scope(world, client):
    w = world
    p, task = implementing(w)
    update = proposals.report_progress(
        w.alice, task, progress=50, note="一半", photo=samples.jpeg_with_gps()
    )
    with Image.open(update.photo.path) as stored:
        assert dict(stored.getexif()) == {}
    url = f"/commons/proposals/{p.pk}/progress/{update.pk}/photo/"
    client.force_login(w.charlie)
    assert url in client.get(f"/commons/proposals/{p.pk}/").content.decode()
    assert client.get(url)["Content-Type"] == "image/jpeg"
    client.force_login(w.ivy)
    assert client.get(url).status_code == 404


def test_a_progress_photo_bomb_changes_nothing(world, media):
    w = world
    _p, task = implementing(w)
    with pytest.raises(ActionError) as refused:
        proposals.report_progress(w.alice, task, progress=50, photo=samples.png_bomb())
    assert refused.value.errors[0].field == "photo"
    task.refresh_from_db()
    assert task.progress == 0 and not task.updates.exists() and files_under(media) == []


def test_anonymous_gets_no_commons_file(world, client):
    org = file_org(world, samples.named("c.pdf", samples.PDF))
    response = client.get(f"/commons/organisations/{org.pk}/charter/")
    assert response.status_code == 302 and "/login" in response["Location"]
