"""Reserves (物资储备): depots, items, the stock ledger, requests and distributions.

Stock is a ledger, never a counter edited by hand: a `StockBatch` holds what is on the shelf of
one depot × item × batch (expiry date), and every change to it is one `StockMove` row written in
the same transaction by `renzhi.emergency.actions.reserves`. The batch quantity is therefore a
cached sum of its moves (tests check that it always equals the sum), kept non-negative by a
database check constraint as the last line of defence behind the locked check in the action.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from renzhi.core.models import Place
from renzhi.emergency.household_key import address_key, near_key

__all__ = [
    "Depot",
    "DepotKind",
    "Distribution",
    "Household",
    "Item",
    "ItemCategory",
    "MinimumLevel",
    "MoveKind",
    "RequestStatus",
    "StockBatch",
    "StockMove",
    "SupplyRequest",
    "SupplyRequestLine",
]


class DepotKind(models.TextChoices):
    COMMUNITY = "community", _("Community depot")
    STREET = "street", _("Street depot")
    PARTNER = "partner", _("Partner warehouse")


class Depot(models.Model):
    """A place where reserves are kept (储备点): a community store room, the street's warehouse,
    or a partner's warehouse (supermarket, pharmacy) under an agreement."""

    code = models.SlugField(_("code"), max_length=40, unique=True)
    name = models.CharField(_("name"), max_length=100)
    kind = models.CharField(_("kind"), max_length=20, choices=DepotKind.choices)
    # The community or street that owns it; data scope follows this place.
    place = models.ForeignKey(
        Place, verbose_name=_("place"), on_delete=models.PROTECT, related_name="depots"
    )
    address = models.CharField(_("address"), max_length=200, blank=True)
    lat = models.FloatField(_("latitude"), null=True, blank=True)
    lng = models.FloatField(_("longitude"), null=True, blank=True)
    keeper = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("keeper"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    contact_phone = models.CharField(_("contact phone"), max_length=20, blank=True)
    active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("depot")
        verbose_name_plural = _("depots")
        ordering = ["place__code", "code"]

    def __str__(self) -> str:
        return self.name


class ItemCategory(models.TextChoices):
    FOOD = "food", _("Food")
    WATER = "water", _("Water")
    MEDICAL = "medical", _("Medical")
    PROTECTIVE = "protective", _("Protective")
    SHELTER = "shelter", _("Shelter")
    TOOLS = "tools", _("Tools")


class Item(models.Model):
    """A kind of reserve (物资). `daily_per_person` is the consumption norm used to turn stock
    into days of supply; items without one (tools, tents) do not count towards coverage."""

    code = models.SlugField(_("code"), max_length=40, unique=True)
    name = models.CharField(_("name"), max_length=100)
    unit = models.CharField(_("unit"), max_length=20)
    category = models.CharField(_("category"), max_length=20, choices=ItemCategory.choices)
    shelf_life_days = models.PositiveIntegerField(_("shelf life (days)"), null=True, blank=True)
    one_per_household = models.BooleanField(_("one per household"), default=False)
    daily_per_person = models.DecimalField(
        _("daily need per person"), max_digits=8, decimal_places=3, default=0
    )
    active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("item")
        verbose_name_plural = _("items")
        ordering = ["category", "code"]
        constraints = [
            models.CheckConstraint(
                condition=Q(daily_per_person__gte=0), name="item_daily_need_not_negative"
            ),
        ]

    def __str__(self) -> str:
        return self.name


class StockBatch(models.Model):
    """What lies on the shelf: one depot × item × batch. `quantity` only ever changes together
    with a `StockMove`, under a row lock, and the database refuses a negative value."""

    depot = models.ForeignKey(
        Depot, verbose_name=_("depot"), on_delete=models.PROTECT, related_name="batches"
    )
    item = models.ForeignKey(
        Item, verbose_name=_("item"), on_delete=models.PROTECT, related_name="batches"
    )
    batch_no = models.CharField(_("batch number"), max_length=40, blank=True, default="")
    expires_on = models.DateField(_("expires on"), null=True, blank=True)
    quantity = models.BigIntegerField(_("quantity"), default=0)
    received_at = models.DateTimeField(pgettext_lazy("emergency", "received at"), auto_now_add=True)

    class Meta:
        verbose_name = _("stock batch")
        verbose_name_plural = _("stock batches")
        ordering = ["depot", "item", "expires_on", "id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(quantity__gte=0), name="stock_batch_quantity_not_negative"
            ),
            models.UniqueConstraint(
                fields=["depot", "item", "batch_no"], name="stock_batch_once_per_depot"
            ),
        ]
        indexes = [models.Index(fields=["item", "expires_on"])]

    def __str__(self) -> str:
        return f"{self.item} · {self.batch_no or '-'}"


