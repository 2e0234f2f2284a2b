"""Photos of activities and implementation progress: a real image of at most 10 MB."""

from __future__ import annotations

from django.core.files.uploadedfile import UploadedFile
from django.utils.translation import gettext as _
from PIL import Image, UnidentifiedImageError

from renzhi.core.errors import ActionError

MAX_BYTES = 10 * 1024 * 1024
FORMATS = {"JPEG", "PNG", "WEBP", "GIF"}


def check_photo(photo: UploadedFile, field: str) -> None:
    if (photo.size or 0) > MAX_BYTES:
        raise ActionError(_("The photo is larger than 10 MB."), field=field)
    try:
        photo.seek(0)
        with Image.open(photo) as image:
            fmt = image.format
            image.verify()
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError):
        raise ActionError(_("This file is not an image."), field=field) from None
    finally:
        photo.seek(0)
    if fmt not in FORMATS:
        raise ActionError(_("Use a JPEG, PNG, WebP or GIF photo."), field=field)
