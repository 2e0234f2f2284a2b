"""The table of demo logins printed after loading the demo city (and by `--list-users`)."""

from __future__ import annotations

import unicodedata
from collections.abc import Sequence

from django.utils.translation import gettext as _

from renzhi.core.models import Role
from renzhi.demo.city import DEMO_PASSWORD, AccountSpec, City

# Top of the hierarchy first, so the table reads from administrator down to resident.
ROLE_ORDER = [
    Role.ADMIN,
    Role.LEADER,
    Role.DISPATCHER,
    Role.COMMUNITY_STAFF,
    Role.GRID_WORKER,
    Role.UNIT_HANDLER,
    Role.ORG_ADMIN,
    Role.VOLUNTEER,
    Role.SOCIAL_WORKER,
    Role.RESIDENT,
]


def login_rows(city: City, accounts: list[AccountSpec]) -> list[tuple[str, str, str, str]]:
    """(role, username, jurisdiction, password) for each account, by role then plan order."""
    units = {u.code: u.name for u in city.units}
    rows = []
    for account in sorted(accounts, key=lambda a: ROLE_ORDER.index(Role(a.role))):
        if account.unit_code:
            where = units[account.unit_code]
        elif account.place_code:
            where = city.by_code[account.place_code].name
        else:
            where = _("all places")
        rows.append((str(Role(account.role).label), account.username, where, DEMO_PASSWORD))
    return rows


def render_table(rows: Sequence[tuple[str, ...]], header: tuple[str, ...]) -> str:
    """A plain-text table whose columns line up in a terminal even with Chinese text."""
    widths = [max(_width(r[i]) for r in [header, *rows]) for i in range(len(header))]
    lines = [_line(header, widths), "  ".join("-" * w for w in widths)]
    lines += [_line(r, widths) for r in rows]
    return "\n".join(lines)


def _line(cells: tuple[str, ...], widths: list[int]) -> str:
    return "  ".join(c + " " * (w - _width(c)) for c, w in zip(cells, widths, strict=True)).rstrip()


def _width(text: str) -> int:
    # Wide (CJK) characters take two terminal columns.
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)
