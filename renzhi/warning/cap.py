"""CAP 1.2 in and out: alerts for published warnings, the Atom feed, and importing others' alerts.

Every alert we write is validated against the vendored OASIS schema (`schemas/`) before it is
stored; an alert that does not validate is a programming error and raises. Imported alerts are
validated the same way and refused, with the schema's message, when they do not.
The mapping to GB/T 35965.1-2018 (China's CAP profile) is documented in docs/warnings.md.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from django.conf import settings
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext as _
from lxml import etree

from renzhi.core import outbound
from renzhi.core.errors import ActionError, ErrorCode
from renzhi.core.models import Place
from renzhi.warning.models import COLOUR, ROMAN, CapMessage, Level, Origin, Status, Warning

CAP_NS = "urn:oasis:names:tc:emergency:cap:1.2"
ATOM_NS = "http://www.w3.org/2005/Atom"
SCHEMA_PATH = Path(__file__).parent / "schemas" / "CAP-v1.2-schema.xsd"
SHANGHAI = ZoneInfo("Asia/Shanghai")
MAX_IMPORT_BYTES = 2_000_000
MAX_POLYGON_POINTS = 400

SEVERITY = {Level.I: "Extreme", Level.II: "Severe", Level.III: "Moderate", Level.IV: "Minor"}
LEVEL_OF_SEVERITY = {v: k for k, v in SEVERITY.items()}
URGENCY = {Level.I: "Immediate", Level.II: "Immediate", Level.III: "Expected", Level.IV: "Expected"}
COLOUR_ZH = {"red": "红色", "orange": "橙色", "yellow": "黄色", "blue": "蓝色"}
LEVEL_ZH = {
    Level.I: "Ⅰ级（特别严重）",
    Level.II: "Ⅱ级（严重）",
    Level.III: "Ⅲ级（较重）",
    Level.IV: "Ⅳ级（一般）",
}
LEVEL_EN = {
    Level.I: "Level I (especially serious)",
    Level.II: "Level II (serious)",
    Level.III: "Level III (relatively serious)",
    Level.IV: "Level IV (general)",
}
LEVEL_OF_COLOUR = {v: k for k, v in COLOUR.items()}
LEVEL_OF_ROMAN = {v: k for k, v in ROMAN.items()}


# --- out ------------------------------------------------------------------------------------


def sender() -> str:
    return getattr(settings, "RENZHI_CAP_SENDER", "cap@renzhi.example.cn")


def public_base() -> str:
    return getattr(settings, "RENZHI_PUBLIC_URL", "http://127.0.0.1:8000").rstrip("/")


def cap_time(moment: dt.datetime) -> str:
    """CAP's dateTime: seconds precision with an explicit offset (+08:00 for Beijing time)."""
    return moment.astimezone(SHANGHAI).replace(microsecond=0).isoformat()


def issue(warning: Warning, msg_type: str, sent: dt.datetime, note: str = "") -> CapMessage:
    """Write, validate and store the CAP message for the warning's current version."""
    district = warning.owner_place.code[:6]
    identifier = f"RZ-{district}-{warning.pk:06d}-{warning.version:02d}"
    earlier = list(
        CapMessage.objects.filter(warning=warning)
        .order_by("sent", "id")
        .values("identifier", "sent")
    )
    xml = build_alert(warning, identifier, msg_type, sent, earlier, note)
    errors = validation_errors(xml)
    if errors:  # our own output must validate; this is a bug, not user input
        raise RuntimeError(f"generated CAP does not validate: {errors[0]}")
    return CapMessage.objects.create(
        warning=warning, identifier=identifier, msg_type=msg_type, sent=sent, xml=xml
    )


def build_alert(
    warning: Warning,
    identifier: str,
    msg_type: str,
    sent: dt.datetime,
    earlier: Sequence[Mapping[str, Any]],
    note: str = "",
) -> str:
    E = _maker(CAP_NS)
    alert = E("alert")
    _sub(alert, "identifier", identifier)
    _sub(alert, "sender", sender())
    _sub(alert, "sent", cap_time(sent))
    _sub(alert, "status", "Actual")
    _sub(alert, "msgType", msg_type)
    _sub(alert, "source", warning.source or getattr(settings, "RENZHI_CAP_SOURCE", "Renzhi"))
    _sub(alert, "scope", "Public")
    _sub(alert, "code", "GB/T 35965.1-2018")
    if note:
        _sub(alert, "note", note)
    if earlier and msg_type != CapMessage.MsgType.ALERT:
        refs = " ".join(f"{sender()},{e['identifier']},{cap_time(e['sent'])}" for e in earlier)
        _sub(alert, "references", refs)
    areas = list(warning.areas.all().order_by("code"))
    for lang in ("zh-CN", "en"):
        alert.append(_info(warning, lang, msg_type, sent, areas))
    return etree.tostring(alert, xml_declaration=True, encoding="UTF-8", pretty_print=True).decode()


