"""Writing GeoReport v2 documents as XML or JSON (and GeoJSON, our extension).

The JSON follows the spec's "Spark convention": a list root (services, service_requests,
errors) becomes an array of objects, an object root (service_definition, discovery) an object,
and a repeated child element (attributes/attribute, values/value, endpoints/endpoint,
formats/format) an array. The XML is schemaless, with no namespace, and starts with the
declaration `<?xml version="1.0" encoding="utf-8"?>` as the spec requires.

Documents are built as plain Python values; `Doc` names the root and the repeated children so
one value renders in both formats.
"""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from typing import Any

from django.http import HttpResponse

XML_TYPE = "text/xml; charset=utf-8"
JSON_TYPE = "application/json; charset=utf-8"
GEOJSON_TYPE = "application/geo+json; charset=utf-8"
FORMATS = ("json", "xml")


@dataclass(frozen=True)
class Doc:
    """`value` with its XML names: `root` element; `item` when the root is a list; `lists` maps
    a list-valued key to the element name of its items (e.g. "attributes" → "attribute")."""

    root: str
    value: Any
    item: str | None = None
    lists: dict[str, str] = field(default_factory=dict)


def respond(doc: Doc, fmt: str, status: int = 200) -> HttpResponse:
    if fmt == "json":
        body = json.dumps(doc.value, ensure_ascii=False, separators=(",", ":"))
        return HttpResponse(body.encode("utf-8"), status=status, content_type=JSON_TYPE)
    return HttpResponse(to_xml(doc), status=status, content_type=XML_TYPE)


def respond_geojson(collection: dict, status: int = 200) -> HttpResponse:
    body = json.dumps(collection, ensure_ascii=False, separators=(",", ":"))
    return HttpResponse(body.encode("utf-8"), status=status, content_type=GEOJSON_TYPE)


def to_xml(doc: Doc) -> bytes:
    root = ET.Element(doc.root)
    if isinstance(doc.value, list):
        for entry in doc.value:
            _fill(ET.SubElement(root, doc.item or "item"), entry, doc.lists)
    else:
        _fill(root, doc.value, doc.lists)
    text = ET.tostring(root, encoding="unicode", short_empty_elements=False)
    return ('<?xml version="1.0" encoding="utf-8"?>\n' + text).encode("utf-8")


def _fill(element: ET.Element, value: Any, lists: dict[str, str]) -> None:
    if isinstance(value, dict):
        for key, child in value.items():
            sub = ET.SubElement(element, key)
            if isinstance(child, list):
                for entry in child:
                    _fill(ET.SubElement(sub, lists.get(key, "item")), entry, lists)
            else:
                _fill(sub, child, lists)
        return
    element.text = _text(value)


def _text(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)
