"""Photos on appeals: real images are stored under MEDIA_ROOT with a thumbnail; anything else is
refused by name under the `photos` field, and a refusal writes nothing — no file, no row.
"""

from __future__ import annotations

import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import translation
from PIL import Image

from renzhi.appeals import actions
from renzhi.appeals.attachments import MAX_BYTES
from renzhi.appeals.models import State
from renzhi.core.errors import ActionError, ErrorCode
from renzhi.core.tests import upload_samples as samples

S = State


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    with translation.override("en"):
        yield settings.MEDIA_ROOT


def image_file(name: str = "photo.png", fmt: str = "PNG", size=(1000, 600)) -> SimpleUploadedFile:
    out = io.BytesIO()
    Image.new("RGB", size, (200, 40, 40)).save(out, fmt)
    return SimpleUploadedFile(name, out.getvalue(), content_type=f"image/{fmt.lower()}")


def files_under(root) -> list[str]:
    return (
        sorted(str(p.relative_to(root)) for p in root.rglob("*") if p.is_file())
        if root.exists()
        else []
    )


def submit(flow, photos):
    return actions.submit_appeal(
        flow.charlie,
        channel="web",
        description="楼道灯坏了",
        category=flow.cat_lift,
        lat=39.92,
        lng=116.42,
        photos=photos,
    )


def refused_submit(flow, photos, media) -> list:
    """Submit and expect a refusal that wrote nothing (no appeal, row, counter step or file)."""
    existing = flow.bring(S.RECEIVED)
    before, files = flow.snapshot(existing), files_under(media)
    with pytest.raises(ActionError) as refused:
        submit(flow, photos)
    assert flow.snapshot(existing) == before and files_under(media) == files
    return refused.value.errors


def test_a_png_is_stored_with_a_jpeg_thumbnail(flow, media):
    appeal = submit(flow, [image_file("楼道.png")]).appeal
    attachment = appeal.attachments.get()
    assert (attachment.content_type, attachment.uploaded_by) == ("image/png", flow.charlie)
    assert attachment.event == appeal.events.get(verb="submit")
    assert attachment.file.name.startswith("appeals/") and attachment.file.name.endswith(".png")
    assert (media / attachment.file.name).stat().st_size == attachment.size
    with Image.open(media / attachment.thumbnail.name) as thumb:
        assert thumb.format == "JPEG" and thumb.size == (320, 192)  # 1000×600 scaled to fit 320


def test_a_jpeg_resolution_photo_is_attached_to_the_resolve_step(flow, media):
    appeal = flow.bring(S.HANDLING)
    actions.resolve(flow.erin, appeal, result="已修好", photos=[image_file("after.jpg", "JPEG")])
    attachment = appeal.attachments.get()
    assert attachment.content_type == "image/jpeg" and attachment.uploaded_by == flow.erin
    assert attachment.event.verb == "resolve"
    assert (media / attachment.thumbnail.name).exists()


def test_a_small_image_keeps_its_size_in_the_thumbnail(flow, media):
    appeal = submit(flow, [image_file("tiny.gif", "GIF", size=(40, 30))]).appeal
    attachment = appeal.attachments.get()
    assert attachment.content_type == "image/gif"
    with Image.open(media / attachment.thumbnail.name) as thumb:
        assert thumb.size == (40, 30)


def test_a_text_file_named_jpg_is_not_an_image(flow, media):
    fake = SimpleUploadedFile("notes.jpg", "这不是图片".encode(), content_type="image/jpeg")
    errors = refused_submit(flow, [fake], media)
    assert [(e.field, e.code, e.message) for e in errors] == [
        ("photos", ErrorCode.INVALID, "“notes.jpg” is not an image.")
    ]


def test_an_image_over_10_mb_is_refused(flow, media):
    big = SimpleUploadedFile("huge.jpg", b"\xff" * (MAX_BYTES + 1), content_type="image/jpeg")
    errors = refused_submit(flow, [big], media)
    assert [(e.field, e.message) for e in errors] == [
        ("photos", "“huge.jpg” is larger than 10 MB.")
    ]


def test_an_image_of_exactly_10_mb_is_accepted(flow, media):
    png = image_file("exact.png")
    padded = png.read() + b"\0" * (MAX_BYTES - png.size)  # bytes after IEND are ignored
    appeal = submit(flow, [SimpleUploadedFile("exact.png", padded)]).appeal
    attachment = appeal.attachments.get()  # stored re-encoded: the padding is gone
    assert attachment.size == (media / attachment.file.name).stat().st_size < MAX_BYTES


