"""API schemas of core (typed input validated at the edge)."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

from ninja import Schema

from renzhi.core.privacy import mask_phone
from renzhi.core.text import Text


class PlaceOut(Schema):
    code: str
    name: str
    level: str
    level_label: str
    parent_code: str | None
    population: int
    bbox: list[float] | None
    centre: list[float] | None

    @staticmethod
    def from_place(p) -> dict:
        return {
            "code": p.code,
            "name": p.name,
            "level": p.level,
            "level_label": str(p.get_level_display()),
            "parent_code": p.parent.code if p.parent_id else None,
            "population": p.population,
            "bbox": [p.min_lng, p.min_lat, p.max_lng, p.max_lat] if p.min_lng is not None else None,
            "centre": [p.centre_lng, p.centre_lat] if p.centre_lng is not None else None,
        }


class PlaceDetailOut(PlaceOut):
    boundary: dict[str, Any] | None
    full_name: str


class PlaceIn(Schema):
    level: Annotated[str, Text(10)]
    code: Annotated[str, Text(15)]
    name: Annotated[str, Text(100)]
    parent_code: Annotated[str, Text(15)] | None = None
    boundary: dict[str, Any] | str
    population: int = 0


class PlacePatch(Schema):
    name: Annotated[str, Text(100)] | None = None
    boundary: dict[str, Any] | str | None = None
    population: int | None = None


class LocateOut(Schema):
    inside: bool
    message: str
    grid: PlaceOut | None = None
    community: PlaceOut | None = None
    street: PlaceOut | None = None
    district: PlaceOut | None = None


class UnitOut(Schema):
    code: str
    name: str
    kind: str
    kind_label: str
    contact_phone: str
    active: bool
    place_codes: list[str]


class UnitIn(Schema):
    code: Annotated[str, Text(32)]
    name: Annotated[str, Text(100)]
    kind: Annotated[str, Text(20)]
    contact_phone: Annotated[str, Text(20)] = ""
    place_codes: list[Annotated[str, Text(15)]] = []


class MembershipOut(Schema):
    id: int
    role: str
    role_label: str
    place_code: str | None
    place_name: str | None
    unit_code: str | None
    unit_name: str | None


class UserOut(Schema):
    id: int
    username: str
    display_name: str
    phone: str
    is_active: bool
    memberships: list[MembershipOut]

    @staticmethod
    def from_user(u, *, show_phone: bool = False) -> dict:
        return {
            "id": u.id,
            "username": u.username
            if show_phone or not u.phone or u.username != u.phone
            else mask_phone(u.username),
            "display_name": u.display_name,
            "phone": (u.phone or "") if show_phone else mask_phone(u.phone),
            "is_active": u.is_active,
            "memberships": [
                {
                    "id": m.id,
                    "role": m.role,
                    "role_label": str(m.get_role_display()),
                    "place_code": m.place.code if m.place else None,
                    "place_name": m.place.name if m.place else None,
                    "unit_code": m.unit.code if m.unit else None,
                    "unit_name": m.unit.name if m.unit else None,
                }
                for m in u.memberships.all()
            ],
        }


class UserIn(Schema):
    username: Annotated[str, Text(150)]
    password: str
    display_name: Annotated[str, Text(50)] = ""
    phone: Annotated[str, Text(20)] | None = None
    role: Annotated[str, Text(20)] | None = None
    place_code: Annotated[str, Text(15)] | None = None
    unit_code: Annotated[str, Text(32)] | None = None


class RegisterCodeIn(Schema):
    phone: Annotated[str, Text(20)]


class RegisterCodeOut(Schema):
    detail: str


class RegisterIn(Schema):
    phone: Annotated[str, Text(20)]
    code: Annotated[str, Text(6)]
    password: str
    display_name: Annotated[str, Text(50)] = ""
    community_code: Annotated[str, Text(15)] | None = None


class RoleIn(Schema):
    role: Annotated[str, Text(20)]
    place_code: Annotated[str, Text(15)] | None = None
    unit_code: Annotated[str, Text(32)] | None = None


class PasswordIn(Schema):
    password: str


class ActiveIn(Schema):
    active: bool


class UnlockIn(Schema):
    ip: Annotated[str, Text(45)]  # the longest IPv6 text form


class UnlockedOut(Schema):
    cleared: int


class TokenIn(Schema):
    name: Annotated[str, Text(100)]


class TokenOut(Schema):
    id: int
    name: str
    prefix: str
    created_at: dt.datetime
    last_used_at: dt.datetime | None
    revoked_at: dt.datetime | None


class TokenCreatedOut(TokenOut):
    key: str


class CalendarDayOut(Schema):
    date: dt.date
    is_working_day: bool
    holiday_name: str | None
    overridden: bool


class CalendarOverrideIn(Schema):
    date: dt.date
    is_working_day: bool
    note: Annotated[str, Text(100, multiline=True)] = ""


class WorkingHoursOut(Schema):
    start: dt.datetime
    hours: float
    deadline: dt.datetime


class AuditEventOut(Schema):
    seq: int
    at: dt.datetime
    actor_label: str
    verb: str
    object_type: str
    object_id: str
    object_label: str
    before: Any = None
    after: Any = None
    ip: str
    hash: str


class MeOut(Schema):
    id: int
    username: str
    display_name: str
    phone: str
    roles: list[str]
    memberships: list[MembershipOut]
