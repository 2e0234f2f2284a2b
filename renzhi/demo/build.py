"""Loads the demo city into the database, creating only what is missing.

Every row is matched by its stable key (place code, unit code, username, phone), so running the
generator again changes nothing, and a run with a larger `scale` only adds residents.

This is an operator job, so it writes with bulk inserts instead of one action per row: thousands
of residents would otherwise cost thousands of password hashes and audit events. Each stage runs in
one transaction and appends one audit event naming what it created, so the chain still describes
every change and `verify_audit` passes.
"""

from __future__ import annotations

import datetime as dt
import logging
import time
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from importlib import import_module
from itertools import islice
from typing import TYPE_CHECKING

from django.contrib.auth.hashers import make_password
from django.db import transaction
from django.db.models import Q

from renzhi.core import audit, geo
from renzhi.core.models import Membership, Place, PlaceLevel, Role, Unit, User
from renzhi.demo.city import (
    DEFAULT_SEED,
    DEMO_PASSWORD,
    DISTRICT_CODE,
    DISTRICT_NAME,
    City,
    ResidentSpec,
    generate_city,
    generate_residents,
    resident_count,
)

if TYPE_CHECKING:
    from renzhi.demo.appeals import AppealReport

# Each app's demo data, loaded after the appeals in this order (warnings link to plans, triage
# trains on everything): `renzhi.<app>.demo.load(city, report, say)`, idempotent.
APP_STAGES = [
    "renzhi.emergency.demo",
    "renzhi.commons.demo",
    "renzhi.warning.demo",
    "renzhi.open311.demo",
    "renzhi.triage.demo",
]

LEVEL_ORDER = [PlaceLevel.DISTRICT, PlaceLevel.STREET, PlaceLevel.COMMUNITY, PlaceLevel.GRID]
RESIDENT_BATCH = 5000


@dataclass
class BuildReport:
    seed: int
    scale: float
    created: Counter = field(default_factory=Counter)
    seconds: float = 0.0
    appeals: AppealReport | None = None

    @property
    def changed(self) -> bool:
        return any(self.created.values())


def build_city(
    seed: int = DEFAULT_SEED,
    scale: float = 1.0,
    *,
    residents: bool = True,
    appeals: bool = False,
    appeal_days: int | None = None,
    appeal_end: dt.datetime | None = None,
    progress: Callable[[str], None] | None = None,
) -> tuple[City, BuildReport]:
    """Generate the city for `seed` and load whatever of it is not in the database yet.

    With `appeals`, also the appeal configuration (categories, routing table, SLA rules) and
    `appeal_days` days of demo appeals ending at `appeal_end` (default: now); see
    `renzhi.demo.appeals`. `manage.py demo_city` asks for them; library callers (benches,
    tests) get places and people only unless they ask.
    """
    started = time.perf_counter()
    city = generate_city(seed)
    report = BuildReport(seed=seed, scale=scale)
    password = _LazyPasswordHash()
    say = progress or (lambda message: None)

    report.created["places"] = load_places(city)
    say(f"places: {report.created['places']} created")
    report.created["units"] = load_units(city)
    say(f"units: {report.created['units']} created")
    report.created["accounts"] = load_accounts(city, password)
    say(f"demo accounts: {report.created['accounts']} created")
    if residents:
        report.created["residents"] = load_residents(city, resident_count(scale), password)
        say(f"residents: {report.created['residents']} created")
    if appeals:
        from renzhi.demo.appeal_config import load_appeal_config
        from renzhi.demo.appeals import DEFAULT_APPEAL_DAYS, build_appeals

        report.created.update(load_appeal_config(city))
        say(
            f"appeal configuration: {report.created['categories']} categories, "
            f"{report.created['routing_rules']} routing rules, "
            f"{report.created['sla_rules']} SLA rules created"
        )
        report.appeals = build_appeals(
            city,
            scale=scale,
            days=appeal_days or DEFAULT_APPEAL_DAYS,
            end=appeal_end,
            say=say,
        )
        report.created["appeals"] = report.appeals.created
        say(
            f"appeals: {report.appeals.created} created with {report.appeals.events} "
            "timeline events"
        )
        with _senders_quiet():
            for stage in APP_STAGES:
                import_module(stage).load(city, report, say)
    report.seconds = time.perf_counter() - started
    return city, report


@contextmanager
def _senders_quiet() -> Iterator[None]:
    """The demo replays history: its messages reach the in-app inboxes, but the SMS and WeChat
    logging stubs would print thousands of lines, so they only log warnings meanwhile."""
    logger = logging.getLogger("renzhi.notify")
    level = logger.level
    logger.setLevel(logging.WARNING)
    try:
        yield
    finally:
        logger.setLevel(level)


def load_places(city: City) -> int:
    with transaction.atomic():
        ids = _place_ids(p.code for p in city.places)
        missing = [p for p in city.places if p.code not in ids]
        if not missing:
            return 0
        for level in LEVEL_ORDER:
            batch = []
            for spec in (p for p in missing if p.level == level):
                # Round-trip through the same parser users' boundaries go through.
                geom = geo.parse_boundary(geo.to_geojson(spec.geometry))
                batch.append(
                    Place(
                        code=spec.code,
                        name=spec.name,
                        level=spec.level,
                        parent_id=ids[spec.parent_code] if spec.parent_code else None,
                        population=spec.population,
                        **geo.boundary_fields(geom),
                    )
                )
            Place.objects.bulk_create(batch)
            ids.update({p.code: p.pk for p in batch})
        record(
            "demo.create_places",
            city,
            {"places": len(missing), **Counter(str(p.level) for p in missing)},
        )
        return len(missing)


