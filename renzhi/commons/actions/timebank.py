"""Time bank: offers and requests of help, matching within the community, and credit moves.

Every move is two ledger rows and two balance updates under row locks taken in account-id
order (no deadlock between opposite transfers); the payer's balance is checked after locking,
and the database constraint refuses a negative balance should a check ever be missed.
Earning: each `core.ServiceHours` of an activity or an emergency task is credited once.
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

from renzhi.commons import rules
from renzhi.commons.actions.guards import forbid, locked, refuse, text, wrong_state
from renzhi.commons.models import (
    HelpCategory,
    HelpKind,
    HelpPost,
    HelpStatus,
    LedgerEntry,
    LedgerKind,
    TimeAccount,
)
from renzhi.core import audit, notify
from renzhi.core.errors import ErrorCode
from renzhi.core.models import Place, PlaceLevel, ServiceHours, User

EARNING_SOURCES = ("commons.activity", "emergency.callup", "emergency.task")


def account_of(user: User) -> TimeAccount:
    account, _created = TimeAccount.objects.get_or_create(user=user)
    return account


def post_help(
    actor: User,
    *,
    community: Place,
    kind: str,
    category: str,
    title: str,
    hours: Decimal | str | float,
    description: str = "",
) -> HelpPost:
    if community.level != PlaceLevel.COMMUNITY:
        refuse(_("Choose a community."), "community")
    if not rules.is_resident_of(actor, community):
        forbid(_("You can post only in your own community."), "community")
    if kind not in HelpKind.values:
        refuse(_("Choose offer or request."), "kind")
    if category not in HelpCategory.values:
        refuse(_("Choose a category."), "category")
    amount = _hours(hours, "hours")
    with transaction.atomic():
        post = HelpPost.objects.create(
            community=community,
            author=actor,
            kind=kind,
            category=category,
            title=text(title, "title", max_length=120),
            description=text(description, "description", max_length=2000, required=False),
            hours=amount,
        )
        audit.record(actor, "commons.help.post", post)
    return post


def matches_for(post: HelpPost) -> list[HelpPost]:
    """Open posts of the other kind, same category, same community, oldest first."""
    other = HelpKind.REQUEST if post.kind == HelpKind.OFFER else HelpKind.OFFER
    return list(
        HelpPost.objects.filter(
            community=post.community, kind=other, category=post.category, status=HelpStatus.OPEN
        )
        .exclude(author=post.author)
        .order_by("created_at", "id")[:20]
    )


def respond(actor: User, post: HelpPost) -> HelpPost:
    """Take up an open post: help a request, or accept an offer. Both people are told."""
    if post.author_id == actor.pk:
        refuse(_("You cannot respond to your own post."), "post")
    if not rules.is_resident_of(actor, post.community):
        forbid(_("Help is matched within the community."), "post")
    with transaction.atomic():
        post = locked(post)
        if post.status != HelpStatus.OPEN:
            refuse(_("This post is no longer open."), "post", ErrorCode.INVALID_STATE)
        post.status, post.partner = HelpStatus.MATCHED, actor
        post.save(update_fields=["status", "partner"])
        audit.record(actor, "commons.help.respond", post)
        notify.notify(
            post.author,
            notify.Message(
                "commons.help",
                _("Someone responded to your post"),
                post.title,
                link="/commons/timebank/",
            ),
        )
    return post


def complete_help(actor: User, post: HelpPost) -> HelpPost:
    """The person helped confirms; the post's hours move from them to the helper."""
    with transaction.atomic():
        post = locked(post)
        if post.status != HelpStatus.MATCHED or post.partner is None:
            wrong_state("post")
        helped, helper = (
            (post.author, post.partner)
            if post.kind == HelpKind.REQUEST
            else (post.partner, post.author)
        )
        if actor.pk != helped.pk:
            forbid(_("The person who was helped confirms the help."), "post")
        _move(
            helped,
            helper,
            post.hours,
            LedgerKind.HELP_RECEIVED,
            LedgerKind.HELP_GIVEN,
            source_id=str(post.pk),
            note=post.title,
        )
        post.status, post.done_at = HelpStatus.DONE, timezone.now()
        post.save(update_fields=["status", "done_at"])
        audit.record(
            actor,
            "commons.help.complete",
            post,
            after={"hours": str(post.hours), "helper": helper.pk},
        )
    return post


