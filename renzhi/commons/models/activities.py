"""Community activities (社区活动): sign-up with capacity and a waiting list, QR check-in,
photos, feedback; checked-in participants are credited volunteer hours when it is finished."""

from __future__ import annotations

import secrets

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from renzhi.core.models import Place


class ActivityKind(models.TextChoices):
    CULTURAL = "cultural", _("Cultural")
    MUTUAL_AID = "mutual_aid", _("Mutual aid")
    DRILL = "drill", _("Drill")
    TRAINING = "training", _("Training")
    VOLUNTEERING = "volunteering", _("Volunteering")


class ActivityStatus(models.TextChoices):
    PUBLISHED = "published", _("Open for sign-up")
    FINISHED = "finished", _("Finished")
    CANCELLED = "cancelled", pgettext_lazy("commons", "Cancelled")


def new_checkin_token() -> str:
    return secrets.token_urlsafe(16)


class Activity(models.Model):
    community = models.ForeignKey(
        Place, on_delete=models.PROTECT, related_name="+", verbose_name=_("community")
    )
    organisation = models.ForeignKey(
        "commons.Organisation",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="activities",
        verbose_name=_("organisation"),
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    title = models.CharField(_("title"), max_length=120)
    kind = models.CharField(_("kind"), max_length=20, choices=ActivityKind.choices)
    description = models.TextField(_("description"), blank=True)
    location = models.CharField(_("location"), max_length=200)
    starts_at = models.DateTimeField(_("starts at"))
    ends_at = models.DateTimeField(_("ends at"))
    capacity = models.PositiveIntegerField(pgettext_lazy("commons", "capacity"))
    volunteer_hours = models.DecimalField(
        _("volunteer hours"), max_digits=4, decimal_places=1, default=0
    )
    waiting_list = models.BooleanField(_("keep a waiting list"), default=True)
    status = models.CharField(
        max_length=20, choices=ActivityStatus.choices, default=ActivityStatus.PUBLISHED
    )
    confirmed_count = models.PositiveIntegerField(default=0)
    checkin_token = models.CharField(max_length=32, default=new_checkin_token)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("activity")
        verbose_name_plural = _("activities")
        ordering = ["-starts_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(ends_at__gt=models.F("starts_at")), name="activity_window"
            ),
            models.CheckConstraint(
                condition=models.Q(confirmed_count__lte=models.F("capacity")),
                name="activity_within_capacity",
            ),
        ]

    def __str__(self) -> str:
        return self.title


class SignupStatus(models.TextChoices):
    CONFIRMED = "confirmed", _("Confirmed")
    WAITLISTED = "waitlisted", _("On the waiting list")
    CANCELLED = "cancelled", pgettext_lazy("commons", "Cancelled")


class Signup(models.Model):
    activity = models.ForeignKey(Activity, on_delete=models.CASCADE, related_name="signups")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    status = models.CharField(max_length=20, choices=SignupStatus.choices)
    signed_up_at = models.DateTimeField()
    checked_in_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["signed_up_at", "id"]
        constraints = [models.UniqueConstraint(fields=["activity", "user"], name="signup_once")]

    def __str__(self) -> str:
        return f"{self._meta.verbose_name} {self.pk}"


class ActivityPhoto(models.Model):
    activity = models.ForeignKey(Activity, on_delete=models.CASCADE, related_name="photos")
    image = models.ImageField(_("photo"), upload_to="commons/activities/%Y/%m/")
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"{self._meta.verbose_name} {self.pk}"


class ActivityFeedback(models.Model):
    activity = models.ForeignKey(Activity, on_delete=models.CASCADE, related_name="feedback")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    rating = models.PositiveSmallIntegerField(_("rating"))
    comment = models.CharField(_("comment"), max_length=500, blank=True)
    at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["activity", "user"], name="feedback_once"),
            models.CheckConstraint(
                condition=models.Q(rating__gte=1) & models.Q(rating__lte=5),
                name="feedback_rating_range",
            ),
        ]

    def __str__(self) -> str:
        return f"{self._meta.verbose_name} {self.pk}"
