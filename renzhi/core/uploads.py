"""Every uploaded file passes here: checked by its content, re-encoded if it is an image, stored
under a random name, and given back only through a view that has already checked the viewer's
scope.

Why each rule:
- a file name or a client content type is whatever the sender says: `charter.html` stored and
  served as text/html from our origin is stored XSS, so the kind comes from the magic bytes and
  the stored name is random (nothing the client sent is ever part of a path);
- residents' photos carry EXIF with GPS positions of their homes, so images are decoded and
  written again without metadata (the EXIF orientation is applied first);
- a 48 KB PNG can claim 400 megapixels and take the worker's memory, so the header's size is
  checked against `RENZHI_MAX_IMAGE_PIXELS` before anything is decoded, and Pillow's own bomb
  check is set to the same cap (its error is a field error, never a 500);
- MEDIA_ROOT is not served by anyone: `serve` answers with the file (or hands it to nginx by
  `X-Accel-Redirect`, or to Apache/lighttpd by `X-Sendfile`, per `RENZHI_FILE_SERVING`) with
  the content type of the kind read back from the stored bytes, `nosniff`, a sandboxing CSP
  and `Content-Disposition: attachment` for anything that is not an image.

An action calls `image()` or `document()` before its transaction (a refusal changes nothing)
and `store()` inside it; a view calls `serve()` after its own scope check.
"""

from __future__ import annotations

import contextlib
import io
import os
import uuid
import warnings
from dataclasses import dataclass
from urllib.parse import quote

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured, SuspiciousFileOperation
from django.core.files.base import ContentFile
from django.db.models.fields.files import FieldFile
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.http.response import HttpResponseBase
from django.utils.cache import patch_cache_control
from django.utils.http import content_disposition_header
from django.utils.translation import gettext as _
from PIL import Image, ImageOps

from renzhi.core.errors import ActionError

DEFAULT_MAX_BYTES = 10 * 1024 * 1024
DEFAULT_MAX_PIXELS = 40_000_000
THUMB_BOX = (320, 320)
SERVING_MODES = ("django", "nginx", "sendfile")


@dataclass(frozen=True)
class Kind:
    """A file kind we accept, recognised by its first bytes."""

    name: str
    content_type: str
    extension: str
    image: bool
    pillow: str = ""  # the Pillow format name of an image kind


JPEG = Kind("jpeg", "image/jpeg", ".jpg", True, "JPEG")
PNG = Kind("png", "image/png", ".png", True, "PNG")
WEBP = Kind("webp", "image/webp", ".webp", True, "WEBP")
GIF = Kind("gif", "image/gif", ".gif", True, "GIF")
PDF = Kind("pdf", "application/pdf", ".pdf", False)
IMAGES = (JPEG, PNG, WEBP, GIF)
DOCUMENTS = (PDF,)
OCTET_STREAM = "application/octet-stream"
# Images we recognise only to say "use another format": BMP, TIFF, ICO, SVG (HEIC: "ftyp" at 4).
OTHER_IMAGE_MAGIC = (b"BM", b"II*\0", b"MM\0*", b"\0\0\1\0", b"<svg", b"<?xml")


@dataclass(frozen=True)
class Upload:
    """A checked upload, ready to store: bytes we wrote (images) or verified (documents).
    `original_name` is for display only and never becomes part of a path."""

    content: bytes
    kind: Kind
    original_name: str = ""
    width: int = 0
    height: int = 0

    @property
    def size(self) -> int:
        return len(self.content)


def sniff(head: bytes) -> Kind | None:
    """The kind of a file from its first 12 bytes, or None for anything we do not accept."""
    if head.startswith(b"\xff\xd8\xff"):
        return JPEG
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return PNG
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return WEBP
    if head[:6] in (b"GIF87a", b"GIF89a"):
        return GIF
    if head.startswith(b"%PDF-"):
        return PDF
    return None