def load_units(city: City) -> int:
    with transaction.atomic():
        existing = set(
            Unit.objects.filter(code__in=[u.code for u in city.units]).values_list(
                "code", flat=True
            )
        )
        missing = [u for u in city.units if u.code not in existing]
        if not missing:
            return 0
        units = Unit.objects.bulk_create(
            [
                Unit(code=u.code, name=u.name, kind=u.kind, contact_phone=u.contact_phone)
                for u in missing
            ]
        )
        place_ids = _place_ids(code for u in missing for code in u.place_codes)
        Unit.places.through.objects.bulk_create(
            [
                Unit.places.through(unit_id=unit.pk, place_id=place_ids[code])
                for unit, spec in zip(units, missing, strict=True)
                for code in spec.place_codes
                if code in place_ids
            ]
        )
        record(
            "demo.create_units",
            city,
            {"units": len(missing), **Counter(str(u.kind) for u in missing)},
        )
        return len(missing)


def load_accounts(city: City, password: _LazyPasswordHash) -> int:
    """The named demo logins: one per role per jurisdiction, all with the demo password."""
    with transaction.atomic():
        usernames = [a.username for a in city.accounts]
        existing = set(
            User.objects.filter(username__in=usernames).values_list("username", flat=True)
        )
        missing = [a for a in city.accounts if a.username not in existing]
        if not missing:
            return 0
        taken_phones = set(
            User.objects.filter(phone__in=[a.phone for a in missing if a.phone]).values_list(
                "phone", flat=True
            )
        )
        place_ids = _place_ids(c for a in missing for c in (a.place_code, a.home_code) if c)
        unit_ids = dict(
            Unit.objects.filter(code__in=[a.unit_code for a in missing if a.unit_code]).values_list(
                "code", "id"
            )
        )
        users = User.objects.bulk_create(
            [
                User(
                    username=a.username,
                    password=password.value,
                    display_name=a.display_name,
                    phone=a.phone if a.phone not in taken_phones else None,
                    home_place_id=place_ids.get(a.home_code or ""),
                )
                for a in missing
            ]
        )
        Membership.objects.bulk_create(
            [
                Membership(
                    user_id=user.pk,
                    role=a.role,
                    place_id=place_ids.get(a.place_code or ""),
                    unit_id=unit_ids.get(a.unit_code or ""),
                )
                for user, a in zip(users, missing, strict=True)
            ]
        )
        record(
            "demo.create_accounts",
            city,
            {"accounts": len(missing), **Counter(str(a.role) for a in missing)},
        )
        return len(missing)


def load_residents(city: City, count: int, password: _LazyPasswordHash) -> int:
    """`count` residents who log in with their phone number, as self-registered residents do."""
    created = 0
    with transaction.atomic():
        place_ids = _place_ids(p.code for p in city.places if p.level != PlaceLevel.STREET)
        specs = generate_residents(city, count)
        while batch := list(islice(specs, RESIDENT_BATCH)):
            phones = [r.phone for r in batch]
            taken: set[str | None] = set()
            for username, phone in User.objects.filter(
                Q(username__in=phones) | Q(phone__in=phones)
            ).values_list("username", "phone"):
                taken.update((username, phone))
            batch = [r for r in batch if r.phone not in taken]
            created += _insert_residents(batch, place_ids, password.value)
        if created:
            record("demo.create_residents", city, {"residents": created, "requested": count})
    return created


def demo_password_hash() -> str:
    return make_password(DEMO_PASSWORD)


def _insert_residents(batch: list[ResidentSpec], place_ids: dict[str, int], password: str) -> int:
    if not batch:
        return 0
    users = User.objects.bulk_create(
        [
            User(
                username=r.phone,
                phone=r.phone,
                display_name=r.display_name,
                password=password,
                home_place_id=place_ids[r.grid_code],
            )
            for r in batch
        ]
    )
    Membership.objects.bulk_create(
        [
            Membership(user_id=user.pk, role=Role.RESIDENT, place_id=place_ids[r.community_code])
            for user, r in zip(users, batch, strict=True)
        ]
    )
    return len(users)


class _LazyPasswordHash:
    """One hash of the demo password shared by every account: hashing is deliberately slow."""

    _value: str | None = None

    @property
    def value(self) -> str:
        if self._value is None:
            self._value = demo_password_hash()
        return self._value


def _place_ids(codes: Iterable[str]) -> dict[str, int]:
    return dict(Place.objects.filter(code__in=set(codes)).values_list("code", "id"))


def record(verb: str, city: City, counts: dict, **details) -> None:
    """The one audit event of a stage: what it created (and any `details` worth keeping)."""
    audit.record(
        None,
        verb,
        object_type="demo.city",
        object_id=DISTRICT_CODE,
        label=DISTRICT_NAME,
        after={"seed": city.seed, "created": counts, **details},
    )
