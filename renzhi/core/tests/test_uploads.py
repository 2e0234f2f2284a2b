"""The one gate for uploaded files (`renzhi.core.uploads`): kind by content, pixel cap before
decoding, re-encoding without metadata, random names, and serving with safe headers."""

from __future__ import annotations

import importlib
import io
from types import SimpleNamespace

import pytest
from django.core.files.storage import FileSystemStorage
from django.urls import Resolver404, resolve
from django.utils import translation
from PIL import Image

from renzhi.core import uploads
from renzhi.core.errors import ActionError
from renzhi.core.tests import upload_samples as samples


@pytest.fixture(autouse=True)
def english():
    with translation.override("en"):
        yield


def refusal(call) -> tuple[str | None, str]:
    with pytest.raises(ActionError) as refused:
        call()
    (error,) = refused.value.errors
    return error.field, error.message


def test_it_refuses_html_whatever_its_name_or_claimed_type():
    html = samples.named("charter.pdf", samples.HTML, "application/pdf")
    assert refusal(lambda: uploads.document(html, "charter")) == (
        "charter",
        "“charter.pdf”: only PDF files are accepted.",
    )
    photo = samples.named("photo.jpg", samples.HTML, "image/jpeg")
    assert refusal(lambda: uploads.image(photo, "photo")) == (
        "photo",
        "“photo.jpg” is not an image.",
    )


def test_it_refuses_a_pdf_where_a_photo_is_expected():
    pdf = samples.named("scan.jpg", samples.PDF)
    assert refusal(lambda: uploads.image(pdf, "photo"))[1] == (
        "“scan.jpg”: only JPEG, PNG, WebP or GIF images."
    )


def test_it_accepts_a_pdf_by_its_bytes_whatever_its_name():
    checked = uploads.document(samples.named("章程.html", samples.PDF, "text/html"), "charter")
    assert (checked.kind, checked.content, checked.original_name) == (
        uploads.PDF,
        samples.PDF,
        "章程.html",
    )


def test_it_refuses_a_400_megapixel_png_of_48_kb_with_a_field_error():
    bomb = samples.png_bomb(20_000, 20_000)
    assert bomb.size < 50_000
    assert refusal(lambda: uploads.image(bomb, "photo")) == (
        "photo",
        "“bomb.png” has too many pixels (at most 40 megapixels).",
    )


def test_it_refuses_a_169_megapixel_png_before_decoding_it():
    bomb = samples.png_bomb(13_000, 13_000)
    assert "too many pixels" in refusal(lambda: uploads.image(bomb, "photo"))[1]


def test_the_pixel_cap_is_a_setting(settings):
    settings.RENZHI_MAX_IMAGE_PIXELS = 60 * 40
    assert uploads.image(samples.image(size=(60, 40)), "photo").width == 60
    assert (
        "too many pixels"
        in refusal(lambda: uploads.image(samples.image(size=(61, 40)), "photo"))[1]
    )


def test_pillows_own_bomb_check_is_a_field_error_too(settings, monkeypatch):
    """Should a header lie about its size, Pillow's check at decode time is caught as well."""
    photo = samples.image(size=(20, 20))

    def check_at_decode(*args, **kwargs):
        raise Image.DecompressionBombError("too big")

    monkeypatch.setattr(Image.Image, "load", check_at_decode)
    assert "too many pixels" in refusal(lambda: uploads.image(photo, "photo"))[1]


def test_it_refuses_a_file_over_the_size_cap_before_reading_it(settings):
    settings.RENZHI_MAX_UPLOAD_BYTES = 1024 * 1024
    big = samples.named("big.png", b"\x89PNG\r\n\x1a\n" + b"\0" * 1024 * 1024)
    assert refusal(lambda: uploads.image(big, "photo"))[1] == "“big.png” is larger than 1 MB."


