"""CAP 1.2 out (validates against the OASIS schema, maps our fields), the feed, and import."""

from __future__ import annotations

import pytest
import xmlschema
from lxml import etree

from renzhi.core.errors import ActionError
from renzhi.warning import actions, cap
from renzhi.warning.models import CapMessage, Warning

NS = {"c": cap.CAP_NS, "a": cap.ATOM_NS}
SCHEMA = xmlschema.XMLSchema(str(cap.SCHEMA_PATH))


def _doc(xml: str):
    return etree.fromstring(xml.encode())


def _text(node, path):
    return node.findtext(path, namespaces=NS)


def test_every_message_validates_against_the_oasis_schema(world, publish_flow):
    w = publish_flow(2)
    actions.update(world.frank, w.pk, _same(w))
    actions.cancel(world.frank, w.pk, "解除")
    for m in CapMessage.objects.all():
        SCHEMA.validate(m.xml)  # raises on any error


def _same(w):
    from renzhi.warning.tests.conftest import draft_input

    return draft_input(w.level, [a.code for a in w.areas.all()], headline=w.headline + "（更新）")


@pytest.mark.parametrize(
    ("level", "severity", "colour"),
    [
        (4, "Minor", "blue"),
        (3, "Moderate", "yellow"),
        (2, "Severe", "orange"),
        (1, "Extreme", "red"),
    ],
)
def test_levels_map_to_cap_severity_and_parameters(world, publish_flow, level, severity, colour):
    w = publish_flow(level)
    doc = _doc(CapMessage.objects.get(warning=w).xml)
    infos = doc.findall("c:info", NS)
    assert [_text(i, "c:language") for i in infos] == ["zh-CN", "en"]
    for info in infos:
        assert _text(info, "c:severity") == severity
        params = {
            _text(p, "c:valueName"): _text(p, "c:value") for p in info.findall("c:parameter", NS)
        }
        assert params["level"] == w.roman
    en = infos[1]
    assert {_text(p, "c:valueName"): _text(p, "c:value") for p in en.findall("c:parameter", NS)}[
        "color"
    ] == colour


def test_the_alert_header_and_area_follow_the_warning(world, publish_flow, settings):
    settings.RENZHI_CAP_SENDER = "cap@chaoyang.example.cn"
    w = publish_flow(3)
    doc = _doc(CapMessage.objects.get(warning=w).xml)
    assert _text(doc, "c:sender") == "cap@chaoyang.example.cn"
    assert _text(doc, "c:sent").endswith("+08:00")
    assert _text(doc, "c:status") == "Actual"
    assert _text(doc, "c:msgType") == "Alert"
    assert _text(doc, "c:scope") == "Public"
    assert doc.find("c:references", NS) is None
    info = doc.find("c:info", NS)
    assert _text(info, "c:category") == "Infra"
    assert _text(info, "c:headline").endswith(w.headline)
    assert _text(info, "c:instruction") == w.instructions
    assert _text(info, "c:expires").endswith("+08:00")
    area = info.find("c:area", NS)
    assert _text(area, "c:areaDesc") == "甲一社区"
    polygon = _text(area, "c:polygon").split()
    assert polygon[0] == polygon[-1] and len(polygon) >= 4
    lat, lon = map(float, polygon[0].split(","))
    assert 39.9 <= lat <= 39.95 and 116.4 <= lon <= 116.5  # lat first, then lon
    assert _text(area, "c:geocode/c:value") == world.community_a.code


def test_the_feed_lists_live_alerts_and_links_to_valid_xml(world, publish_flow, client):
    live = publish_flow(3)
    draft = actions.create_warning(world.alice, _same(live))
    response = client.get("/cap/feed.xml")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/atom+xml")
    feed = etree.fromstring(response.content)
    entries = feed.findall("a:entry", NS)
    assert len(entries) == 1
    assert live.headline in _text(entries[0], "a:title")
    href = entries[0].find("a:link", NS).get("href")
    xml = client.get(href.replace("http://testserver", ""))
    assert xml.status_code == 200
    SCHEMA.validate(xml.content.decode())
    # The link names the live warning's alert, never the draft's (RZ-<district>-<pk>-<version>).
    assert f"-{live.pk:06d}-" in href and f"-{draft.pk:06d}-" not in href


def test_the_feed_needs_no_login_and_unknown_alerts_are_404(db, client):
    assert client.get("/cap/feed.xml").status_code == 200
    assert client.get("/cap/alerts/nope.xml").status_code == 404


def test_importing_an_alert_creates_a_draft_with_its_source(world, publish_flow):
    published = publish_flow(2)
    xml = CapMessage.objects.get(warning=published).xml.replace("RZ-", "EXT-")
    created = actions.import_cap(world.alice, xml)
    assert len(created) == 1
    w = created[0]
    assert w.status == "draft" and w.origin == "cap_import" and w.level == 2
    assert list(w.areas.values_list("code", flat=True)) == [world.community_a.code]
    assert actions.import_cap(world.alice, xml) == []  # the same alert twice: skipped


def test_importing_an_atom_feed_follows_its_links(world, publish_flow, client):
    publish_flow(4)
    body = client.get("/cap/feed.xml").content

    def fetch(url):
        return client.get(url.replace("http://testserver", "")).content.replace(b"RZ-", b"EX-")

    alerts = cap.parse_import(body, fetch=fetch)
    assert len(alerts) == 1 and alerts[0].level == 4


@pytest.mark.parametrize(
    ("document", "message"),
    [
        ("", "empty"),
        ("<alert", "well-formed"),
        (
            '<alert xmlns="urn:oasis:names:tc:emergency:cap:1.2">'
            "<identifier>x</identifier></alert>",
            "sender",
        ),
        (
            '<alert xmlns="urn:oasis:names:tc:emergency:cap:1.2"><identifier>x</identifier>'
            "<sender>s</sender><sent>yesterday</sent><status>Actual</status><msgType>Alert"
            "</msgType><scope>Public</scope></alert>",
            "sent",
        ),
    ],
)
def test_invalid_cap_is_reported_and_nothing_is_stored(world, document, message):
    with pytest.raises(ActionError) as refused:
        actions.import_cap(world.alice, document)
    assert refused.value.errors[0].field == "cap"
    assert message in refused.value.errors[0].message
    assert not Warning.objects.exists()


def test_one_invalid_alert_in_a_feed_refuses_the_whole_import(world, publish_flow, client):
    good = CapMessage.objects.get(warning=publish_flow(4)).xml.split("?>", 1)[1]
    bad = good.replace("<severity>Minor</severity>", "<severity>Tiny</severity>").replace(
        "RZ-", "BAD-"
    )
    good = good.replace("RZ-", "OK-")
    feed = (
        f'<feed xmlns="http://www.w3.org/2005/Atom"><entry><content type="text/xml">{good}'
        f'</content></entry><entry><content type="text/xml">{bad}</content></entry></feed>'
    )
    before = Warning.objects.count()
    with pytest.raises(ActionError) as refused:
        actions.import_cap(world.alice, feed)
    assert "Alert 2" in refused.value.errors[0].message
    assert "severity" in refused.value.errors[0].message
    assert Warning.objects.count() == before
