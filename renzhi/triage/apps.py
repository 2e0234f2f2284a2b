from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class TriageConfig(AppConfig):
    name = "renzhi.triage"
    label = "triage"
    verbose_name = _("Smart triage (智能分拨)")
