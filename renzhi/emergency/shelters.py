"""Shelter facilities (设施) a shelter can list, and the occupancy figures pages show."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

FACILITIES = {
    "beds": _("Beds"),
    "water": _("Drinking water"),
    "toilets": _("Toilets"),
    "power": _("Backup power"),
    "medical": _("First-aid point"),
    "kitchen": _("Kitchen"),
    "accessible": _("Barrier-free access"),
    "heating": _("Heating or cooling"),
}


def facility_labels(codes: list[str]) -> list[str]:
    return [str(FACILITIES[c]) for c in codes if c in FACILITIES]
