from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CommonsConfig(AppConfig):
    name = "renzhi.commons"
    label = "commons"
    verbose_name = _("Self-governance (居民自治)")
