"""Check-in QR codes, drawn locally as SVG with segno (nothing leaves the server)."""

from __future__ import annotations

import io

import segno

from renzhi.commons.models import Activity


def checkin_path(activity: Activity) -> str:
    return f"/commons/activities/{activity.pk}/checkin?t={activity.checkin_token}"


def checkin_svg(activity: Activity, base_url: str) -> bytes:
    buffer = io.BytesIO()
    segno.make(base_url.rstrip("/") + checkin_path(activity), error="m").save(
        buffer, kind="svg", scale=6, border=2, xmldecl=False
    )
    return buffer.getvalue()
