"""Photos attached to appeals: checked and re-encoded by `renzhi.core.uploads` (content, size,
pixel cap, no EXIF/GPS), stored with a JPEG thumbnail under random names, and served only by
`views.photo` to those who may see the step the photo documents."""

from __future__ import annotations

from django.utils.translation import gettext as _

from renzhi.appeals.models import Appeal, AppealEvent, Attachment
from renzhi.core import uploads
from renzhi.core.errors import ActionError, ErrorCode, FieldError

MAX_BYTES = uploads.DEFAULT_MAX_BYTES
MAX_PHOTOS = 9


def validate_photos(photos, field: str = "photos") -> list[uploads.Upload]:
    """Every problem at once; returns the checked, re-encoded photos."""
    photos = list(photos or [])
    errors: list[FieldError] = []
    checked: list[uploads.Upload] = []
    if len(photos) > MAX_PHOTOS:
        errors.append(
            FieldError(
                field, ErrorCode.INVALID, _("At most %(n)d photos per step.") % {"n": MAX_PHOTOS}
            )
        )
    for photo in photos[:MAX_PHOTOS]:
        try:
            checked.append(uploads.image(photo, field, max_bytes=MAX_BYTES))
        except ActionError as exc:
            errors.extend(exc.errors)
    if errors:
        raise ActionError(errors=errors)
    return checked


def store_photos(
    appeal: Appeal, event: AppealEvent | None, checked: list[uploads.Upload], uploaded_by
) -> list[Attachment]:
    stored = []
    for photo in checked:
        attachment = Attachment(
            appeal=appeal,
            event=event,
            content_type=photo.kind.content_type,
            size=photo.size,
            uploaded_by=uploaded_by,
        )
        uploads.store(attachment.file, photo)
        uploads.store(attachment.thumbnail, uploads.thumbnail(photo))
        attachment.save()
        stored.append(attachment)
    return stored
