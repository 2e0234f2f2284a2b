# Open311 publication: the resident's consent flag, a random public id per appeal (filled for
# existing appeals in batches, then made unique), and the per-category publication flag.

import secrets

from django.db import migrations, models

import renzhi.appeals.models

BATCH = 2000


def fill_public_ids(apps, schema_editor):
    Appeal = apps.get_model("appeals", "Appeal")
    while True:
        batch = list(Appeal.objects.filter(public_id__isnull=True).only("pk")[:BATCH])
        if not batch:
            return
        for appeal in batch:
            appeal.public_id = secrets.token_urlsafe(16)
        Appeal.objects.bulk_update(batch, ["public_id"])


class Migration(migrations.Migration):
    dependencies = [
        ("appeals", "0005_metrics_summary_by_day"),
    ]

    operations = [
        migrations.AddField(
            model_name="category",
            name="open311_public",
            field=models.BooleanField(default=False, verbose_name="published on Open311"),
        ),
        migrations.AddField(
            model_name="appeal",
            name="public",
            field=models.BooleanField(
                default=False, verbose_name="publish on the open data service"
            ),
        ),
        migrations.AddField(
            model_name="appeal",
            name="public_id",
            field=models.CharField(blank=True, editable=False, max_length=24, null=True),
        ),
        migrations.RunPython(fill_public_ids, migrations.RunPython.noop),
        migrations.AlterField(
            model_name="appeal",
            name="public_id",
            field=models.CharField(
                blank=True,
                default=renzhi.appeals.models.new_public_id,
                editable=False,
                max_length=24,
                null=True,
                unique=True,
            ),
        ),
    ]