def validation_errors(xml: str | bytes) -> list[str]:
    """Schema errors of a CAP document ("line N: message"); empty when it validates."""
    try:
        doc = etree.fromstring(xml.encode() if isinstance(xml, str) else xml, _safe_parser())
    except etree.XMLSyntaxError as exc:
        return [str(exc)]
    schema = _schema()
    if schema.validate(doc):
        return []
    return [f"line {e.line}: {e.message}" for e in schema.error_log]  # type: ignore[attr-defined]


def feed(messages: list[CapMessage], self_url: str, alert_url) -> str:
    """Atom feed with one entry per message, each linking to the alert's XML."""
    E = _maker(ATOM_NS)
    root = E("feed")
    _sub(root, "id", self_url, ATOM_NS)
    _sub(root, "title", _("Renzhi early warnings (CAP)"), ATOM_NS)
    updated = max((m.sent for m in messages), default=None)
    _sub(root, "updated", cap_time(updated) if updated else cap_time(_now()), ATOM_NS)
    author = etree.SubElement(root, f"{{{ATOM_NS}}}author")
    _sub(author, "name", sender(), ATOM_NS)
    link = etree.SubElement(root, f"{{{ATOM_NS}}}link")
    link.set("rel", "self")
    link.set("href", self_url)
    for m in messages:
        w = m.warning
        entry = etree.SubElement(root, f"{{{ATOM_NS}}}entry")
        _sub(entry, "id", f"urn:renzhi:cap:{m.identifier}", ATOM_NS)
        _sub(entry, "title", f"[{COLOUR_ZH[w.colour]}] {w.headline}", ATOM_NS)
        _sub(entry, "updated", cap_time(m.sent), ATOM_NS)
        _sub(entry, "summary", f"{m.msg_type}: {w.description[:200]}", ATOM_NS)
        link = etree.SubElement(entry, f"{{{ATOM_NS}}}link")
        link.set("rel", "alternate")
        link.set("type", "application/cap+xml")
        link.set("href", alert_url(m))
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8", pretty_print=True).decode()


# --- in -------------------------------------------------------------------------------------


@dataclass
class ParsedAlert:
    identifier: str
    sender: str
    msg_type: str
    sender_name: str = ""
    event: str = ""
    headline: str = ""
    description: str = ""
    instruction: str = ""
    category: str = "Other"
    level: int = Level.IV
    onset: dt.datetime | None = None
    expires: dt.datetime | None = None
    geocodes: list[str] = field(default_factory=list)
    area_names: list[str] = field(default_factory=list)


def parse_import(data: bytes | str, fetch=None) -> list[ParsedAlert]:
    """Alerts from a CAP document or an Atom feed (entries embed an alert or link to one).

    Raises ActionError(field="cap") naming the first problem; validates every alert first.
    """
    raw = data.encode() if isinstance(data, str) else data
    if not raw.strip():
        raise ActionError(_("The CAP document is empty."), field="cap", code=ErrorCode.REQUIRED)
    if len(raw) > MAX_IMPORT_BYTES:
        raise ActionError(_("The CAP document is too large."), field="cap")
    try:
        root = etree.fromstring(raw, _safe_parser())
    except etree.XMLSyntaxError as exc:
        raise ActionError(
            _("The CAP document is not well-formed XML: %(error)s") % {"error": exc}, field="cap"
        ) from exc
    alerts = _alerts_of_feed(root, fetch or _fetch) if root.tag == f"{{{ATOM_NS}}}feed" else [root]
    if not alerts:
        raise ActionError(_("The feed contains no CAP alerts."), field="cap")
    parsed = []
    for n, alert in enumerate(alerts, start=1):
        errors = validation_errors(etree.tostring(alert))
        if errors:
            raise ActionError(
                _("Alert %(n)s does not validate against CAP 1.2: %(error)s")
                % {"n": n, "error": errors[0]},
                field="cap",
            )
        item = _parse_alert(alert)
        if item.msg_type in ("Alert", "Update"):
            parsed.append(item)
    return parsed


# --- helpers --------------------------------------------------------------------------------


