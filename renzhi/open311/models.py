"""Open311 GeoReport v2 adapter data: partner keys, extra service attributes, and the link from
each appeal filed through Open311 to the key that filed it.

The appeals themselves live in `renzhi.appeals`; nothing here duplicates their state.
"""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from renzhi.appeals.models import Appeal, Category
from renzhi.core.models import Place


class Datatype(models.TextChoices):
    """The six datatypes of a GeoReport v2 service definition attribute."""

    STRING = "string", _("Short text")
    NUMBER = "number", pgettext_lazy("open311 datatype", "Number")
    DATETIME = "datetime", _("Date and time")
    TEXT = "text", _("Long text")
    SINGLE = "singlevaluelist", _("Choose one")
    MULTI = "multivaluelist", _("Choose several")


LIST_DATATYPES = {Datatype.SINGLE, Datatype.MULTI}


class ServiceAttribute(models.Model):
    """An extra question asked when filing an appeal of `category` (e.g. 楼栋号)."""

    category = models.ForeignKey(
        Category,
        on_delete=models.CASCADE,
        related_name="open311_attributes",
        verbose_name=_("category"),
    )
    code = models.CharField(_("code"), max_length=50)
    variable = models.BooleanField(_("asks for input"), default=True)
    datatype = models.CharField(_("datatype"), max_length=20, choices=Datatype.choices)
    required = models.BooleanField(_("required"), default=False)
    datatype_description = models.CharField(_("input hint"), max_length=200, blank=True)
    order = models.PositiveIntegerField(_("order"))
    description = models.CharField(_("question"), max_length=300)
    # [{"key": "1", "name": "是"}, …] for the list datatypes, in display order.
    values = models.JSONField(_("values"), default=list, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("service attribute")
        verbose_name_plural = _("service attributes")
        ordering = ["category", "order"]
        constraints = [
            models.UniqueConstraint(fields=["category", "code"], name="open311_attr_code_unique"),
            models.UniqueConstraint(fields=["category", "order"], name="open311_attr_order_unique"),
            models.CheckConstraint(condition=Q(order__gte=1), name="open311_attr_order_positive"),
        ]

    def __str__(self) -> str:
        return f"{self.category.code}/{self.code}"

    def value_names(self) -> dict[str, str]:
        return {str(v["key"]): str(v["name"]) for v in self.values or []}


class PartnerKey(models.Model):
    """An api_key of one partner system. Only the SHA-256 of the key is stored.

    `user` is the partner's service account: it files the appeals (created_by) and signs the
    audit events; it has no memberships and cannot log in. `place`, when set, is the part of
    the city where the partner may file appeals (a street admin's keys stay in the street).
    """

    name = models.CharField(_("partner name"), max_length=100)
    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="open311_key",
        verbose_name=_("service account"),
    )
    prefix = models.CharField(_("key starts with"), max_length=12)
    key_hash = models.CharField(max_length=64, unique=True)
    place = models.ForeignKey(
        Place,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("service area"),
    )
    rate_limit = models.PositiveIntegerField(_("requests per minute"), default=60)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("created by"),
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    last_used_at = models.DateTimeField(_("last used"), null=True, blank=True)
    revoked_at = models.DateTimeField(_("revoked at"), null=True, blank=True)

    class Meta:
        verbose_name = _("partner key")
        verbose_name_plural = _("partner keys")
        ordering = ["-created_at"]
        constraints = [
            models.CheckConstraint(
                condition=Q(rate_limit__gte=1), name="open311_key_rate_positive"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"

    @property
    def active(self) -> bool:
        return self.revoked_at is None


class PartnerRequest(models.Model):
    """One appeal filed through Open311: which key filed it, the attribute answers, the token."""

    appeal = models.OneToOneField(
        Appeal, on_delete=models.PROTECT, related_name="open311", verbose_name=_("appeal")
    )
    key = models.ForeignKey(
        PartnerKey, on_delete=models.PROTECT, related_name="requests", verbose_name=_("key")
    )
    token = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    attributes = models.JSONField(_("attribute answers"), default=dict, blank=True)
    media_url = models.URLField(_("media URL"), max_length=500, blank=True)
    address_id = models.CharField(_("address ID"), max_length=32, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("Open311 request")
        verbose_name_plural = _("Open311 requests")
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["key", "created_at"])]

    def __str__(self) -> str:
        return f"{self.key_id} → {self.appeal_id}"


class RateWindow(models.Model):
    """Requests one key made in one minute; incremented with F() under the row lock."""

    key = models.ForeignKey(PartnerKey, on_delete=models.CASCADE, related_name="+")
    window = models.DateTimeField()
    count = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["key", "window"], name="open311_rate_window_unique")
        ]

    def __str__(self) -> str:
        return f"{self.key_id}@{self.window}: {self.count}"
