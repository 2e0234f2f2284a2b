"""Every HTTP request this server makes to an address a user gave goes through here.

Why one module: a URL typed by a user (a CAP feed link, a webhook) must never make the server
reach its own intranet (server-side request forgery). So, for each request:

- the URL is parsed: http or https only, no user:password@, a host is required;
- the host is resolved once and EVERY address it resolves to is classified; loopback, private,
  link-local, multicast, reserved, unspecified, carrier-grade NAT and the IPv4 embedded in
  IPv4-mapped / NAT64 / 6to4 / Teredo IPv6 addresses are refused, unless an operator listed the
  host or a network containing it in `settings.RENZHI_OUTBOUND_ALLOW`;
- the connection goes to the exact address that was checked (the name is sent in the Host header
  and as TLS SNI, the certificate is checked against the name), so a DNS answer that changes
  between the check and the connection (DNS rebinding) cannot redirect it;
- redirects are not followed (a 3xx is an error), the body is capped in size and the whole
  exchange in time.

Callers show the user only `OutboundError.message` (a generic, localised sentence); what went
wrong exactly is logged on "renzhi.outbound" for operators, never echoed (it would make the
server a port scanner). The MQTT broker (`RENZHI_MQTT_URL`) is configured by the operator,
not by users, and is not routed through here.
"""

from __future__ import annotations

import http.client
import ipaddress
import logging
import socket
import ssl
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from django.conf import settings
from django.utils.translation import gettext_lazy as _

log = logging.getLogger("renzhi.outbound")

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

DEFAULT_TIMEOUT = 10.0
DEFAULT_MAX_BYTES = 2_000_000
USER_AGENT = "Renzhi/1.0 (+outbound)"

_CGNAT = ipaddress.ip_network("100.64.0.0/10")
_NAT64 = ipaddress.ip_network("64:ff9b::/96")


class OutboundError(Exception):
    """A request that was refused or failed. `message` is safe to show; `reason` is for logs."""

    def __init__(self, message, reason: str, *, code: str = "failed") -> None:
        super().__init__(reason)
        self.message = message
        self.reason = reason
        self.code = code


@dataclass(frozen=True)
class Target:
    """A checked URL: where to connect (`address`) and what to call it (`host`)."""

    scheme: str
    host: str
    port: int
    path: str
    address: str


@dataclass
class Response:
    status: int
    headers: Mapping[str, str] = field(default_factory=dict)
    body: bytes = b""


def fetch(
    url: str,
    *,
    method: str = "GET",
    data: bytes | None = None,
    headers: Mapping[str, str] | None = None,
    timeout: float | None = None,
    max_bytes: int | None = None,
) -> Response:
    """One request to `url` under the rules above; the response of any status but 3xx.

    Raises OutboundError if the URL is refused, the connection fails, it redirects, takes too
    long or sends too much.
    """
    target = check_url(url)  # checked now, at send time, whatever was checked at save time
    limit = min(timeout or DEFAULT_TIMEOUT, _setting("RENZHI_OUTBOUND_TIMEOUT", DEFAULT_TIMEOUT))
    cap = min(
        max_bytes or DEFAULT_MAX_BYTES, _setting("RENZHI_OUTBOUND_MAX_BYTES", DEFAULT_MAX_BYTES)
    )
    deadline = time.monotonic() + limit
    conn = _connection(target, limit)
    try:
        conn.putrequest(method, target.path, skip_accept_encoding=True)
        sent = {k.lower() for k in (headers or {})}
        if "user-agent" not in sent:
            conn.putheader("User-Agent", USER_AGENT)
        for name, value in (headers or {}).items():
            conn.putheader(name, value)
        if data is not None:
            conn.putheader("Content-Length", str(len(data)))
        conn.endheaders(data)
        raw = conn.getresponse()
        if 300 <= raw.status < 400:
            raise _failed(f"{target.host}: redirect {raw.status} to {raw.getheader('Location')!r}")
        body = _read(raw, cap, deadline, target)
        return Response(status=raw.status, headers=dict(raw.getheaders()), body=body)
    except OutboundError:
        raise
    except TimeoutError as exc:
        raise _failed(f"{target.host} ({target.address}): timed out", "timeout") from exc
    except (OSError, http.client.HTTPException, ValueError) as exc:
        raise _failed(f"{target.host} ({target.address}): {type(exc).__name__}: {exc}") from exc
    finally:
        conn.close()


def check_url(url: str) -> Target:
    """Parse and resolve `url`; refuse it unless every address of its host may be reached."""
    try:
        parts = urlsplit((url or "").strip())
        port = parts.port
    except ValueError as exc:
        raise _refused(f"unparsable URL {url!r}", "invalid") from exc
    if parts.scheme not in ("http", "https"):
        raise _refused(f"scheme {parts.scheme!r} in {url!r}", "invalid")
    if parts.username is not None or parts.password is not None or "@" in parts.netloc:
        raise _refused(f"credentials in {url!r}", "invalid")
    host = (parts.hostname or "").rstrip(".").lower()
    if not host:
        raise _refused(f"no host in {url!r}", "invalid")
    port = port or (443 if parts.scheme == "https" else 80)
    addresses = _resolve(host, port)
    if not addresses:
        raise _failed(f"{host}: no address", "unresolved")
    for address in addresses:
        if not is_allowed(address, host):
            raise _refused(f"{host} resolves to {address}, a non-public address", "blocked")
    path = parts.path or "/"
    if parts.query:
        path += "?" + parts.query
    return Target(parts.scheme, host, port, path, str(addresses[0]))


