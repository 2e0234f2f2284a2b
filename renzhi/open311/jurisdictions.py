"""The `jurisdiction_id` parameter.

`RENZHI_OPEN311_JURISDICTIONS` (a setting, default `["renzhi.demo"]`) is either a list of ids
or a mapping id → place code (a district or street) that the jurisdiction covers; with a
mapping, each jurisdiction's requests and intake stay inside its place. As the spec says, the
parameter is optional when one jurisdiction is served and required when several are.
"""

from __future__ import annotations

from django.conf import settings
from django.utils.translation import gettext as _

from renzhi.open311.errors import Open311Error

DEFAULT = ["renzhi.demo"]


def configured() -> dict[str, str | None]:
    value = getattr(settings, "RENZHI_OPEN311_JURISDICTIONS", DEFAULT) or DEFAULT
    if isinstance(value, dict):
        return {str(k): (str(v) if v else None) for k, v in value.items()}
    return {str(k): None for k in value}


def resolve(jurisdiction_id: str | None) -> str | None:
    """The place-code prefix the request is limited to (None: everywhere), or Open311Error."""
    known = configured()
    wanted = (jurisdiction_id or "").strip()
    if not wanted:
        if len(known) > 1:
            raise Open311Error.simple(
                400,
                _("jurisdiction_id is required: this server serves %(ids)s.")
                % {"ids": ", ".join(known)},
            )
        return next(iter(known.values()), None)
    if wanted not in known:
        raise Open311Error.simple(
            404, _("jurisdiction_id “%(id)s” was not found.") % {"id": wanted[:60]}
        )
    return known[wanted]
