"""Household records (住户登记): who lives where, confirmed by community staff.

A verified residence is what makes a person an elector: one verified resident, one vote. The
floor area (专有部分面积) weighs owners' decisions under the 双三分之二 rule.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from renzhi.core.models import Place


class Residence(models.Model):
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="residences"
    )
    community = models.ForeignKey(
        Place, on_delete=models.PROTECT, related_name="+", verbose_name=_("community")
    )
    building = models.CharField(_("building"), max_length=20)
    room = models.CharField(_("unit and room"), max_length=20)
    area_m2 = models.DecimalField(_("floor area (m²)"), max_digits=8, decimal_places=2, default=0)
    verified_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    verified_at = models.DateTimeField(_("verified at"), null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("household record")
        verbose_name_plural = _("household records")
        constraints = [
            models.UniqueConstraint(fields=["user", "community"], name="residence_once"),
            models.CheckConstraint(condition=models.Q(area_m2__gte=0), name="residence_area"),
        ]
        indexes = [models.Index(fields=["community", "building"])]

    def __str__(self) -> str:
        return f"{self.community} {self.building}-{self.room}"

    @property
    def verified(self) -> bool:
        return self.verified_at is not None
