from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class EmergencyConfig(AppConfig):
    name = "renzhi.emergency"
    label = "emergency"
    verbose_name = _("Emergency response (应急处置)")