def _info(
    warning: Warning, lang: str, msg_type: str, sent: dt.datetime, areas: list[Place]
) -> etree._Element:
    zh = lang == "zh-CN"
    level = Level(warning.level)
    colour = COLOUR[level]
    info = etree.Element(f"{{{CAP_NS}}}info")
    _sub(info, "language", lang)
    _sub(info, "category", warning.cap_category)
    event = warning.event or (warning.category.name if warning.category else warning.headline)
    _sub(info, "event", event if zh else (warning.headline_en or event))
    if msg_type == CapMessage.MsgType.CANCEL:
        _sub(info, "responseType", "AllClear")
    else:
        _sub(info, "responseType", "Prepare" if level >= Level.III else "Execute")
    _sub(info, "urgency", "Past" if msg_type == CapMessage.MsgType.CANCEL else URGENCY[level])
    _sub(info, "severity", SEVERITY[level])
    _sub(info, "certainty", "Likely" if warning.origin == Origin.SIGNAL else "Observed")
    if warning.category_id and warning.category:
        code = etree.SubElement(info, f"{{{CAP_NS}}}eventCode")
        _sub(code, "valueName", "RENZHI_CATEGORY")
        _sub(code, "value", warning.category.code)
    _sub(info, "effective", cap_time(warning.published_at or sent))
    if warning.onset_at:
        _sub(info, "onset", cap_time(warning.onset_at))
    if warning.expires_at:
        _sub(info, "expires", cap_time(warning.expires_at))
    site = getattr(settings, "RENZHI_CAP_SENDER_NAME", "")
    _sub(info, "senderName", site or (warning.owner_place.name if zh else "Renzhi"))
    prefix = f"{COLOUR_ZH[colour]}预警" if zh else f"{colour.title()} warning"
    headline = warning.headline if zh else (warning.headline_en or warning.headline)
    _sub(info, "headline", f"{prefix}：{headline}" if zh else f"{prefix}: {headline}")
    description = warning.description if zh else (warning.description_en or warning.description)
    if description:
        _sub(info, "description", description)
    instruction = warning.instructions if zh else (warning.instructions_en or warning.instructions)
    if instruction:
        _sub(info, "instruction", instruction)
    _sub(info, "web", public_base() + reverse("cap:warning", args=[warning.pk]))
    for name, value in (
        ("color", COLOUR_ZH[colour] if zh else colour),
        ("level", ROMAN[level]),
        ("levelDesc", LEVEL_ZH[level] if zh else LEVEL_EN[level]),
        ("status", warning.get_status_display() if zh else warning.status),
    ):
        param = etree.SubElement(info, f"{{{CAP_NS}}}parameter")
        _sub(param, "valueName", name)
        if name == "status" and zh:
            with translation.override("zh-hans"):
                value = str(Status(warning.status).label)
        _sub(param, "value", str(value))
    area = etree.SubElement(info, f"{{{CAP_NS}}}area")
    _sub(area, "areaDesc", "、".join(a.name for a in areas) if zh else _area_desc_en(areas))
    for place in areas:
        for ring in _rings(place):
            _sub(area, "polygon", ring)
    for place in areas:
        geocode = etree.SubElement(area, f"{{{CAP_NS}}}geocode")
        _sub(geocode, "valueName", "GB/T 2260" if len(place.code) == 6 else "ADCODE12")
        _sub(geocode, "value", place.code.ljust(12, "0") if len(place.code) > 6 else place.code)
    return info


def _area_desc_en(areas: list[Place]) -> str:
    return ", ".join(f"{a.name} ({a.code})" for a in areas)


def _rings(place: Place) -> list[str]:
    """The exterior rings of a place's boundary as CAP polygons: "lat,lon" pairs, closed."""
    geom = place.boundary
    if not geom:
        return []
    polygons = (
        [geom["coordinates"]] if geom.get("type") == "Polygon" else geom.get("coordinates", [])
    )
    rings = []
    for polygon in polygons:
        ring = list(polygon[0])
        if len(ring) > MAX_POLYGON_POINTS:
            step = len(ring) // MAX_POLYGON_POINTS + 1
            ring = [*ring[:-1:step], ring[-1]]
        if ring[0] != ring[-1]:
            ring.append(ring[0])
        if len(ring) < 4:
            continue
        rings.append(" ".join(f"{lat:.6f},{lng:.6f}" for lng, lat in ((p[0], p[1]) for p in ring)))
    return rings