class MoveKind(models.TextChoices):
    RECEIVE = "receive", pgettext_lazy("stock move", "Receive")
    ISSUE = "issue", pgettext_lazy("stock move", "Issue")
    TRANSFER_OUT = "transfer_out", pgettext_lazy("stock move", "Transfer out")
    TRANSFER_IN = "transfer_in", pgettext_lazy("stock move", "Transfer in")
    ADJUST = "adjust", pgettext_lazy("stock move", "Adjust")
    DISPOSE = "dispose", pgettext_lazy("stock move", "Dispose expired")


INCOMING = (MoveKind.RECEIVE, MoveKind.TRANSFER_IN)
OUTGOING = (MoveKind.ISSUE, MoveKind.TRANSFER_OUT, MoveKind.DISPOSE)


class StockMove(models.Model):
    """One line of the ledger (库存流水). Append-only. `quantity` is signed: what the batch
    gained (+) or lost (−); `balance_after` is the batch quantity right after this move."""

    batch = models.ForeignKey(
        StockBatch, verbose_name=_("batch"), on_delete=models.PROTECT, related_name="moves"
    )
    # Denormalised from the batch so the ledger can be read per depot or item without joins.
    depot = models.ForeignKey(
        Depot, verbose_name=_("depot"), on_delete=models.PROTECT, related_name="moves"
    )
    item = models.ForeignKey(
        Item, verbose_name=_("item"), on_delete=models.PROTECT, related_name="moves"
    )
    kind = models.CharField(_("kind"), max_length=20, choices=MoveKind.choices)
    quantity = models.BigIntegerField(_("quantity"))
    balance_after = models.BigIntegerField(_("balance after"))
    at = models.DateTimeField(_("at"), db_index=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("by"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    reason = models.CharField(_("reason"), max_length=200, blank=True)
    incident = models.ForeignKey(
        "emergency.Incident",
        verbose_name=_("incident"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="stock_moves",
    )
    # The other depot of a transfer, and the id pairing its two halves.
    counterpart = models.ForeignKey(
        Depot,
        verbose_name=_("other depot"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    transfer_ref = models.CharField(max_length=36, blank=True, db_index=True)
    request = models.ForeignKey(
        "SupplyRequest",
        verbose_name=_("request"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="moves",
    )
    distribution = models.ForeignKey(
        "Distribution",
        verbose_name=_("distribution"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="moves",
    )

    class Meta:
        verbose_name = _("stock move")
        verbose_name_plural = _("stock moves")
        ordering = ["-at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=(Q(kind__in=INCOMING) & Q(quantity__gt=0))
                | (Q(kind__in=OUTGOING) & Q(quantity__lt=0))
                | (Q(kind=MoveKind.ADJUST) & ~Q(quantity=0)),
                name="stock_move_sign_matches_kind",
            ),
            models.CheckConstraint(
                condition=Q(balance_after__gte=0), name="stock_move_balance_not_negative"
            ),
        ]
        indexes = [models.Index(fields=["depot", "item", "at"])]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.quantity:+d} {self.item}"


class MinimumLevel(models.Model):
    """The least a depot should hold of an item; below it the shortage report flags it."""

    depot = models.ForeignKey(
        Depot, verbose_name=_("depot"), on_delete=models.CASCADE, related_name="minimums"
    )
    item = models.ForeignKey(
        Item, verbose_name=_("item"), on_delete=models.PROTECT, related_name="minimums"
    )
    minimum = models.PositiveIntegerField(_("minimum"))

    class Meta:
        verbose_name = _("minimum level")
        verbose_name_plural = _("minimum levels")
        constraints = [
            models.UniqueConstraint(fields=["depot", "item"], name="minimum_level_once"),
        ]

    def __str__(self) -> str:
        return f"{self.depot} · {self.item} ≥ {self.minimum}"


class RequestStatus(models.TextChoices):
    REQUESTED = "requested", pgettext_lazy("supply request", "Requested")
    APPROVED = "approved", pgettext_lazy("supply request", "Approved")
    ISSUED = "issued", pgettext_lazy("supply request", "Issued")
    RECEIVED = "received", pgettext_lazy("supply request", "Received")
    REJECTED = "rejected", pgettext_lazy("supply request", "Rejected")
    CANCELLED = "cancelled", pgettext_lazy("supply request", "Cancelled")


class SupplyRequest(models.Model):
    """A community asks its street for reserves (requested → approved → issued → received).
    Each line may be approved, issued and received in part."""

    number = models.CharField(_("number"), max_length=30, unique=True)
    # The community depot that asks and will receive; the street depot that supplies.
    to_depot = models.ForeignKey(
        Depot,
        verbose_name=_("receiving depot"),
        on_delete=models.PROTECT,
        related_name="requests_made",
    )
    from_depot = models.ForeignKey(
        Depot,
        verbose_name=_("supplying depot"),
        on_delete=models.PROTECT,
        related_name="requests_received",
    )
    incident = models.ForeignKey(
        "emergency.Incident",
        verbose_name=_("incident"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="supply_requests",
    )
    status = models.CharField(
        _("status"), max_length=20, choices=RequestStatus.choices, default=RequestStatus.REQUESTED
    )
    reason = models.CharField(_("reason"), max_length=300, blank=True)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("requested by"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    requested_at = models.DateTimeField(_("requested at"))
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("decided by"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    decided_at = models.DateTimeField(_("decided at"), null=True, blank=True)
    decision_note = models.CharField(_("decision note"), max_length=300, blank=True)
    issued_at = models.DateTimeField(_("issued at"), null=True, blank=True)
    received_at = models.DateTimeField(
        pgettext_lazy("emergency", "received at"), null=True, blank=True
    )

    class Meta:
        verbose_name = _("supply request")
        verbose_name_plural = _("supply requests")
        ordering = ["-requested_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=~Q(to_depot=models.F("from_depot")), name="supply_request_two_depots"
            ),
        ]

    def __str__(self) -> str:
        return self.number


class SupplyRequestLine(models.Model):
    request = models.ForeignKey(
        SupplyRequest, verbose_name=_("request"), on_delete=models.CASCADE, related_name="lines"
    )
    item = models.ForeignKey(Item, verbose_name=_("item"), on_delete=models.PROTECT)
    requested = models.PositiveIntegerField(_("requested"))
    approved = models.PositiveIntegerField(_("approved"), default=0)
    issued = models.PositiveIntegerField(_("issued"), default=0)
    received = models.PositiveIntegerField(_("received"), default=0)

    class Meta:
        verbose_name = _("request line")
        verbose_name_plural = _("request lines")
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(fields=["request", "item"], name="request_line_once"),
            models.CheckConstraint(
                condition=Q(requested__gt=0)
                & Q(approved__lte=models.F("requested"))
                & Q(issued__lte=models.F("approved"))
                & Q(received__lte=models.F("issued")),
                name="request_line_quantities_nest",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.item} × {self.requested}"


class Household(models.Model):
    """A household that receives distributions (户), identified inside its community by
    address (楼栋-单元-门牌), compared by its normalised `address_key` (issue 23 #7: one flat
    written four ways was four households). `near_key` (the numbers only) finds possible
    duplicates for staff; `duplicate_of` marks rows found to share a key when the key was
    introduced: they count as that household for one-per-household items."""

    place = models.ForeignKey(
        Place, verbose_name=_("community"), on_delete=models.PROTECT, related_name="+"
    )
    address = models.CharField(_("address"), max_length=120)
    address_key = models.CharField(max_length=120, blank=True, default="")
    near_key = models.CharField(max_length=120, blank=True, default="", db_index=True)
    duplicate_of = models.ForeignKey(
        "self",
        verbose_name=_("duplicate of"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="duplicates",
    )
    head_name = models.CharField(_("head of household"), max_length=50, blank=True)
    phone = models.CharField(_("phone"), max_length=20, blank=True)
    members = models.PositiveSmallIntegerField(_("members"), default=1)

    class Meta:
        verbose_name = _("household")
        verbose_name_plural = _("households")
        ordering = ["place__code", "address"]
        constraints = [
            models.UniqueConstraint(fields=["place", "address_key"], name="household_key_once"),
        ]

    def __str__(self) -> str:
        return self.address

    def save(self, *args, **kwargs):
        if "#" not in self.address_key:  # "key#pk": a collision flagged by the migration
            self.address_key = address_key(self.address)
        self.near_key = near_key(self.address)
        super().save(*args, **kwargs)


class Distribution(models.Model):
    """Who received what, when, signed by whom (发放). For a one-per-household item the
    database refuses a second row for the same household in the same round (an incident, or
    the routine round "" outside incidents)."""

    household = models.ForeignKey(
        Household,
        verbose_name=_("household"),
        on_delete=models.PROTECT,
        related_name="distributions",
    )
    item = models.ForeignKey(
        Item, verbose_name=_("item"), on_delete=models.PROTECT, related_name="distributions"
    )
    depot = models.ForeignKey(
        Depot, verbose_name=_("depot"), on_delete=models.PROTECT, related_name="distributions"
    )
    quantity = models.PositiveIntegerField(_("quantity"))
    incident = models.ForeignKey(
        "emergency.Incident",
        verbose_name=_("incident"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="distributions",
    )
    # Copies of item.one_per_household and the incident id, so a partial unique index can
    # enforce "once per household" without a join.
    once_per_household = models.BooleanField(default=False)
    round_key = models.CharField(max_length=36, blank=True, default="")
    signed_by = models.CharField(_("signed by"), max_length=50)
    handed_out_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("handed out by"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    at = models.DateTimeField(_("at"))
    note = models.CharField(_("note"), max_length=200, blank=True)

    class Meta:
        verbose_name = _("distribution")
        verbose_name_plural = _("distributions")
        ordering = ["-at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["household", "item", "round_key"],
                condition=Q(once_per_household=True),
                name="distribution_once_per_household",
            ),
            models.CheckConstraint(condition=Q(quantity__gt=0), name="distribution_positive"),
        ]

    def __str__(self) -> str:
        return f"{self.household} · {self.item} × {self.quantity}"
