"""`manage.py demo_city`: load the demo city with its appeals and print its demo logins.

Safe to run again: it creates only what is missing (demo appeals are generated once).
"""

from __future__ import annotations

import argparse
import datetime as dt
import os

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db.models import Count, Max, Min
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from renzhi.appeals.models import Appeal, State
from renzhi.core.models import Membership, Place, Role, Unit, User
from renzhi.core.workdays import LOCAL_TZ
from renzhi.demo.appeals import DEFAULT_APPEAL_DAYS, EXTERNAL_REF_PREFIX, AppealReport
from renzhi.demo.build import build_city
from renzhi.demo.city import DEFAULT_SEED, DEMO_PASSWORD, DISTRICT_CODE, City, generate_city
from renzhi.demo.logins import login_rows, render_table


class Command(BaseCommand):
    help = (
        "Load the demo city (places, units, demo accounts, residents, ~18 months of appeals) "
        "and print the demo logins."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--seed",
            type=int,
            default=DEFAULT_SEED,
            help=f"random seed; the same seed gives the same city (default {DEFAULT_SEED})",
        )
        parser.add_argument(
            "--scale",
            type=float,
            default=1.0,
            help="multiplier for generated volumes, e.g. 10 for 20,000 residents",
        )
        parser.add_argument(
            "--no-appeals",
            action="store_true",
            help="load places, units and people only: no appeal configuration, no appeals",
        )
        parser.add_argument(
            "--appeal-days",
            type=int,
            default=DEFAULT_APPEAL_DAYS,
            help=f"days of demo appeals, ending now (default {DEFAULT_APPEAL_DAYS}, ~18 months)",
        )
        parser.add_argument(
            "--appeal-end",
            type=_moment,
            default=None,
            help="when the demo appeals end, e.g. 2026-03-31 or 2026-03-31T15:00 "
            "(Asia/Shanghai; a date alone means noon); default now",
        )
        parser.add_argument("--quiet", action="store_true", help="print nothing unless it fails")
        parser.add_argument(
            "--list-users",
            action="store_true",
            help="list every named demo account (loads nothing)",
        )

    def handle(self, *args, seed: int, scale: float, quiet: bool, list_users: bool, **options):
        refuse_in_production()
        if scale < 0:
            raise CommandError("--scale must not be negative")
        if options["appeal_days"] < 1:
            raise CommandError("--appeal-days must be at least 1")
        if list_users:
            city = generate_city(seed)
            self.stdout.write(_table(city, city.accounts))
            return
        progress = self.stdout.write if options["verbosity"] > 1 and not quiet else None
        city, report = build_city(
            seed,
            scale,
            appeals=not options["no_appeals"],
            appeal_days=options["appeal_days"],
            appeal_end=options["appeal_end"],
            progress=progress,
        )
        if quiet:
            return
        self.stdout.write(_summary(city, report.created, report.seconds))
        if not options["no_appeals"]:
            self.stdout.write(_appeal_summary(report.appeals))
        self.stdout.write("")
        self.stdout.write(_table(city, [a for a in city.accounts if a.featured]))
        self.stdout.write("")
        self.stdout.write(
            _(
                "All %(n)d demo accounts: manage.py demo_city --list-users. Residents log in with "
                "their phone number and the same password %(password)s."
            )
            % {"n": len(city.accounts), "password": DEMO_PASSWORD}
        )