def _alerts_of_feed(root: etree._Element, fetch) -> list[etree._Element]:
    alerts = []
    for entry in root.iter(f"{{{ATOM_NS}}}entry"):
        inline = entry.find(f".//{{{CAP_NS}}}alert")
        if inline is not None:
            alerts.append(inline)
            continue
        for link in entry.iter(f"{{{ATOM_NS}}}link"):
            href = link.get("href", "")
            if "cap" in (link.get("type") or "") or href.endswith(".xml"):
                # Neither the linked document nor the network error is echoed: the message
                # must not tell a user what answers at an address (see core.outbound).
                try:
                    alerts.append(etree.fromstring(fetch(href), _safe_parser()))
                except outbound.OutboundError as exc:
                    raise ActionError(
                        _("Could not read the alert at %(url)s: %(error)s")
                        % {"url": href, "error": exc.message},
                        field="cap",
                    ) from exc
                except (OSError, ValueError, etree.XMLSyntaxError) as exc:
                    raise ActionError(
                        _("Could not read the alert at %(url)s: %(error)s")
                        % {"url": href, "error": _("it is not a CAP alert")},
                        field="cap",
                    ) from exc
                break
    return alerts


def _fetch(url: str) -> bytes:
    """A linked alert, through the guarded outbound module (public addresses only, no
    redirects, at most MAX_IMPORT_BYTES)."""
    response = outbound.fetch(
        url, headers={"Accept": "application/cap+xml, application/xml"}, max_bytes=MAX_IMPORT_BYTES
    )
    if response.status != 200:
        raise outbound.OutboundError(
            outbound.fetch_failed_message(), f"{url}: HTTP {response.status}"
        )
    return response.body


def _parse_alert(alert: etree._Element) -> ParsedAlert:
    ns = {"c": CAP_NS}

    def text(node: etree._Element, path: str) -> str:
        found = node.find(path, ns)
        return (found.text or "").strip() if found is not None else ""

    item = ParsedAlert(
        identifier=text(alert, "c:identifier"),
        sender=text(alert, "c:sender"),
        msg_type=text(alert, "c:msgType"),
    )
    infos = alert.findall("c:info", ns)
    info = next(
        (i for i in infos if text(i, "c:language").lower().startswith("zh")),
        infos[0] if infos else None,
    )
    if info is None:
        return item
    item.sender_name = text(info, "c:senderName")
    item.event = text(info, "c:event")
    item.headline = text(info, "c:headline")
    item.description = text(info, "c:description")
    item.instruction = text(info, "c:instruction")
    item.category = text(info, "c:category") or "Other"
    item.level = LEVEL_OF_SEVERITY.get(text(info, "c:severity"), Level.IV)
    for param in info.findall("c:parameter", ns):
        name, value = text(param, "c:valueName").lower(), text(param, "c:value")
        if name == "level" and value in LEVEL_OF_ROMAN:
            item.level = LEVEL_OF_ROMAN[value]
        elif name in ("color", "colour"):
            colour = {v: k for k, v in COLOUR_ZH.items()}.get(value, value.lower())
            item.level = LEVEL_OF_COLOUR.get(colour, item.level)
    item.onset = _time(text(info, "c:onset"))
    item.expires = _time(text(info, "c:expires"))
    for area in info.findall("c:area", ns):
        item.area_names += [
            n.strip() for n in text(area, "c:areaDesc").replace("、", ",").split(",")
        ]
        for geocode in area.findall("c:geocode", ns):
            value = text(geocode, "c:value")
            item.geocodes += _code_variants(value)
    item.geocodes = [g for g in item.geocodes if g]
    return item


def _code_variants(value: str) -> list[str]:
    """A 12-digit statistical code padded with zeros also names the street or district."""
    if not value.isdigit():
        return []
    variants = [value]
    if len(value) == 12 and value.endswith("000000"):
        variants.append(value[:6])
    elif len(value) == 12 and value.endswith("000"):
        variants.append(value[:9])
    return variants


def _time(value: str) -> dt.datetime | None:
    try:
        return dt.datetime.fromisoformat(value) if value else None
    except ValueError:
        return None


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def _maker(ns: str):
    def make(tag: str) -> etree._Element:
        return etree.Element(f"{{{ns}}}{tag}", nsmap={None: ns})

    return make


def _sub(parent: etree._Element, tag: str, text: str, ns: str = CAP_NS) -> etree._Element:
    node = etree.SubElement(parent, f"{{{ns}}}{tag}")
    node.text = text
    return node


def _safe_parser() -> etree.XMLParser:
    return etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=False)


@lru_cache(maxsize=1)
def _schema() -> etree.XMLSchema:
    return etree.XMLSchema(etree.parse(str(SCHEMA_PATH), _safe_parser()))
