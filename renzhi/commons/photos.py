"""Photos of activities and implementation progress, and organisation charters: checked by
`renzhi.core.uploads` (kind by content, pixel cap, re-encoded without EXIF/GPS; charters PDF
only), stored under random names and served by `views_files` within the object's scope."""

from __future__ import annotations

from django.core.files.uploadedfile import UploadedFile

from renzhi.core import uploads

MAX_BYTES = uploads.DEFAULT_MAX_BYTES


def check_photo(photo: UploadedFile, field: str) -> uploads.Upload:
    """A JPEG, PNG, WebP or GIF photo of at most 10 MB, or an ActionError on `field`."""
    return uploads.image(photo, field, max_bytes=MAX_BYTES)


def check_charter(charter: UploadedFile, field: str = "charter") -> uploads.Upload:
    """A charter is a PDF (whatever its name says) of at most 10 MB."""
    return uploads.document(charter, field, kinds=(uploads.PDF,), max_bytes=MAX_BYTES)