def image(upload, field: str, *, max_bytes: int | None = None) -> Upload:
    """A JPEG, PNG, WebP or GIF photo re-encoded without metadata, or an ActionError on `field`.

    The pixel count is read from the header and refused above the cap before any decoding;
    a GIF keeps its first frame only."""
    data = _read(upload, field, max_bytes)
    name = display_name(upload)
    kind = sniff(data[:12])
    if kind is None or not kind.image:
        message = (
            _("“%(name)s”: only JPEG, PNG, WebP or GIF images.")
            if kind is not None or data.startswith(OTHER_IMAGE_MAGIC) or data[4:8] == b"ftyp"
            else _("“%(name)s” is not an image.")
        )
        raise ActionError(message % {"name": name}, field=field)
    cap = max_pixels()
    Image.MAX_IMAGE_PIXELS = cap  # Pillow's own check, the second line of defence
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data), formats=[kind.pillow]) as opened:
                width, height = opened.size
                if width * height > cap:
                    raise _too_large(name, field, cap)
                opened.seek(0)
                opened.load()
                content, width, height = _reencode(opened, kind)
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise _too_large(name, field, cap) from None
    except (OSError, SyntaxError, ValueError, EOFError, MemoryError):
        raise ActionError(_("“%(name)s” is not an image.") % {"name": name}, field=field) from None
    return Upload(content, kind, name, width, height)


def document(upload, field: str, *, kinds=DOCUMENTS, max_bytes: int | None = None) -> Upload:
    """A document whose bytes are one of `kinds` (PDF by default), stored as sent."""
    data = _read(upload, field, max_bytes)
    name = display_name(upload)
    kind = sniff(data[:12])
    if kind is None or kind not in kinds:
        raise ActionError(
            _("“%(name)s”: only %(kinds)s files are accepted.")
            % {"name": name, "kinds": ", ".join(k.name.upper() for k in kinds)},
            field=field,
        )
    return Upload(data, kind, name)


def thumbnail(checked: Upload, box: tuple[int, int] = THUMB_BOX) -> Upload:
    """A small JPEG of a checked image (already within the pixel cap)."""
    with Image.open(io.BytesIO(checked.content)) as opened:
        opened.draft("RGB", box)  # JPEG decodes at a reduced scale: less memory
        picture = opened.convert("RGBA") if _has_alpha(opened) else opened.convert("RGB")
        if picture.mode == "RGBA":
            flat = Image.new("RGB", picture.size, (255, 255, 255))
            flat.paste(picture, mask=picture.getchannel("A"))
            picture = flat
        picture.thumbnail(box)
        out = io.BytesIO()
        picture.save(out, "JPEG", quality=80)
    return Upload(out.getvalue(), JPEG, checked.original_name, *picture.size)


def store(field_file: FieldFile, checked: Upload) -> None:
    """Write `checked` under a random name in the field's folder; the caller saves the row."""
    field_file.save(random_name(checked.kind), ContentFile(checked.content), save=False)


def random_name(kind: Kind) -> str:
    """A name no one can guess or influence: 128 random bits and the extension of the kind."""
    return f"{uuid.uuid4().hex}{kind.extension}"


def display_name(upload) -> str:
    """The client's file name, for messages and display only (never for a path)."""
    name = os.path.basename(str(getattr(upload, "name", "") or "")).strip()
    return name[:100] or _("the file")


