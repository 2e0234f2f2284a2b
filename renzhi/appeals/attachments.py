"""Photos attached to appeals: checked for size and real image content, thumbnailed with Pillow."""

from __future__ import annotations

import io
import os

from django.core.files.base import ContentFile
from django.core.files.uploadedfile import UploadedFile
from django.utils.translation import gettext as _
from PIL import Image, UnidentifiedImageError

from renzhi.appeals.models import Appeal, AppealEvent, Attachment
from renzhi.core.errors import ActionError, ErrorCode, FieldError

MAX_BYTES = 10 * 1024 * 1024
MAX_PHOTOS = 9
ALLOWED_FORMATS = {
    "JPEG": "image/jpeg",
    "PNG": "image/png",
    "WEBP": "image/webp",
    "GIF": "image/gif",
}
THUMB_SIZE = (320, 320)


def validate_photos(photos, field: str = "photos") -> list[tuple[UploadedFile, str]]:
    """Every problem at once; returns (file, content type) for each photo."""
    photos = list(photos or [])
    errors: list[FieldError] = []
    checked: list[tuple[UploadedFile, str]] = []
    if len(photos) > MAX_PHOTOS:
        errors.append(
            FieldError(
                field, ErrorCode.INVALID, _("At most %(n)d photos per step.") % {"n": MAX_PHOTOS}
            )
        )
    for photo in photos[:MAX_PHOTOS]:
        name = os.path.basename(getattr(photo, "name", "") or "photo")
        if photo.size > MAX_BYTES:
            errors.append(
                FieldError(
                    field, ErrorCode.INVALID, _("“%(name)s” is larger than 10 MB.") % {"name": name}
                )
            )
            continue
        try:
            photo.seek(0)
            with Image.open(photo) as image:
                fmt = image.format
                image.verify()
        except (UnidentifiedImageError, OSError, SyntaxError, ValueError):
            errors.append(
                FieldError(
                    field, ErrorCode.INVALID, _("“%(name)s” is not an image.") % {"name": name}
                )
            )
            continue
        if fmt not in ALLOWED_FORMATS:
            errors.append(
                FieldError(
                    field,
                    ErrorCode.INVALID,
                    _("“%(name)s”: only JPEG, PNG, WebP or GIF images.") % {"name": name},
                )
            )
            continue
        photo.seek(0)
        checked.append((photo, ALLOWED_FORMATS[fmt]))
    if errors:
        raise ActionError(errors=errors)
    return checked


def store_photos(
    appeal: Appeal, event: AppealEvent | None, checked, uploaded_by
) -> list[Attachment]:
    stored = []
    for photo, content_type in checked:
        photo.seek(0)
        attachment = Attachment(
            appeal=appeal,
            event=event,
            content_type=content_type,
            size=photo.size,
            uploaded_by=uploaded_by,
        )
        attachment.file.save(os.path.basename(photo.name or "photo"), photo, save=False)
        attachment.thumbnail.save("thumb.jpg", ContentFile(_thumbnail(photo)), save=False)
        attachment.save()
        stored.append(attachment)
    return stored


def _thumbnail(photo) -> bytes:
    photo.seek(0)
    with Image.open(photo) as opened:
        image = opened.convert("RGB")
        image.thumbnail(THUMB_SIZE)
        out = io.BytesIO()
        image.save(out, "JPEG", quality=80)
    return out.getvalue()
