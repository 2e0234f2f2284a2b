"""The in-app inbox over the JSON API, mounted at /api/notifications: each account reads and
marks only its own messages (others' are answered 404)."""

from __future__ import annotations

import datetime as dt

from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _
from ninja import Router, Schema
from ninja.pagination import paginate

from renzhi.core.errors import ActionError, ErrorCode
from renzhi.core.http import AuthedRequest
from renzhi.core.models import Notification, User
from renzhi.core.pagination import Page

router = Router(tags=["notifications"])


class NotificationOut(Schema):
    id: int
    kind: str
    title: str
    body: str
    link: str
    object_type: str
    object_id: str
    created_at: dt.datetime
    read_at: dt.datetime | None


class UnreadOut(Schema):
    unread: int


@router.get("/", response=list[NotificationOut], summary="My inbox, newest first")
@paginate(Page)
def inbox(request: AuthedRequest, unread: bool = False):
    qs = own(request.auth)
    return qs.filter(read_at=None) if unread else qs


@router.get("/unread-count", response=UnreadOut, summary="How many unread messages")
def unread_count(request: AuthedRequest):
    return {"unread": own(request.auth).filter(read_at=None).count()}


@router.post("/read-all", response=UnreadOut, summary="Mark every message read")
def read_all(request: AuthedRequest):
    mark_read(request.auth, own(request.auth))
    return {"unread": 0}


@router.post("/{int:notification_id}/read", response=NotificationOut, summary="Mark one read")
def read_one(request: AuthedRequest, notification_id: int):
    qs = own(request.auth).filter(pk=notification_id)
    if not qs.exists():
        raise ActionError(_("No such message."), field="notification_id", code=ErrorCode.NOT_FOUND)
    mark_read(request.auth, qs)
    return qs.get()


def own(user: User) -> QuerySet[Notification]:
    return Notification.objects.filter(user=user).order_by("-created_at", "-id")


def mark_read(user: User, notifications: QuerySet[Notification]) -> int:
    """Stamp unread messages of `user` as read. Idempotent; reading one's own inbox is not a
    governance act, so no audit event."""
    return notifications.filter(user=user, read_at=None).update(read_at=timezone.now())