def test_ten_photos_are_refused(flow, media):
    errors = refused_submit(
        flow, [image_file(f"p{i}.png", size=(20, 20)) for i in range(10)], media
    )
    assert [(e.field, e.message) for e in errors] == [("photos", "At most 9 photos per step.")]


def test_nine_photos_are_accepted(flow, media):
    appeal = submit(flow, [image_file(f"p{i}.png", size=(20, 20)) for i in range(9)]).appeal
    assert appeal.attachments.count() == 9
    assert len(files_under(media)) == 18  # nine photos, nine thumbnails


def test_an_image_format_we_do_not_take_is_refused(flow, media):
    errors = refused_submit(flow, [image_file("scan.bmp", "BMP", size=(20, 20))], media)
    assert errors[0].message == "“scan.bmp”: only JPEG, PNG, WebP or GIF images."


def test_every_bad_photo_is_reported_at_once(flow, media):
    fake = SimpleUploadedFile("a.jpg", b"not an image")
    big = SimpleUploadedFile("b.png", b"\0" * (MAX_BYTES + 1))
    errors = refused_submit(flow, [fake, image_file("ok.png", size=(20, 20)), big], media)
    assert [e.message for e in errors] == [
        "“a.jpg” is not an image.",
        "“b.png” is larger than 10 MB.",
    ]


def test_a_bad_photo_on_a_progress_report_changes_nothing(flow, media):
    appeal = flow.bring(S.SIGNED)
    before = flow.snapshot(appeal)
    fake = SimpleUploadedFile("progress.png", b"GIF89a but truncated")
    with pytest.raises(ActionError) as refused:
        actions.progress(flow.erin, appeal, note="已到场", photos=[fake])
    assert refused.value.errors[0].field == "photos"
    assert flow.snapshot(appeal) == before and files_under(media) == []


# --- Issue 14 #8 #9: names, metadata and bombs ----------------------------------------------


def test_photos_and_thumbnails_are_stored_under_random_names(flow, media):
    appeal = submit(flow, [image_file("张三家门口.png"), image_file("张三家门口.png")]).appeal
    names = [n for a in appeal.attachments.all() for n in (a.file.name, a.thumbnail.name)]
    assert len(set(names)) == 4
    for name in names:
        assert "张三" not in name and "thumb" not in name.rsplit("/", 1)[1]
        assert len(name.rsplit("/", 1)[1].split(".")[0]) == 32  # 128 random bits


def test_gps_and_camera_details_are_removed_from_stored_photos(flow, media):
    appeal = submit(flow, [samples.jpeg_with_gps()]).appeal
    attachment = appeal.attachments.get()
    stored = (media / attachment.file.name).read_bytes()
    assert b"HomeCam" not in stored
    with Image.open(media / attachment.file.name) as image:
        assert dict(image.getexif()) == {} and image.size == (40, 60)
    assert attachment.size == len(stored)


@pytest.mark.parametrize("side", [20_000, 13_000])
def test_a_decompression_bomb_is_refused_under_photos_and_changes_nothing(flow, media, side):
    errors = refused_submit(flow, [samples.png_bomb(side, side)], media)
    assert [(e.field, e.message) for e in errors] == [
        ("photos", "“bomb.png” has too many pixels (at most 40 megapixels).")
    ]


def test_scrub_uploads_re_encodes_photos_stored_before_the_gate(flow, media):
    """Old originals kept their EXIF/GPS; the operator command rewrites them in place."""
    from io import StringIO

    from django.core.management import call_command

    from renzhi.appeals.models import Attachment

    appeal = submit(flow, []).appeal
    old = Attachment(appeal=appeal, content_type="image/jpeg", size=1)
    old.file.save("IMG_0001.jpg", samples.jpeg_with_gps(), save=False)  # as stored before
    old.save()
    html = Attachment(appeal=appeal, content_type="image/jpeg", size=1)
    html.file.save("x.jpg", samples.named("x.jpg", samples.HTML), save=False)
    html.save()
    out = StringIO()
    call_command("scrub_uploads", stdout=out)
    assert b"HomeCam" in (media / old.file.name).read_bytes()  # a dry run changes nothing
    call_command("scrub_uploads", "--apply", stdout=out)
    assert b"HomeCam" not in (media / old.file.name).read_bytes()
    with Image.open(media / old.file.name) as image:
        assert dict(image.getexif()) == {}
    assert f"refused: appeals.Attachment.file {html.file.name}" in out.getvalue()
    assert "1 photos re-encoded" in out.getvalue()
