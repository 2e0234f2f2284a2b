"""Time bank (时间银行): help offered and requested, and credits kept as a ledger.

Credits are hours: served hours (`core.ServiceHours` of activities and emergency tasks) are
earned once each; completed help moves credits from the person helped to the helper. The
balance on `TimeAccount` is the sum of the ledger, changed only under the account's row lock,
and the database refuses a negative balance as a last line.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from renzhi.core.models import Place


class HelpKind(models.TextChoices):
    OFFER = "offer", _("Offer")
    REQUEST = "request", pgettext_lazy("commons", "Request")


class HelpCategory(models.TextChoices):
    SHOPPING = "shopping", _("Grocery shopping")
    ESCORT = "escort", _("Hospital escort")
    REPAIR = "repair", _("Repairs")
    COMPANY = "company", _("Company and chat")
    TUTORING = "tutoring", _("Tutoring")
    DIGITAL = "digital", _("Phone and computer help")


class HelpStatus(models.TextChoices):
    OPEN = "open", pgettext_lazy("commons", "Open")
    MATCHED = "matched", _("Matched")
    DONE = "done", _("Done")
    CANCELLED = "cancelled", pgettext_lazy("commons", "Cancelled")


class HelpPost(models.Model):
    community = models.ForeignKey(
        Place, on_delete=models.PROTECT, related_name="+", verbose_name=_("community")
    )
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    kind = models.CharField(_("kind"), max_length=10, choices=HelpKind.choices)
    category = models.CharField(_("category"), max_length=20, choices=HelpCategory.choices)
    title = models.CharField(_("title"), max_length=120)
    description = models.TextField(_("description"), blank=True)
    hours = models.DecimalField(_("hours"), max_digits=4, decimal_places=1)
    status = models.CharField(max_length=10, choices=HelpStatus.choices, default=HelpStatus.OPEN)
    partner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    done_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("help post")
        verbose_name_plural = _("help posts")
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(hours__gt=0) & models.Q(hours__lte=24), name="help_hours"
            )
        ]

    def __str__(self) -> str:
        return f"{self._meta.verbose_name} {self.pk}"


class TimeAccount(models.Model):
    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="time_account"
    )
    balance = models.DecimalField(max_digits=8, decimal_places=2, default=0)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=models.Q(balance__gte=0), name="time_balance_never_negative"
            )
        ]

    def __str__(self) -> str:
        return f"{self._meta.verbose_name} {self.pk}"


class LedgerKind(models.TextChoices):
    EARNED = "earned", _("Earned by service")
    HELP_RECEIVED = "help_received", _("Paid for help received")
    HELP_GIVEN = "help_given", _("Paid for help given")
    TRANSFER_OUT = "transfer_out", _("Transferred out")
    TRANSFER_IN = "transfer_in", _("Transferred in")


class LedgerEntry(models.Model):
    account = models.ForeignKey(TimeAccount, on_delete=models.PROTECT, related_name="entries")
    kind = models.CharField(max_length=20, choices=LedgerKind.choices)
    amount = models.DecimalField(max_digits=8, decimal_places=2)
    balance_after = models.DecimalField(max_digits=8, decimal_places=2)
    counterpart = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    source_type = models.CharField(max_length=40, blank=True)
    source_id = models.CharField(max_length=64, blank=True)
    note = models.CharField(max_length=200, blank=True)
    at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["at", "id"]
        constraints = [
            # Served hours are earned once: one entry per account × source.
            models.UniqueConstraint(
                fields=["account", "source_type", "source_id"],
                condition=models.Q(kind="earned"),
                name="ledger_earned_once",
            ),
            models.CheckConstraint(
                condition=models.Q(balance_after__gte=0), name="ledger_balance_never_negative"
            ),
        ]

    def __str__(self) -> str:
        return f"{self._meta.verbose_name} {self.pk}"
