"""Every document parsed with strict parsers (lxml without recovery; JSON refusing duplicate
keys and NaN) and its field names compared with the GeoReport v2 spec's own examples."""

from __future__ import annotations

import json

import pytest
from lxml import etree

from renzhi.open311.tests.conftest import lift_request

STRICT_XML = etree.XMLParser(
    recover=False, resolve_entities=False, no_network=True, remove_blank_text=False
)

# Field names, in order, from the examples on wiki.open311.org/GeoReport_v2 and
# /Service_Discovery.
DISCOVERY = ["changeset", "contact", "key_service", "endpoints"]
ENDPOINT = ["specification", "url", "changeset", "type", "formats"]
SERVICE = [
    "service_code",
    "service_name",
    "description",
    "metadata",
    "type",
    "keywords",
    "group",
]
DEFINITION = ["service_code", "attributes"]
ATTRIBUTE = [
    "variable",
    "code",
    "datatype",
    "required",
    "datatype_description",
    "order",
    "description",
    "values",
]
VALUE = ["key", "name"]
CREATED = ["service_request_id", "service_notice", "account_id"]
REQUEST = [
    "service_request_id", "status", "status_notes", "service_name", "service_code",
    "description", "agency_responsible", "service_notice", "requested_datetime",
    "updated_datetime", "expected_datetime", "address", "address_id", "zipcode", "lat",
    "long", "media_url",
]  # fmt: skip
ERROR = ["code", "description"]
W3C = r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\+08:00$"


def strict_json(content: bytes):
    def no_duplicates(pairs):
        keys = [k for k, _v in pairs]
        assert len(keys) == len(set(keys)), f"duplicate keys {keys}"
        return dict(pairs)

    def no_constants(name):
        raise AssertionError(f"non-standard JSON constant {name}")

    return json.loads(
        content.decode("utf-8", errors="strict"),
        object_pairs_hook=no_duplicates,
        parse_constant=no_constants,
    )


def strict_xml(response) -> etree._Element:
    assert response["Content-Type"] == "text/xml; charset=utf-8"
    assert response.content.startswith(b'<?xml version="1.0" encoding="utf-8"?>')
    root = etree.fromstring(response.content, STRICT_XML)
    assert root.nsmap == {}, "the spec's XML has no namespace"
    return root


def tags(element) -> list[str]:
    return [child.tag for child in element]


@pytest.fixture
def filed(o311, o311_client):
    response = o311_client.post("xml", lift_request(o311))
    assert response.status_code == 200
    root = strict_xml(response)
    assert root.tag == "service_requests" and tags(root) == ["request"]
    assert tags(root[0]) == CREATED
    return root[0].findtext("service_request_id")


def test_discovery_fields_match_the_spec(o311, o311_client):
    doc = strict_json(o311_client.get("discovery.json").content)
    assert list(doc) == DISCOVERY and list(doc["endpoints"][0]) == ENDPOINT
    root = strict_xml(o311_client.get("discovery.xml"))
    assert root.tag == "discovery" and tags(root) == DISCOVERY
    assert tags(root.find("endpoints")) == ["endpoint"]
    assert tags(root.find("endpoints/endpoint")) == ENDPOINT
    assert set(tags(root.find("endpoints/endpoint/formats"))) == {"format"}


def test_services_fields_match_the_spec(o311, o311_client):
    doc = strict_json(o311_client.get("services.json").content)
    assert isinstance(doc, list) and all(list(s) == SERVICE for s in doc)
    assert all(isinstance(s["metadata"], bool) for s in doc)
    root = strict_xml(o311_client.get("services.xml"))
    assert root.tag == "services" and set(tags(root)) == {"service"}
    assert all(tags(s) == SERVICE for s in root)
    assert {s.findtext("metadata") for s in root} == {"true", "false"}


def test_service_definition_fields_match_the_spec(o311, o311_client):
    doc = strict_json(o311_client.get("services/0801.json").content)
    assert list(doc) == DEFINITION
    assert all(list(a) == ATTRIBUTE for a in doc["attributes"])
    assert all(list(v) == VALUE for a in doc["attributes"] for v in a["values"])
    assert all(isinstance(a["order"], int) and a["order"] >= 1 for a in doc["attributes"])
    assert {a["datatype"] for a in doc["attributes"]} == {
        "string", "number", "datetime", "text", "singlevaluelist", "multivaluelist",
    }  # fmt: skip
    root = strict_xml(o311_client.get("services/0801.xml"))
    assert root.tag == "service_definition" and tags(root) == DEFINITION
    assert set(tags(root.find("attributes"))) == {"attribute"}
    for attribute in root.iterfind("attributes/attribute"):
        assert tags(attribute) == ATTRIBUTE
        assert attribute.findtext("variable") in ("true", "false")
        assert attribute.findtext("required") in ("true", "false")
        assert set(tags(attribute.find("values"))) <= {"value"}
        assert all(tags(v) == VALUE for v in attribute.iterfind("values/value"))


@pytest.mark.parametrize("path", ["requests.{fmt}", "requests/{id}.{fmt}"])
def test_request_fields_match_the_spec(o311, o311_client, filed, path):
    doc = strict_json(o311_client.get(path.format(fmt="json", id=filed)).content)
    assert isinstance(doc, list) and doc
    for entry in doc:
        assert list(entry) == REQUEST
        assert entry["status"] in ("open", "closed")
        assert isinstance(entry["lat"], float) and isinstance(entry["long"], float)
        for name in ("requested_datetime", "updated_datetime", "expected_datetime"):
            assert entry[name] is not None
            import re

            assert re.match(W3C, entry[name]), entry[name]
    root = strict_xml(o311_client.get(path.format(fmt="xml", id=filed)))
    assert root.tag == "service_requests" and set(tags(root)) == {"request"}
    assert all(tags(r) == REQUEST for r in root)
    assert "电梯故障" in etree.tostring(root, encoding="unicode")  # Chinese intact


def test_token_fields_match_the_spec(o311, o311_client, filed):
    from renzhi.open311.models import PartnerRequest

    token = PartnerRequest.objects.get().token
    doc = strict_json(o311_client.get(f"tokens/{token}.json").content)
    assert [list(e) for e in doc] == [["service_request_id", "token"]]
    root = strict_xml(o311_client.get(f"tokens/{token}.xml"))
    assert root.tag == "service_requests" and tags(root[0]) == ["service_request_id", "token"]


@pytest.mark.parametrize("path", ["services/NOPE.{fmt}", "requests/NOPE.{fmt}", "x.{fmt}"])
def test_error_fields_match_the_spec(o311, o311_client, path):
    response = o311_client.get(path.format(fmt="json"))
    doc = strict_json(response.content)
    assert isinstance(doc, list) and all(list(e) == ERROR for e in doc)
    assert all(isinstance(e["code"], int) for e in doc)
    root = strict_xml(o311_client.get(path.format(fmt="xml")))
    assert root.tag == "errors" and set(tags(root)) == {"error"}
    assert all(tags(e) == ERROR for e in root)
