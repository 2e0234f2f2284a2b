from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CoreConfig(AppConfig):
    name = "renzhi.core"
    label = "core"
    verbose_name = _("Places, people and audit")

    def ready(self) -> None:
        from renzhi.core import login_audit  # noqa: F401  (connects auth signals to the audit chain)