def test_a_truncated_image_is_not_an_image():
    png = samples.image().read()
    broken = samples.named("half.png", png[: len(png) // 2])
    assert refusal(lambda: uploads.image(broken, "photo"))[1] == "“half.png” is not an image."


def test_it_removes_exif_and_gps_and_applies_the_orientation():
    checked = uploads.image(samples.jpeg_with_gps(size=(60, 40)), "photo")
    with Image.open(io.BytesIO(checked.content)) as stored:
        assert stored.format == "JPEG"
        assert dict(stored.getexif()) == {}
        assert "exif" not in stored.info
        assert stored.size == (40, 60)  # turned upright, then written without the tag
    assert b"HomeCam" not in checked.content


@pytest.mark.parametrize("fmt", ["PNG", "WEBP", "GIF"])
def test_every_accepted_format_is_written_again_in_its_own_format(fmt):
    checked = uploads.image(samples.image("x", fmt), "photo")
    with Image.open(io.BytesIO(checked.content)) as stored:
        assert stored.format == fmt and stored.size == (60, 40)
    assert checked.kind.pillow == fmt


def test_a_thumbnail_is_a_small_jpeg():
    thumb = uploads.thumbnail(uploads.image(samples.image(size=(1000, 600)), "photo"))
    assert (thumb.kind, thumb.width, thumb.height) == (uploads.JPEG, 320, 192)


def test_random_names_hold_nothing_the_client_sent():
    names = {uploads.random_name(uploads.PNG) for _ in range(50)}
    assert len(names) == 50
    assert all(len(n) == 36 and n.endswith(".png") for n in names)


# --- Serving ----------------------------------------------------------------------------------


def stored(tmp_path, name: str, content: bytes):
    storage = FileSystemStorage(location=tmp_path)
    storage.save(name, io.BytesIO(content))
    return SimpleNamespace(name=name, storage=storage)


def body(response) -> bytes:
    return b"".join(response.streaming_content)


def test_an_image_is_served_inline_with_the_type_of_its_bytes(tmp_path, rf):
    png = samples.image().read()
    response = uploads.serve(rf.get("/"), stored(tmp_path, "a/x.jpg", png))
    assert response["Content-Type"] == "image/png"  # from the bytes, not the name
    assert response["Content-Disposition"] == 'inline; filename="x.png"'
    assert response["X-Content-Type-Options"] == "nosniff"
    assert "sandbox" in response["Content-Security-Policy"]
    assert "private" in response["Cache-Control"]
    assert body(response) == png


def test_a_document_is_always_an_attachment(tmp_path, rf):
    response = uploads.serve(
        rf.get("/"), stored(tmp_path, "c.pdf", samples.PDF), download_name="章程"
    )
    assert response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"].startswith("attachment;")
    assert "filename*=utf-8''%E7%AB%A0%E7%A8%8B.pdf" in response["Content-Disposition"]


def test_an_old_html_file_is_served_as_an_inert_download(tmp_path, rf):
    """Files stored before the content check keep working, but never as a page of our origin."""
    response = uploads.serve(rf.get("/"), stored(tmp_path, "charter.html", samples.HTML))
    assert response["Content-Type"] == "application/octet-stream"
    assert response["Content-Disposition"] == 'attachment; filename="charter.html"'
    assert response["X-Content-Type-Options"] == "nosniff"


def test_nginx_gets_an_internal_redirect_and_no_body(tmp_path, rf, settings):
    settings.RENZHI_FILE_SERVING = "nginx"
    settings.RENZHI_FILE_ACCEL_PREFIX = "/protected-media/"
    response = uploads.serve(rf.get("/"), stored(tmp_path, "appeals/2026/12/ab cd.png", b""))
    assert response["X-Accel-Redirect"] == "/protected-media/appeals/2026/12/ab%20cd.png"
    assert response.content == b""
    assert response["Content-Type"] == "application/octet-stream"


def test_sendfile_gets_the_absolute_path(tmp_path, rf, settings):
    settings.RENZHI_FILE_SERVING = "sendfile"
    png = samples.image().read()
    response = uploads.serve(rf.get("/"), stored(tmp_path, "p/x.png", png))
    assert response["X-Sendfile"] == str(tmp_path / "p" / "x.png")
    assert (response["Content-Type"], response.content) == ("image/png", b"")


def test_an_unknown_serving_mode_is_a_configuration_error(tmp_path, rf, settings):
    from django.core.exceptions import ImproperlyConfigured

    settings.RENZHI_FILE_SERVING = "apache"
    with pytest.raises(ImproperlyConfigured):
        uploads.serve(rf.get("/"), stored(tmp_path, "x.png", b"x"))


def test_a_missing_file_is_not_found(tmp_path, rf):
    from django.http import Http404

    storage = FileSystemStorage(location=tmp_path)
    with pytest.raises(Http404):
        uploads.serve(rf.get("/"), SimpleNamespace(name="gone.png", storage=storage))
    with pytest.raises(Http404):
        uploads.serve(rf.get("/"), SimpleNamespace(name="../../etc/passwd", storage=storage))


def test_media_root_is_not_served_even_in_debug(settings):
    import renzhi.urls

    settings.DEBUG = True
    try:
        importlib.reload(renzhi.urls)
        with pytest.raises(Resolver404):
            resolve("/media/appeals/2026/12/photo.jpg", urlconf=renzhi.urls)
    finally:
        settings.DEBUG = False
        importlib.reload(renzhi.urls)
