"""An independent GeoReport v2 client, written only from the specification, against a live
server: urllib for HTTP, xml.etree and json for parsing. It imports nothing from the server
(the `interop` fixture only hands it a base URL, an api_key and a way to resolve a case)."""

from __future__ import annotations

import json
import urllib.error
import urllib.parse
import urllib.request
import xml.etree.ElementTree as ET

import pytest


class GeoReportClient:
    """What a partner app would write after reading wiki.open311.org/GeoReport_v2."""

    def __init__(self, base: str, api_key: str):
        self.base, self.api_key = base.rstrip("/"), api_key

    def call(self, path: str, params=None, form=None):
        url = f"{self.base}/{path}"
        if params:
            url += "?" + urllib.parse.urlencode(params)
        data = None
        headers = {"Accept-Language": "en"}
        if form is not None:
            data = urllib.parse.urlencode(form).encode("utf-8")
            headers["Content-Type"] = "application/x-www-form-urlencoded; charset=utf-8"
        request = urllib.request.Request(url, data=data, headers=headers)
        try:
            with urllib.request.urlopen(request, timeout=30) as response:
                return response.status, response.headers, response.read()
        except urllib.error.HTTPError as error:
            return error.code, error.headers, error.read()

    def xml(self, path, params=None, form=None):
        status, headers, body = self.call(path, params, form)
        assert headers["Content-Type"].startswith("text/xml")
        assert body.startswith(b"<?xml") and b'encoding="utf-8"' in body.split(b"?>")[0].lower()
        return status, ET.fromstring(body)

    def json(self, path, params=None, form=None):
        status, headers, body = self.call(path, params, form)
        assert headers["Content-Type"].startswith("application/json")
        return status, json.loads(body.decode("utf-8"))


@pytest.mark.django_db(transaction=True)
def test_a_spec_client_discovers_files_and_follows_a_request(interop):
    client = GeoReportClient(interop.base, interop.api_key)

    status, discovery = client.xml("discovery.xml")
    assert status == 200 and discovery.tag == "discovery"
    endpoint = discovery.find("endpoints/endpoint")
    assert endpoint.findtext("specification") == "http://wiki.open311.org/GeoReport_v2"
    assert "application/json" in [f.text for f in endpoint.findall("formats/format")]
    assert endpoint.findtext("url") == interop.base

    status, services = client.xml("services.xml", {"jurisdiction_id": "renzhi.demo"})
    assert status == 200 and services.tag == "services"
    wanted = next(s for s in services.findall("service") if s.findtext("metadata") == "true")
    code = wanted.findtext("service_code")

    status, definition = client.xml(f"services/{code}.xml")
    assert status == 200 and definition.findtext("service_code") == code
    form = {
        "api_key": interop.api_key,
        "service_code": code,
        "lat": "39.92",
        "long": "116.42",
        "description": "Lift stuck between floors 3 and 4",
        "email": "someone@example.org",
    }
    for attribute in sorted(
        definition.findall("attributes/attribute"), key=lambda a: int(a.findtext("order"))
    ):
        if attribute.findtext("required") != "true":
            continue
        values = attribute.findall("values/value")
        form[f"attribute[{attribute.findtext('code')}]"] = (
            values[0].findtext("key") if values else "12"
        )

    status, created = client.xml("requests.xml", form=form)
    assert status == 200, ET.tostring(created)
    request_id = created.find("request").findtext("service_request_id")
    assert request_id

    status, found = client.json(f"requests/{request_id}.json")
    assert status == 200
    assert found[0]["status"] == "open" and found[0]["service_code"] == code
    assert "someone@example.org" not in json.dumps(found)

    interop.resolve(request_id)
    status, listed = client.xml("requests.xml", {"service_request_id": request_id})
    assert status == 200
    assert listed.find("request").findtext("status") == "closed"

    status, closed = client.json("requests.json", {"status": "closed", "service_code": code})
    assert [r["service_request_id"] for r in closed] == [request_id]


@pytest.mark.django_db(transaction=True)
def test_a_spec_client_reads_errors_as_a_list_of_code_and_description(interop):
    client = GeoReportClient(interop.base, interop.api_key)
    status, errors = client.xml("requests.xml", form={"api_key": "wrong", "service_code": "x"})
    assert status == 403 and errors.tag == "errors"
    assert errors.find("error").findtext("code") == "403"
    status, errors = client.json("requests.json", {"start_date": "not a date"})
    assert status == 400 and errors[0]["code"] == 400 and errors[0]["description"]
    status, errors = client.json("requests/does-not-exist.json")
    assert status == 404 and errors[0]["code"] == 404
