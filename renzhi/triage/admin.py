from django.contrib import admin

from renzhi.triage.models import UrgencyRule


@admin.register(UrgencyRule)
class UrgencyRuleAdmin(admin.ModelAdmin):
    list_display = ("phrase", "weight", "enabled", "note")
    list_editable = ("weight", "enabled")