def validate_url(url: str) -> None:
    """For forms and actions saving a URL to be fetched later: raise OutboundError if refused.

    Only the address rules are checked (a host that cannot be resolved now is refused too);
    nothing is sent.
    """
    check_url(url)


def is_allowed(address: IPAddress, host: str = "") -> bool:
    """Public addresses, and anything the operator listed in RENZHI_OUTBOUND_ALLOW."""
    return is_public(address) or _listed(address, host)


def is_public(address: IPAddress) -> bool:
    """True only for globally routable unicast addresses (IPv4 inside IPv6 is unwrapped)."""
    if isinstance(address, ipaddress.IPv6Address):
        embedded = _embedded_ipv4(address)
        if embedded is not None:
            return is_public(embedded)
    if (
        address.is_loopback
        or address.is_private
        or address.is_link_local
        or address.is_multicast
        or address.is_reserved
        or address.is_unspecified
        or address in _CGNAT
    ):
        return False
    return address.is_global


def parse_address(text: str) -> IPAddress | None:
    """An IP address written any way a resolver accepts: dotted, decimal, octal, hex, IPv6."""
    text = text.strip("[]")
    try:
        return ipaddress.ip_address(text)
    except ValueError:
        pass
    try:  # inet_aton accepts 2130706433, 0177.0.0.1, 0x7f.1 … as glibc's resolver does
        return ipaddress.IPv4Address(socket.inet_aton(text))
    except OSError:
        return None


def fetch_failed_message():
    """The one sentence a user sees when a fetch failed, whatever the cause."""
    return _("Could not fetch this address.")


# --- helpers --------------------------------------------------------------------------------


def _resolve(host: str, port: int) -> list[IPAddress]:
    literal = parse_address(host)
    if literal is not None:
        return [literal]
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (OSError, UnicodeError) as exc:
        raise _failed(f"{host}: cannot resolve: {exc}", "unresolved") from exc
    found: list[IPAddress] = []
    for _family, _type, _proto, _name, sockaddr in infos:
        address = ipaddress.ip_address(str(sockaddr[0]).split("%")[0])
        if address not in found:
            found.append(address)
    return found


def _embedded_ipv4(address: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    if address.ipv4_mapped is not None:
        return address.ipv4_mapped
    if address in _NAT64:
        return ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
    if address.sixtofour is not None:
        return address.sixtofour
    if address.teredo is not None:
        return address.teredo[1]
    return None


def _listed(address: IPAddress, host: str) -> bool:
    for entry in _setting("RENZHI_OUTBOUND_ALLOW", []) or []:
        entry = str(entry).strip().lower()
        if not entry:
            continue
        try:
            network = ipaddress.ip_network(entry, strict=False)
        except ValueError:
            if host and host == entry.rstrip("."):
                return True
            continue
        if address.version == network.version and address in network:
            return True
    return False


class _PinnedHTTPConnection(http.client.HTTPConnection):
    """Sends Host: <name> but connects to the address that was checked."""

    def __init__(self, host: str, port: int, address: str, timeout: float) -> None:
        super().__init__(host, port, timeout=timeout)
        self._address = address

    def connect(self) -> None:
        self.sock = _open_socket(self._address, self.port, self.timeout)


class _PinnedHTTPSConnection(http.client.HTTPSConnection):
    """TLS to the checked address, with SNI and certificate checked against the name."""

    def __init__(self, host: str, port: int, address: str, timeout: float) -> None:
        super().__init__(host, port, timeout=timeout, context=ssl.create_default_context())
        self._address = address

    def connect(self) -> None:
        sock = _open_socket(self._address, self.port, self.timeout)
        self.sock = self._context.wrap_socket(sock, server_hostname=self.host)  # type: ignore[attr-defined]


def _open_socket(address: str, port: int, timeout: float | None) -> socket.socket:
    """A TCP connection to the literal address: no name lookup can happen here."""
    family = socket.AF_INET6 if ipaddress.ip_address(address).version == 6 else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.settimeout(timeout)
    try:
        sock.connect((address, port))
    except OSError:
        sock.close()
        raise
    return sock


def _connection(target: Target, timeout: float) -> http.client.HTTPConnection:
    cls = _PinnedHTTPSConnection if target.scheme == "https" else _PinnedHTTPConnection
    return cls(target.host, target.port, target.address, timeout)


def _read(raw: http.client.HTTPResponse, cap: int, deadline: float, target: Target) -> bytes:
    chunks: list[bytes] = []
    size = 0
    while True:
        if time.monotonic() > deadline:
            raise _failed(f"{target.host}: response took too long", "timeout")
        chunk = raw.read(min(65536, cap + 1 - size))
        if not chunk:
            return b"".join(chunks)
        chunks.append(chunk)
        size += len(chunk)
        if size > cap:
            raise _failed(f"{target.host}: response larger than {cap} bytes", "too_large")


def _refused(reason: str, code: str) -> OutboundError:
    log.warning("outbound request refused: %s", reason)
    if code == "invalid":
        message = _("Enter a valid http(s) address without a user name or password.")
    else:
        message = _("This address may not be used: it is not a public internet address.")
    return OutboundError(message, reason, code=code)


def _failed(reason: str, code: str = "failed") -> OutboundError:
    log.warning("outbound request failed: %s", reason)
    return OutboundError(fetch_failed_message(), reason, code=code)


def _setting(name: str, default):
    return getattr(settings, name, default)