def cancel_help(actor: User, post: HelpPost) -> HelpPost:
    if post.author_id != actor.pk:
        forbid(_("Only the author cancels a post."), "post")
    with transaction.atomic():
        post = locked(post)
        if post.status not in (HelpStatus.OPEN, HelpStatus.MATCHED):
            wrong_state("post")
        post.status = HelpStatus.CANCELLED
        post.save(update_fields=["status"])
        audit.record(actor, "commons.help.cancel", post)
    return post


def transfer(actor: User, to: User, hours: Decimal | str | float, note: str = "") -> LedgerEntry:
    """Give credits to another person (e.g. a family member). Never below zero."""
    if to.pk == actor.pk:
        refuse(_("Choose someone else."), "to")
    amount = _hours(hours, "hours")
    note = text(note, "note", max_length=200, required=False)
    with transaction.atomic():
        out = _move(actor, to, amount, LedgerKind.TRANSFER_OUT, LedgerKind.TRANSFER_IN, note=note)
        audit.record(
            actor, "commons.timebank.transfer", out, after={"to": to.pk, "hours": str(amount)}
        )
    return out


def earn_from_service(user: User | None = None) -> int:
    """Credit every served shift not credited yet (activities and emergency tasks). Idempotent."""
    shifts = ServiceHours.objects.filter(source_type__in=EARNING_SOURCES).select_related("user")
    if user is not None:
        shifts = shifts.filter(user=user)
    credited = LedgerEntry.objects.filter(kind=LedgerKind.EARNED).values_list(
        "account__user_id", "source_type", "source_id"
    )
    done = set(credited)
    count = 0
    for shift in shifts.order_by("id"):
        if (shift.user_id, shift.source_type, shift.source_id) in done:
            continue
        try:
            with transaction.atomic():
                account = TimeAccount.objects.select_for_update().get(pk=account_of(shift.user).pk)
                balance = account.balance + shift.hours
                LedgerEntry.objects.create(
                    account=account,
                    kind=LedgerKind.EARNED,
                    amount=shift.hours,
                    balance_after=balance,
                    source_type=shift.source_type,
                    source_id=shift.source_id,
                    note=shift.note[:200],
                )
                TimeAccount.objects.filter(pk=account.pk).update(balance=F("balance") + shift.hours)
                audit.record(
                    None,
                    "commons.timebank.earn",
                    account,
                    after={"hours": str(shift.hours), "source": shift.source_type},
                )
        except IntegrityError:
            continue  # credited meanwhile by a parallel run
        count += 1
    return count


# --- Internals -------------------------------------------------------------------------------


def _move(
    payer: User,
    payee: User,
    amount: Decimal,
    out_kind: str,
    in_kind: str,
    *,
    source_id: str = "",
    note: str = "",
) -> LedgerEntry:
    a, b = account_of(payer), account_of(payee)
    locked_rows = {
        acc.pk: acc
        for acc in TimeAccount.objects.select_for_update()
        .filter(pk__in=[a.pk, b.pk])
        .order_by("pk")
    }
    src, dst = locked_rows[a.pk], locked_rows[b.pk]
    if src.balance < amount:
        refuse(
            _("Not enough credits: the balance is %(balance)s hours.") % {"balance": src.balance},
            "hours",
            ErrorCode.CONFLICT,
        )
    out = LedgerEntry.objects.create(
        account=src,
        kind=out_kind,
        amount=-amount,
        balance_after=src.balance - amount,
        counterpart=payee,
        source_type="commons.help" if source_id else "",
        source_id=source_id,
        note=note,
    )
    LedgerEntry.objects.create(
        account=dst,
        kind=in_kind,
        amount=amount,
        balance_after=dst.balance + amount,
        counterpart=payer,
        source_type="commons.help" if source_id else "",
        source_id=source_id,
        note=note,
    )
    TimeAccount.objects.filter(pk=src.pk).update(balance=F("balance") - amount)
    TimeAccount.objects.filter(pk=dst.pk).update(balance=F("balance") + amount)
    return out


def _hours(value: Decimal | str | float, field: str) -> Decimal:
    try:
        amount = Decimal(str(value)).quantize(Decimal("0.1"))
    except (InvalidOperation, ValueError):
        refuse(_("Please enter a number."), field)
    if amount <= 0 or amount > 24:
        refuse(_("Hours must be more than 0 and at most 24."), field)
    return amount
