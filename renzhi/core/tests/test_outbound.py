"""The guarded outbound-HTTP module: the address classifier, URL checks and the fetch itself,
against real listeners on loopback."""

from __future__ import annotations

import ipaddress
import socket

import pytest

from renzhi.core import outbound
from renzhi.core.tests.listeners import Listener

REFUSED = [
    "127.0.0.1",
    "127.1.2.3",
    "2130706433",  # decimal 127.0.0.1
    "0177.0.0.1",  # octal
    "0x7f.1",  # hex, short form
    "0.0.0.0",
    "10.0.0.1",
    "172.16.5.4",
    "192.168.1.1",
    "169.254.169.254",  # cloud metadata
    "100.64.0.1",  # carrier-grade NAT
    "192.0.2.1",  # documentation
    "198.18.0.1",  # benchmarking
    "224.0.0.1",  # multicast
    "240.0.0.1",  # reserved
    "255.255.255.255",
    "::",
    "::1",
    "::ffff:127.0.0.1",  # IPv4-mapped
    "::ffff:169.254.169.254",
    "::127.0.0.1",  # IPv4-compatible (deprecated)
    "64:ff9b::a9fe:a9fe",  # NAT64 of 169.254.169.254
    "2002:7f00:1::",  # 6to4 of 127.0.0.1
    "fe80::1",
    "fc00::1",
    "fd12:3456::1",
    "ff02::1",
]
PUBLIC = ["8.8.8.8", "1.1.1.1", "93.184.216.34", "2606:4700:4700::1111", "2002:808:808::"]


@pytest.mark.parametrize("text", REFUSED)
def test_it_refuses_internal_and_reserved_addresses(text):
    address = outbound.parse_address(text)
    assert address is not None
    assert not outbound.is_public(address)


@pytest.mark.parametrize("text", PUBLIC)
def test_it_accepts_public_unicast_addresses(text):
    assert outbound.is_public(ipaddress.ip_address(text))


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1/",
        "http://2130706433/",
        "http://0177.0.0.1/",
        "http://[::1]:8080/",
        "http://[::ffff:127.0.0.1]/",
        "http://169.254.169.254/latest/meta-data/",
        "http://10.1.2.3/",
        "http://localhost/",
    ],
)
def test_it_refuses_urls_of_internal_hosts(url, settings):
    settings.RENZHI_OUTBOUND_ALLOW = []
    with pytest.raises(outbound.OutboundError) as refused:
        outbound.check_url(url)
    assert refused.value.code == "blocked"


@pytest.mark.parametrize(
    "url",
    [
        "ftp://8.8.8.8/x",
        "file:///etc/passwd",
        "gopher://8.8.8.8/",
        "http://user:pw@8.8.8.8/",
        "http:///x",
        "http://[::1/",
    ],
)
def test_it_refuses_other_schemes_credentials_and_junk(url):
    with pytest.raises(outbound.OutboundError) as refused:
        outbound.check_url(url)
    assert refused.value.code == "invalid"


def test_it_refuses_a_name_when_any_of_its_addresses_is_internal(monkeypatch, settings):
    settings.RENZHI_OUTBOUND_ALLOW = []
    answers = [
        (socket.AF_INET, socket.SOCK_STREAM, 6, "", (a, 80)) for a in ("8.8.8.8", "10.0.0.5")
    ]
    monkeypatch.setattr(outbound.socket, "getaddrinfo", lambda *a, **k: answers)
    with pytest.raises(outbound.OutboundError):
        outbound.check_url("http://mixed.example.cn/")


def test_the_allow_list_takes_networks_and_host_names(settings, monkeypatch):
    settings.RENZHI_OUTBOUND_ALLOW = ["10.20.0.0/16", "cap.intranet.gov.cn"]
    assert outbound.check_url("http://10.20.3.4/feed").address == "10.20.3.4"
    with pytest.raises(outbound.OutboundError):
        outbound.check_url("http://10.21.3.4/feed")
    answers = [(socket.AF_INET, socket.SOCK_STREAM, 6, "", ("192.168.7.7", 443))]
    monkeypatch.setattr(outbound.socket, "getaddrinfo", lambda *a, **k: answers)
    target = outbound.check_url("https://CAP.intranet.gov.cn./alerts?x=1")
    assert (target.host, target.address, target.port, target.path) == (
        "cap.intranet.gov.cn",
        "192.168.7.7",
        443,
        "/alerts?x=1",
    )


def test_it_never_connects_to_a_loopback_listener(settings):
    settings.RENZHI_OUTBOUND_ALLOW = []
    with Listener("127.0.0.1") as internal:
        for url in (
            internal.url(),
            internal.url(host="localhost"),
            internal.url(host="2130706433"),
        ):
            with pytest.raises(outbound.OutboundError) as refused:
                outbound.fetch(url)
            assert "hunter2" not in str(refused.value.message)
    assert internal.hits == []


def test_it_does_not_follow_redirects(settings):
    settings.RENZHI_OUTBOUND_ALLOW = ["127.0.0.2/32"]
    internal = Listener("127.0.0.1")
    outside = Listener("127.0.0.2", status=302, location=internal.url("/admin"))
    with internal, outside, pytest.raises(outbound.OutboundError) as refused:
        outbound.fetch(outside.url("/feed"))
    assert len(outside.hits) == 1 and internal.hits == []
    assert refused.value.message == outbound.fetch_failed_message()


def test_it_connects_to_the_address_it_checked_and_sends_the_name(settings, monkeypatch):
    """DNS rebinding: the name resolves to an allowed address once, then to loopback; the
    request goes to the first (checked) address, with the name in the Host header."""
    settings.RENZHI_OUTBOUND_ALLOW = ["127.0.0.2/32"]
    with Listener("127.0.0.1") as internal, Listener("127.0.0.2", body=b"ok") as outside:
        calls = []

        def rebinding(host, port, *args, **kwargs):
            calls.append(host)
            address = "127.0.0.2" if len(calls) == 1 else "127.0.0.1"
            return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", (address, port))]

        monkeypatch.setattr(outbound.socket, "getaddrinfo", rebinding)
        response = outbound.fetch(f"http://rebind.example.cn:{outside.port}/a")
        assert response.status == 200 and response.body == b"ok"
        assert outside.hits[0]["host"] == f"rebind.example.cn:{outside.port}"
        # and the next request is checked again: the name now points inside
        with pytest.raises(outbound.OutboundError):
            outbound.fetch(f"http://rebind.example.cn:{internal.port}/a")
    assert internal.hits == []


def test_it_caps_the_size_of_the_answer(settings):
    settings.RENZHI_OUTBOUND_ALLOW = ["127.0.0.2/32"]
    with Listener("127.0.0.2", body=b"x" * 5000) as outside:
        assert len(outbound.fetch(outside.url(), max_bytes=5000).body) == 5000
        with pytest.raises(outbound.OutboundError) as refused:
            outbound.fetch(outside.url(), max_bytes=4999)
    assert refused.value.code == "too_large"


def test_a_refused_request_shows_a_generic_localised_message(settings):
    from django.utils import translation

    settings.RENZHI_OUTBOUND_ALLOW = ["127.0.0.2/32"]
    with translation.override("zh-hans"):
        with pytest.raises(outbound.OutboundError) as refused:
            outbound.fetch("http://127.0.0.2:1/")  # nothing listens: connection refused
        assert str(refused.value.message) == "无法获取该地址。"
        assert "refused" not in str(refused.value.message).lower()
