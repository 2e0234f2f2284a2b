"""`manage.py demo_city`: load the demo city and print its demo logins. Safe to run again."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _

from renzhi.core.models import Membership, Place, Role, Unit, User
from renzhi.demo.build import build_city
from renzhi.demo.city import DEFAULT_SEED, DEMO_PASSWORD, DISTRICT_CODE, City, generate_city
from renzhi.demo.logins import login_rows, render_table


class Command(BaseCommand):
    help = "Load the demo city (places, units, demo accounts, residents) and print the demo logins."

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
        parser.add_argument("--quiet", action="store_true", help="print nothing unless it fails")
        parser.add_argument(
            "--list-users",
            action="store_true",
            help="list every named demo account (loads nothing)",
        )

    def handle(self, *args, seed: int, scale: float, quiet: bool, list_users: bool, **options):
        if scale < 0:
            raise CommandError("--scale must not be negative")
        if list_users:
            city = generate_city(seed)
            self.stdout.write(_table(city, city.accounts))
            return
        progress = self.stdout.write if options["verbosity"] > 1 and not quiet else None
        city, report = build_city(seed, scale, progress=progress)
        if quiet:
            return
        self.stdout.write(_summary(city, report.created, report.seconds))
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
        }
        made = ", ".join(f"{n} {labels.get(what, what)}" for what, n in created.items() if n)
        lines.append(
            _("Created now: %(made)s in %(seconds).1f s.") % {"made": made, "seconds": seconds}
        )
    else:
        lines.append(_("Everything was already there; nothing changed."))
    return "\n".join(lines)


def _table(city: City, accounts) -> str:
    header = (_("Role"), _("Username"), _("Jurisdiction"), _("Password"))
    return render_table(login_rows(city, accounts), header)
