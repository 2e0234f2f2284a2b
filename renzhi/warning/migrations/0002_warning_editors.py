"""Record who drafted, edited or submitted each warning (four eyes on approval, issue 23 #8).

Existing warnings get their drafter, their submitter and everyone the audit log shows editing
them, so a leader who edited a draft before this change is barred from approving it too."""

from django.conf import settings
from django.db import migrations, models


def fill_editors(apps, schema_editor):
    Warning = apps.get_model("warning", "Warning")
    AuditEvent = apps.get_model("core", "AuditEvent")
    edits: dict[str, set[int]] = {}
    for object_id, actor_id in AuditEvent.objects.filter(
        verb__in=["warning.create", "warning.edit", "warning.submit"],
        object_type="warning.warning",
        actor_id__isnull=False,
    ).values_list("object_id", "actor_id"):
        edits.setdefault(object_id, set()).add(actor_id)
    for warning in Warning.objects.all().only("pk", "created_by_id", "submitted_by_id"):
        people = edits.get(str(warning.pk), set())
        people |= {u for u in (warning.created_by_id, warning.submitted_by_id) if u}
        if people:
            warning.editors.add(*people)


class Migration(migrations.Migration):
    dependencies = [
        ("warning", "0001_initial"),
        ("core", "0001_initial"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AddField(
            model_name="warning",
            name="editors",
            field=models.ManyToManyField(
                blank=True, related_name="+", to=settings.AUTH_USER_MODEL, verbose_name="editors"
            ),
        ),
        migrations.RunPython(fill_editors, migrations.RunPython.noop),
    ]
