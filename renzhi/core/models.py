"""Places, units, accounts, role memberships, API tokens, the audit chain and calendar overrides.

Places form one tree (District > Street > Community > Grid) in a single `Place` model. Codes
follow the national administrative-division style and nest by prefix: district 110105, street
110105001, community 110105001001, grid 110105001001001. Data scope is therefore a code
prefix match (see `renzhi.core.scope`).
"""

from __future__ import annotations

from django.contrib.auth.models import AbstractUser
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _


class PlaceLevel(models.TextChoices):
    DISTRICT = "district", _("District")
    STREET = "street", _("Street")
    COMMUNITY = "community", _("Community")
    GRID = "grid", _("Grid")


# Code length of each level and the level of its parent.
CODE_LENGTH = {
    PlaceLevel.DISTRICT: 6,
    PlaceLevel.STREET: 9,
    PlaceLevel.COMMUNITY: 12,
    PlaceLevel.GRID: 15,
}
PARENT_LEVEL = {
    PlaceLevel.STREET: PlaceLevel.DISTRICT,
    PlaceLevel.COMMUNITY: PlaceLevel.STREET,
    PlaceLevel.GRID: PlaceLevel.COMMUNITY,
}


class Place(models.Model):
    code = models.CharField(_("code"), max_length=15, unique=True)
    name = models.CharField(_("name"), max_length=100)
    level = models.CharField(_("level"), max_length=10, choices=PlaceLevel.choices)
    parent = models.ForeignKey(
        "self",
        verbose_name=_("parent"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="children",
    )
    # GeoJSON geometry (Polygon or MultiPolygon, WGS84 lng/lat) and its bounding box.
    boundary = models.JSONField(_("boundary"), null=True, blank=True)
    min_lng = models.FloatField(null=True, blank=True)
    min_lat = models.FloatField(null=True, blank=True)
    max_lng = models.FloatField(null=True, blank=True)
    max_lat = models.FloatField(null=True, blank=True)
    centre_lng = models.FloatField(null=True, blank=True)
    centre_lat = models.FloatField(null=True, blank=True)
    population = models.PositiveIntegerField(_("population"), default=0)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("place")
        verbose_name_plural = _("places")
        ordering = ["code"]
        constraints = [
            models.CheckConstraint(
                condition=Q(level=PlaceLevel.DISTRICT, parent__isnull=True)
                | (~Q(level=PlaceLevel.DISTRICT) & Q(parent__isnull=False)),
                name="place_parent_matches_level",
            ),
        ]
        indexes = [models.Index(fields=["level", "code"])]

    def __str__(self) -> str:
        return self.name

    @property
    def full_name(self) -> str:
        names = [p.name for p in self.ancestors()] + [self.name]
        return " / ".join(names)

    def ancestors(self) -> list[Place]:
        chain: list[Place] = []
        node = self.parent
        while node is not None:
            chain.append(node)
            node = node.parent
        return list(reversed(chain))

    def contains_code(self, code: str) -> bool:
        return code.startswith(self.code)


class UnitKind(models.TextChoices):
    PROPERTY = "property", _("Property management")
    URBAN_MANAGEMENT = "urban_management", _("Urban management")
    WATER = "water", _("Water supply")
    POWER = "power", _("Power supply")
    GAS = "gas", _("Gas supply")
    SANITATION = "sanitation", _("Sanitation")
    POLICE = "police", _("Police station")
    HOUSING = "housing", _("Housing and construction")
    MARKET = "market", _("Market regulation")
    HEALTH = "health", _("Health")
    CIVIL_AFFAIRS = "civil_affairs", _("Civil affairs")
    TRANSPORT = "transport", _("Transport")
    EDUCATION = "education", _("Education")
    HUMAN_RESOURCES = "human_resources", _("Human resources and social security")
    COMMUNITY = "community", _("Community committee")
    OTHER = "other", _("Other")


class Unit(models.Model):
    """A handling unit (承办单位): a department or company that handles dispatched cases."""

    code = models.CharField(_("code"), max_length=32, unique=True)
    name = models.CharField(_("name"), max_length=100)
    kind = models.CharField(_("kind"), max_length=20, choices=UnitKind.choices)
    contact_phone = models.CharField(_("contact phone"), max_length=20, blank=True)
    places = models.ManyToManyField(
        Place, verbose_name=_("places covered"), related_name="units", blank=True
    )
    active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("unit")
        verbose_name_plural = _("units")
        ordering = ["code"]

    def __str__(self) -> str:
        return self.name


class User(AbstractUser):
    """An account. Residents sign up with their phone number, which is also their username."""

    phone = models.CharField(_("phone"), max_length=20, null=True, blank=True, unique=True)
    display_name = models.CharField(_("display name"), max_length=50, blank=True)
    home_place = models.ForeignKey(
        Place,
        verbose_name=_("home place"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="residents",
    )

    class Meta:
        verbose_name = _("user")
        verbose_name_plural = _("users")

    def __str__(self) -> str:
        return self.display_name or self.username


class Role(models.TextChoices):
    RESIDENT = "resident", _("Resident")
    GRID_WORKER = "grid_worker", _("Grid worker")
    COMMUNITY_STAFF = "community_staff", _("Community staff")
    DISPATCHER = "dispatcher", _("Street dispatcher")
    UNIT_HANDLER = "unit_handler", _("Unit handler")
    LEADER = "leader", _("Leader")
    ORG_ADMIN = "org_admin", _("Organisation leader")
    VOLUNTEER = "volunteer", _("Volunteer")
    SOCIAL_WORKER = "social_worker", _("Social worker")
    ADMIN = "admin", _("System administrator")


# The level of place each place-bound role may be bound to.
ROLE_PLACE_LEVELS: dict[str, set[str]] = {
    Role.RESIDENT: {PlaceLevel.COMMUNITY, PlaceLevel.GRID},
    Role.GRID_WORKER: {PlaceLevel.GRID},
    Role.COMMUNITY_STAFF: {PlaceLevel.COMMUNITY},
    Role.DISPATCHER: {PlaceLevel.STREET, PlaceLevel.DISTRICT},
    Role.LEADER: {PlaceLevel.STREET, PlaceLevel.DISTRICT},
    Role.ORG_ADMIN: {PlaceLevel.COMMUNITY, PlaceLevel.STREET},
    Role.VOLUNTEER: {PlaceLevel.COMMUNITY, PlaceLevel.STREET},
    Role.SOCIAL_WORKER: {PlaceLevel.COMMUNITY, PlaceLevel.STREET},
    Role.ADMIN: {PlaceLevel.DISTRICT},
}


class Membership(models.Model):
    """A user holding a role in a place (a jurisdiction) or in a unit. A user may hold several."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="memberships")
    role = models.CharField(_("role"), max_length=20, choices=Role.choices)
    place = models.ForeignKey(
        Place, verbose_name=_("place"), null=True, blank=True, on_delete=models.PROTECT
    )
    unit = models.ForeignKey(
        Unit, verbose_name=_("unit"), null=True, blank=True, on_delete=models.PROTECT
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("role membership")
        verbose_name_plural = _("role memberships")
        constraints = [
            # One constraint per binding shape: NULLs are distinct in unique indexes, and
            # SQLite has no NULLS NOT DISTINCT, so partial indexes carry the rule on both.
            models.UniqueConstraint(
                fields=["user", "role", "place"],
                name="membership_unique_place",
                condition=Q(place__isnull=False, unit__isnull=True),
            ),
            models.UniqueConstraint(
                fields=["user", "role", "unit"],
                name="membership_unique_unit",
                condition=Q(unit__isnull=False, place__isnull=True),
            ),
            models.UniqueConstraint(
                fields=["user", "role"],
                name="membership_unique_global",
                condition=Q(place__isnull=True, unit__isnull=True),
            ),
            # A unit handler belongs to a unit; every other role is bound to a place, except a
            # system administrator with no place, who is global.
            models.CheckConstraint(
                condition=(Q(role=Role.UNIT_HANDLER, unit__isnull=False, place__isnull=True))
                | (
                    ~Q(role=Role.UNIT_HANDLER)
                    & Q(unit__isnull=True)
                    & (Q(place__isnull=False) | Q(role__in=[Role.ADMIN, Role.RESIDENT]))
                ),
                name="membership_binding_matches_role",
            ),
        ]

    def __str__(self) -> str:
        where = self.unit or self.place or _("all places")
        return f"{self.get_role_display()} @ {where}"


class ApiToken(models.Model):
    """A revocable API token for a system account. Only a SHA-256 of the key is stored."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="api_tokens")
    name = models.CharField(_("name"), max_length=100)
    prefix = models.CharField(max_length=12)
    key_hash = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("API token")
        verbose_name_plural = _("API tokens")

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"


class AuditEvent(models.Model):
    """One link of the append-only, hash-chained audit log.

    `hash` = SHA-256 over this event's canonical content and `prev_hash`; `seq` counts from 1
    without gaps. `renzhi.core.audit` is the only writer.
    """

    seq = models.BigIntegerField(unique=True)
    at = models.DateTimeField()
    actor = models.ForeignKey(
        User, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    actor_label = models.CharField(max_length=150, blank=True)
    verb = models.CharField(max_length=64)
    object_type = models.CharField(max_length=64, blank=True)
    object_id = models.CharField(max_length=64, blank=True)
    object_label = models.CharField(max_length=200, blank=True)
    before = models.JSONField(null=True, blank=True)
    after = models.JSONField(null=True, blank=True)
    ip = models.CharField(max_length=45, blank=True)
    user_agent = models.CharField(max_length=300, blank=True)
    prev_hash = models.CharField(max_length=64)
    hash = models.CharField(max_length=64)
    # HMAC-SHA256 of `hash` under RENZHI_AUDIT_KEY: a writer without the key cannot re-chain.
    hmac = models.CharField(max_length=64, blank=True, default="")

    class Meta:
        verbose_name = _("audit event")
        verbose_name_plural = _("audit events")
        ordering = ["seq"]
        indexes = [
            models.Index(fields=["object_type", "object_id"]),
            models.Index(fields=["actor", "at"]),
        ]

    def __str__(self) -> str:
        return f"#{self.seq} {self.verb}"


class AuditHead(models.Model):
    """A single row holding the chain's last seq and hash; writers lock it to append in order."""

    seq = models.BigIntegerField(default=0)
    hash = models.CharField(max_length=64, default="0" * 64)
    # Where the chain starts after `purge_personal_data` removed its oldest events: the last
    # purged event's seq and hash, signed with the audit key so a writer cannot move it.
    base_seq = models.BigIntegerField(default=0)
    base_hash = models.CharField(max_length=64, default="0" * 64)
    base_hmac = models.CharField(max_length=64, blank=True, default="")

    def __str__(self) -> str:
        return f"head at #{self.seq}"


class CalendarOverride(models.Model):
    """An admin's correction of the holiday calendar for a date (e.g. a year chinesecalendar
    lacks)."""

    date = models.DateField(_("date"), unique=True)
    is_working_day = models.BooleanField(_("working day"))
    note = models.CharField(_("note"), max_length=100, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("calendar override")
        verbose_name_plural = _("calendar overrides")
        ordering = ["date"]

    def __str__(self) -> str:
        return self.date.isoformat()


class Notification(models.Model):
    """An in-app inbox message. Other channels (SMS, WeChat) are senders in `renzhi.core.notify`."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="notifications")
    kind = models.CharField(max_length=40)
    title = models.CharField(_("title"), max_length=200)
    body = models.TextField(_("body"), blank=True)
    link = models.CharField(max_length=300, blank=True)
    object_type = models.CharField(max_length=64, blank=True)
    object_id = models.CharField(max_length=64, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    read_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("notification")
        verbose_name_plural = _("notifications")
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["user", "read_at"])]

    def __str__(self) -> str:
        return self.title


class Skill(models.Model):
    """Something a person can do (急救, 消防, 水上救援, 驾驶 …). Shared by mobilisation in
    `emergency` (find people by skill) and training in `commons` (a passed course grants one)."""

    code = models.SlugField(_("code"), max_length=40, unique=True)
    name = models.CharField(_("name"), max_length=80)
    # Months a certificate for this skill stays valid; None when it does not expire.
    valid_months = models.PositiveSmallIntegerField(_("valid for (months)"), null=True, blank=True)

    class Meta:
        verbose_name = _("skill")
        verbose_name_plural = _("skills")
        ordering = ["code"]

    def __str__(self) -> str:
        return self.name


class SkillSource(models.TextChoices):
    DECLARED = "declared", _("Self-declared")
    CERTIFICATE = "certificate", _("External certificate")
    TRAINING = "training", _("Platform training")


class PersonSkill(models.Model):
    """A person's skill with its evidence. One row per person × skill; a newer certificate or a
    passed course updates the row (the history is in the audit chain)."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="skills")
    skill = models.ForeignKey(Skill, on_delete=models.PROTECT, related_name="holders")
    source = models.CharField(_("source"), max_length=20, choices=SkillSource.choices)
    certificate_no = models.CharField(_("certificate number"), max_length=64, blank=True)
    valid_from = models.DateField(_("valid from"), null=True, blank=True)
    valid_until = models.DateField(_("valid until"), null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("person's skill")
        verbose_name_plural = _("people's skills")
        constraints = [
            models.UniqueConstraint(fields=["user", "skill"], name="person_skill_once"),
            models.CheckConstraint(
                condition=models.Q(valid_until__isnull=True)
                | models.Q(valid_from__isnull=True)
                | models.Q(valid_until__gte=models.F("valid_from")),
                name="person_skill_valid_range",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.user} · {self.skill}"


class ServiceHours(models.Model):
    """Hours a person served (志愿服务时长), one row per shift: an emergency task or call-up, a
    community activity. Append-only; volunteer totals and time-bank credits are sums of it."""

    user = models.ForeignKey(User, on_delete=models.PROTECT, related_name="service_hours")
    place = models.ForeignKey(Place, on_delete=models.PROTECT, related_name="+")
    hours = models.DecimalField(_("hours"), max_digits=6, decimal_places=2)
    served_on = models.DateField(_("served on"))
    # What the hours were served for: "emergency.callup", "commons.activity" …, and its id.
    source_type = models.CharField(max_length=40)
    source_id = models.CharField(max_length=64)
    note = models.CharField(_("note"), max_length=200, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("service hours")
        verbose_name_plural = _("service hours")
        ordering = ["-served_on", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(hours__gt=0) & models.Q(hours__lte=24),
                name="service_hours_in_range",
            ),
            # One record per person per source: recording the same shift twice is refused.
            models.UniqueConstraint(
                fields=["user", "source_type", "source_id"], name="service_hours_once"
            ),
        ]
        indexes = [models.Index(fields=["user", "served_on"])]

    def __str__(self) -> str:
        return f"{self.user} · {self.hours} h · {self.served_on}"


class PhoneCode(models.Model):
    """A one-time code texted to a phone number to prove it is the registrant's (issue 14 #6).

    Only a keyed hash of the code is stored. A row with no hash records a text that told an
    already registered number so instead of sending a code: it counts toward the rate limits
    like any other, so the limits do not reveal who is registered.
    """

    phone = models.CharField(_("phone"), max_length=20)
    code_hash = models.CharField(max_length=64, blank=True)
    ip = models.GenericIPAddressField(null=True, blank=True)
    created_at = models.DateTimeField()
    expires_at = models.DateTimeField()
    attempts = models.PositiveSmallIntegerField(default=0)
    used_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("phone code")
        verbose_name_plural = _("phone codes")
        indexes = [
            models.Index(fields=["phone", "created_at"]),
            models.Index(fields=["ip", "created_at"]),
        ]

    def __str__(self) -> str:
        return f"{self.phone[:3]}****{self.phone[-4:]} · {self.created_at:%Y-%m-%d %H:%M}"


class NotificationSend(models.Model):
    """Outbox row: one inbox notification still to be sent by one further sender (SMS, WeChat).

    Written in the action's transaction (renzhi.core.notify), sent after commit by a task; the
    sweeper sends rows whose task was lost. Not user-facing (no translated labels)."""

    class Status(models.TextChoices):
        PENDING = "pending", "pending"
        SENT = "sent", "sent"
        FAILED = "failed", "failed"

    notification = models.ForeignKey(Notification, on_delete=models.CASCADE, related_name="sends")
    sender = models.CharField(max_length=200)
    status = models.CharField(max_length=8, choices=Status.choices, default=Status.PENDING)
    attempts = models.PositiveSmallIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)
    sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [models.Index(fields=["status", "created_at"])]

    def __str__(self) -> str:
        return f"{self.sender} #{self.pk}"
