"""Households unique by a normalised address key (issue 23 #7).

Existing rows get their key; rows of one community that turn out to share a key are not
merged and the migration does not fail: the later ones keep the key "key#pk" and point to the
first through `duplicate_of`, which staff see as a flagged duplicate and which counts as the
same household for one-per-household items."""

import django.db.models.deletion
from django.db import migrations, models

from renzhi.emergency.household_key import address_key, near_key


def fill_keys(apps, schema_editor):
    Household = apps.get_model("emergency", "Household")
    first: dict[tuple[int, str], int] = {}
    for home in Household.objects.order_by("pk").only("pk", "place_id", "address"):
        key = address_key(home.address)
        home.near_key = near_key(home.address)
        earlier = first.setdefault((home.place_id, key), home.pk)
        if earlier == home.pk:
            home.address_key = key
        else:
            home.address_key = f"{key}#{home.pk}"[:120]
            home.duplicate_of_id = earlier
        home.save(update_fields=["address_key", "near_key", "duplicate_of"])


class Migration(migrations.Migration):
    dependencies = [
        ("core", "0005_skills_and_service_hours"),
        ("emergency", "0001_initial"),
    ]

    operations = [
        migrations.RemoveConstraint(
            model_name="household",
            name="household_address_once",
        ),
        migrations.AddField(
            model_name="household",
            name="address_key",
            field=models.CharField(blank=True, default="", max_length=120),
        ),
        migrations.AddField(
            model_name="household",
            name="duplicate_of",
            field=models.ForeignKey(
                blank=True,
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="duplicates",
                to="emergency.household",
                verbose_name="duplicate of",
            ),
        ),
        migrations.AddField(
            model_name="household",
            name="near_key",
            field=models.CharField(blank=True, db_index=True, default="", max_length=120),
        ),
        migrations.RunPython(fill_keys, migrations.RunPython.noop),
        migrations.AddConstraint(
            model_name="household",
            constraint=models.UniqueConstraint(
                fields=("place", "address_key"), name="household_key_once"
            ),
        ),
    ]