def serve(
    request: HttpRequest, field_file: FieldFile, *, download_name: str = ""
) -> HttpResponseBase:
    """The stored file, to a viewer the calling view has already checked.

    The content type comes from the stored bytes (an old file of a kind we no longer accept is
    sent as an octet-stream attachment); `RENZHI_FILE_SERVING` picks who sends the bytes."""
    if not field_file:
        raise Http404
    name = field_file.name or ""
    try:
        handle = field_file.storage.open(name, "rb")
    except (OSError, SuspiciousFileOperation, ValueError) as exc:
        raise Http404 from exc
    kind = sniff(handle.read(12))
    content_type = kind.content_type if kind else OCTET_STREAM
    inline = kind is not None and kind.image
    mode = serving_mode()
    response: HttpResponseBase
    if mode == "django":
        handle.seek(0)
        response = FileResponse(handle, content_type=content_type)
    else:
        handle.close()
        response = HttpResponse(content_type=content_type)
        if mode == "nginx":
            prefix = getattr(settings, "RENZHI_FILE_ACCEL_PREFIX", "/protected-media/")
            response["X-Accel-Redirect"] = prefix.rstrip("/") + "/" + quote(name)
        else:
            response["X-Sendfile"] = field_file.storage.path(name)
    filename = download_name or os.path.basename(name)
    if kind is not None and not filename.lower().endswith(kind.extension):
        filename = os.path.splitext(filename)[0] + kind.extension
    response["Content-Disposition"] = content_disposition_header(not inline, filename) or ""
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = "default-src 'none'; sandbox"
    patch_cache_control(response, private=True, max_age=3600)
    return response


def serving_mode() -> str:
    mode = getattr(settings, "RENZHI_FILE_SERVING", "django")
    if mode not in SERVING_MODES:
        raise ImproperlyConfigured(
            f"RENZHI_FILE_SERVING must be one of {', '.join(SERVING_MODES)}, not {mode!r}"
        )
    return mode


def max_pixels() -> int:
    return int(getattr(settings, "RENZHI_MAX_IMAGE_PIXELS", DEFAULT_MAX_PIXELS))


def max_bytes() -> int:
    return int(getattr(settings, "RENZHI_MAX_UPLOAD_BYTES", DEFAULT_MAX_BYTES))


# --- internals --------------------------------------------------------------------------------


def _read(upload, field: str, limit: int | None) -> bytes:
    limit = limit or max_bytes()
    name = display_name(upload)
    size = getattr(upload, "size", None)
    if size is not None and size > limit:
        raise _too_big(name, field, limit)
    with contextlib.suppress(AttributeError, OSError):
        upload.seek(0)
    data = upload.read(limit + 1)
    with contextlib.suppress(AttributeError, OSError):
        upload.seek(0)
    if len(data) > limit:
        raise _too_big(name, field, limit)
    if not data:
        raise ActionError(_("“%(name)s” is empty.") % {"name": name}, field=field)
    return data


def _too_big(name: str, field: str, limit: int) -> ActionError:
    return ActionError(
        _("“%(name)s” is larger than %(mb)d MB.") % {"name": name, "mb": limit // (1024 * 1024)},
        field=field,
    )


def _too_large(name: str, field: str, cap: int) -> ActionError:
    return ActionError(
        _("“%(name)s” has too many pixels (at most %(mp)d megapixels).")
        % {"name": name, "mp": cap // 1_000_000},
        field=field,
    )


def _has_alpha(picture: Image.Image) -> bool:
    return picture.mode in ("RGBA", "LA", "PA") or "transparency" in picture.info


def _reencode(opened: Image.Image, kind: Kind) -> tuple[bytes, int, int]:
    """Write the decoded pixels again in the same format, orientation applied, no metadata."""
    picture = ImageOps.exif_transpose(opened) or opened
    keep: dict = {k: picture.info[k] for k in ("transparency", "icc_profile") if k in picture.info}
    picture.info = keep
    if kind is JPEG and picture.mode not in ("RGB", "L"):
        picture = picture.convert("RGB")
    elif kind is WEBP and picture.mode not in ("RGB", "RGBA"):
        picture = picture.convert("RGBA" if _has_alpha(picture) else "RGB")
    elif kind is PNG and picture.mode not in ("1", "L", "LA", "P", "RGB", "RGBA", "I", "I;16"):
        picture = picture.convert("RGBA")
    out = io.BytesIO()
    options: dict = {"icc_profile": keep["icc_profile"]} if "icc_profile" in keep else {}
    if kind is JPEG:
        options["quality"] = 90
    if "transparency" in keep and kind in (PNG, GIF):
        options["transparency"] = keep["transparency"]
    picture.save(out, kind.pillow, **options)
    return out.getvalue(), picture.size[0], picture.size[1]
