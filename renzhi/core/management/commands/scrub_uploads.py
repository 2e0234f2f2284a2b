"""Re-encode photos stored before `renzhi.core.uploads` existed, so that no old original keeps
its EXIF/GPS, and list stored files whose bytes are of no kind we accept (e.g. an HTML
"charter"). Paths stay the same: the scoped views keep serving them.

    manage.py scrub_uploads            # report what would change
    manage.py scrub_uploads --apply    # rewrite the photos in place
"""

from __future__ import annotations

from django.apps import apps
from django.core.files.base import ContentFile
from django.core.management.base import BaseCommand
from django.db import models

from renzhi.core import uploads
from renzhi.core.errors import ActionError


class Command(BaseCommand):
    help = "Re-encode stored photos without metadata; list stored files of refused kinds."

    def add_arguments(self, parser):
        parser.add_argument("--apply", action="store_true", help="rewrite the photos in place")

    def handle(self, *args, apply: bool = False, **options):
        counts = dict.fromkeys(("rewrite", "kept", "refused", "missing"), 0)
        for model, field in file_fields():
            names = model._default_manager.exclude(**{field.name: ""}).values_list(
                field.name, flat=True
            )
            for name in names.iterator():
                outcome = scrub(field, name, apply=apply)
                counts[outcome] += 1
                if outcome in ("refused", "missing"):
                    self.stdout.write(f"{outcome}: {model._meta.label}.{field.name} {name}")
        done = "re-encoded" if apply else "to re-encode (run with --apply)"
        self.stdout.write(
            f"{counts['rewrite']} photos {done}, {counts['kept']} documents kept, "
            f"{counts['refused']} of a refused kind, {counts['missing']} missing"
        )


def file_fields():
    """Every FileField/ImageField of every installed model."""
    for model in apps.get_models():
        for field in model._meta.get_fields():
            if isinstance(field, models.FileField):
                yield model, field


def scrub(field: models.FileField, name: str, *, apply: bool) -> str:
    """What happens to one stored file: "rewrite", "kept", "refused" or "missing"."""
    storage = field.storage
    try:
        with storage.open(name, "rb") as handle:
            data = handle.read(uploads.max_bytes() + 1)
    except OSError:
        return "missing"
    kind = uploads.sniff(data[:12])
    if kind is None:
        return "refused"
    if not kind.image:
        return "kept"
    try:
        checked = uploads.image(ContentFile(data, name=name), "file")
    except ActionError:
        return "refused"
    if apply:
        with storage.open(name, "wb") as out:
            out.write(checked.content)
    return "rewrite"