def _summary(city: City, created, seconds: float) -> str:
    places = Place.objects.filter(code__startswith=DISTRICT_CODE)
    counts = {
        level: places.filter(level=level).count()
        for level in ("district", "street", "community", "grid")
    }
    units = Unit.objects.filter(code__in=[u.code for u in city.units]).count()
    accounts = User.objects.filter(username__in=[a.username for a in city.accounts]).count()
    residents = (
        Membership.objects.filter(role=Role.RESIDENT, place__code__startswith=DISTRICT_CODE)
        .values("user")
        .distinct()
        .count()
    )
    lines = [
        _(
            "Demo city %(name)s (seed %(seed)d): %(district)d district, %(street)d streets, "
            "%(community)d communities, %(grid)d grids; %(units)d units; "
            "%(accounts)d demo accounts; %(residents)d residents."
        )
        % {
            "name": city.by_code[DISTRICT_CODE].name,
            "seed": city.seed,
            "units": units,
            "accounts": accounts,
            "residents": residents,
            **counts,
        },
    ]
    if any(created.values()):
        labels = {
            "places": _("places"),
            "units": _("units"),
            "accounts": _("demo accounts"),
            "residents": _("residents"),
            "categories": _("appeal categories"),
            "routing_rules": _("routing rules"),
            "sla_rules": _("SLA rules"),
            "appeals": _("appeals"),
            "emergency_depots": _("stocked depots"),
            "emergency_helpers": _("volunteers and social workers"),
            "vulnerable_residents": _("vulnerable residents"),
            "emergency_plans": _("emergency plans"),
            "shelters": _("shelters"),
            "incidents": _("incidents"),
            "commons": _("self-governance records"),
            "warnings": _("warnings"),
            "open311_attributes": _("Open311 questions"),
            "open311_keys": _("partner keys"),
            "open311_requests": _("Open311 requests"),
            "triage_models": _("triage models"),
            "triage_suggestions": _("triage suggestions"),
            "hot_issues": _("hot issues"),
        }
        made = ", ".join(f"{n} {labels.get(what, what)}" for what, n in created.items() if n)
        lines.append(
            _("Created now: %(made)s in %(seconds).1f s.") % {"made": made, "seconds": seconds}
        )
    else:
        lines.append(_("Everything was already there; nothing changed."))
    return "\n".join(lines)


def _appeal_summary(report: AppealReport | None) -> str:
    """Appeals in the database by state, and what this run generated."""
    demo = Appeal.objects.filter(external_ref__startswith=EXTERNAL_REF_PREFIX)
    by_state = dict(demo.values_list("state").annotate(n=Count("id")).order_by())
    total = sum(by_state.values())
    if not total:
        return _("No demo appeals.")
    states = _list_sep().join(
        f"{State(s).label} {by_state[s]:,}" for s in State.values if by_state.get(s)
    )
    span = demo.aggregate(first=Min("received_at"), last=Max("received_at"))
    lines = [
        _("Demo appeals: %(total)s from %(first)s to %(last)s (%(states)s).")
        % {
            "total": f"{total:,}",
            "first": timezone.localtime(span["first"]).date().isoformat(),
            "last": timezone.localtime(span["last"]).date().isoformat(),
            "states": states,
        }
    ]
    if report is not None and report.created:
        outbreaks = _list_sep().join(
            f"{o.community_code}/{o.category_code} {o.start:%Y-%m-%d}+{o.days}d"
            for o in report.outbreaks
        )
        lines.append(
            _(
                "Generated now: %(appeals)s appeals with %(events)s timeline events; injected "
                "outbreaks (community/category start+days): %(outbreaks)s."
            )
            % {
                "appeals": f"{report.created:,}",
                "events": f"{report.events:,}",
                "outbreaks": outbreaks or "-",
            }
        )
    return "\n".join(lines)


def _list_sep() -> str:
    return "、" if (translation.get_language() or "").startswith("zh") else ", "


def _moment(value: str) -> dt.datetime:
    try:
        if len(value) == 10:
            moment = dt.datetime.combine(dt.date.fromisoformat(value), dt.time(12))
        else:
            moment = dt.datetime.fromisoformat(value)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"not a date or date and time: {value!r}") from exc
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=LOCAL_TZ)
    return moment


def _table(city: City, accounts) -> str:
    header = (_("Role"), _("Username"), _("Jurisdiction"), _("Password"))
    return render_table(login_rows(city, accounts), header)


def refuse_in_production() -> None:
    """The demo city creates accounts with a published password: only on a development or
    demonstration server (DEBUG on), under the test suite, or when the operator says so with
    RENZHI_ALLOW_DEMO=1."""
    allowed = os.environ.get("RENZHI_ALLOW_DEMO", "").strip().lower() in {"1", "true", "yes", "on"}
    if not (settings.DEBUG or getattr(settings, "TESTING", False) or allowed):
        raise CommandError(
            _(
                "demo_city creates accounts with a published password and is refused when DEBUG "
                "is off. Run it with DEBUG=1 on a development server, or set RENZHI_ALLOW_DEMO=1 "
                "for a demonstration server."
            )
        )
