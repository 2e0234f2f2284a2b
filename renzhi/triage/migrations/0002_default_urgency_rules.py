"""The default urgency phrases (editable afterwards; see renzhi.triage.urgency)."""

from django.db import migrations


def add_rules(apps, schema_editor):
    from renzhi.triage.urgency import DEFAULT_RULES

    UrgencyRule = apps.get_model("triage", "UrgencyRule")
    existing = set(UrgencyRule.objects.values_list("phrase", flat=True))
    UrgencyRule.objects.bulk_create(
        [UrgencyRule(phrase=p, weight=w) for p, w in DEFAULT_RULES if p not in existing]
    )


class Migration(migrations.Migration):
    dependencies = [("triage", "0001_initial")]

    operations = [migrations.RunPython(add_rules, migrations.RunPython.noop)]
