"""Sending one signed POST to a subscriber, safely.

The host is resolved at delivery time and every address it resolves to must be public (not private,
loopback, link-local, reserved or multicast; an IPv6 address carrying an IPv4 one is judged by the IPv4 one,
see ``address_allowed``); the connection then goes to that vetted address, so a DNS answer that changes
between the check and the connect cannot redirect it. Only HTTPS, no redirects
followed (``http.client`` never follows them). ``WEBHOOKS_ALLOW_INSECURE`` admits plain HTTP and
loopback addresses, for development and tests; private networks stay refused.
"""

from __future__ import annotations

import http.client
import ipaddress
import socket
import ssl
import threading
import time
from dataclasses import dataclass
from urllib.parse import urlsplit

from django.conf import settings


class RefusedURL(Exception):
    """The URL may not be called (scheme, address); a delivery failure, never sent."""


@dataclass(frozen=True)
class Answer:
    status_code: int | None
    latency_ms: int
    excerpt: str = ""
    error: str = ""

    @property
    def ok(self) -> bool:
        return self.status_code is not None and 200 <= self.status_code < 300 and not self.error


_IPV6_LOOPBACK = ipaddress.IPv6Address("::1")
_NAT64_WELL_KNOWN = ipaddress.IPv6Network("64:ff9b::/96")  # RFC 6052: 64:ff9b::a.b.c.d reaches a.b.c.d
# IPv6 forms that carry an IPv4 address and are refused whatever it is: Teredo (2001::/32; the relay reaches the
# client's NAT), NAT64 local-use (64:ff9b:1::/48, RFC 8215: any IPv4 behind a local translator), IPv4-compatible
# (::a.b.c.d, deprecated by RFC 4291) and IPv4-translated (::ffff:0:a.b.c.d, RFC 2765). Python already counts them
# non-global or reserved; named here so that a newer ``ipaddress`` table cannot open them.
_ALWAYS_REFUSED = (
    ipaddress.IPv6Network("2001::/32"),
    ipaddress.IPv6Network("64:ff9b:1::/48"),
    ipaddress.IPv6Network("::/96"),
    ipaddress.IPv6Network("::ffff:0:0:0/96"),
)


def _public(ip: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
    return (
        ip.is_global
        and not ip.is_multicast
        and not ip.is_reserved
        and not ip.is_link_local
        and not (ip.version == 6 and ip.is_site_local)  # fec0::/10, the deprecated private range
    )


def address_allowed(address: str, *, allow_loopback: bool) -> bool:
    """May a webhook be sent to ``address``? The one rule, for a URL's literal host and for every DNS answer.

    An IPv6 address that carries an IPv4 address is judged by that IPv4 address: IPv4-mapped (``::ffff:a.b.c.d``,
    the same address, so loopback follows ``allow_loopback``), 6to4 (``2002:AABB:CCDD::/48``) and NAT64
    (``64:ff9b::a.b.c.d``), which reach the IPv4 host through a relay or translator: it must be public, loopback
    included (the development allowance is for 127.0.0.1 and ::1 themselves). The other embedding forms are
    refused (``_ALWAYS_REFUSED``). Anything else: loopback if allowed, otherwise only public unicast.
    """
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if ip.version == 6:
        if ip.ipv4_mapped is not None:
            ip = ip.ipv4_mapped
        elif (carried := _carried_ipv4(ip)) is not None:
            return _public(carried)
        elif ip != _IPV6_LOOPBACK and any(ip in net for net in _ALWAYS_REFUSED):
            return False
    if ip.is_loopback:
        return allow_loopback
    return _public(ip)


_address_allowed = address_allowed  # the former name


def _carried_ipv4(ip: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    """The IPv4 address a 6to4 or NAT64 (well-known prefix) address leads to; None for any other address."""
    if ip.sixtofour is not None:
        return ip.sixtofour
    if ip in _NAT64_WELL_KNOWN:
        return ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
    return None


def _shown(address: str) -> str:
    """``address`` for a refusal message, with the IPv4 address it leads to when it carries one."""
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    carried = None
    if ip.version == 6:
        carried = ip.ipv4_mapped if ip.ipv4_mapped is not None else _carried_ipv4(ip)
    return f"{address}, which leads to {carried}" if carried is not None else address


def check_url(url: str, *, allow_insecure: bool | None = None) -> tuple[str, str, int, str, str]:
    """(scheme, host, port, path+query, vetted address), or RefusedURL."""
    allow_insecure = settings.WEBHOOKS_ALLOW_INSECURE if allow_insecure is None else allow_insecure
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    if scheme != "https" and not (allow_insecure and scheme == "http"):
        raise RefusedURL(f"Only https URLs are allowed, not {scheme or 'no scheme'}")
    host = parts.hostname
    if not host:
        raise RefusedURL("The URL has no host")
    if parts.username or parts.password:
        raise RefusedURL("Credentials in the URL are not allowed")
    try:
        port = parts.port or (443 if scheme == "https" else 80)
    except ValueError as exc:
        raise RefusedURL("Invalid port") from exc
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except socket.gaierror as exc:
        raise RefusedURL(f"Cannot resolve {host}: {exc}") from exc
    addresses = list(dict.fromkeys(info[4][0] for info in infos))
    if not addresses:
        raise RefusedURL(f"{host} resolves to no address")
    refused = [a for a in addresses if not address_allowed(a, allow_loopback=allow_insecure)]
    if refused:
        raise RefusedURL(f"{host} resolves to a private, loopback or link-local address ({_shown(refused[0])})")
    path = parts.path or "/"
    if parts.query:
        path += "?" + parts.query
    return scheme, host, port, path, addresses[0]


class _PinnedHTTP(http.client.HTTPConnection):
    def __init__(self, host, port, *, address, timeout):
        super().__init__(host, port, timeout=timeout)
        self._address = address

    def connect(self):
        self.sock = self.raw_sock = socket.create_connection((self._address, self.port), self.timeout)


class _PinnedHTTPS(http.client.HTTPSConnection):
    def __init__(self, host, port, *, address, timeout):
        super().__init__(host, port, timeout=timeout, context=ssl.create_default_context())
        self._address = address

    def connect(self):
        sock = self.raw_sock = socket.create_connection((self._address, self.port), self.timeout)
        self.sock = self._context.wrap_socket(sock, server_hostname=self.host)


def _abort(conn) -> None:
    conn.aborted = True
    # The TCP socket itself: http.client hands a closing response the stream and drops ``conn.sock``.
    sock = getattr(conn, "raw_sock", None)
    if sock is not None:
        try:
            sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass


def post(url: str, *, body: bytes, headers: dict[str, str], timeout: float | None = None) -> Answer:
    """POST ``body``; a 2xx answer within ``timeout`` seconds is a delivery. Never raises for the network."""
    timeout = settings.WEBHOOKS_TIMEOUT_SECONDS if timeout is None else timeout
    limit = settings.WEBHOOKS_RESPONSE_EXCERPT
    started = time.monotonic()

    def elapsed_ms() -> int:
        return int((time.monotonic() - started) * 1000)

    try:
        scheme, host, port, path, address = check_url(url)
    except RefusedURL as exc:
        return Answer(None, elapsed_ms(), error=f"Refused: {exc}"[:300])
    conn_class = _PinnedHTTPS if scheme == "https" else _PinnedHTTP
    conn = conn_class(host, port, address=address, timeout=timeout)
    # The socket timeout bounds each read; this bounds the whole exchange (a receiver that drips bytes).
    watchdog = threading.Timer(timeout, _abort, args=(conn,))
    watchdog.daemon = True
    watchdog.start()
    try:
        conn.request("POST", path, body=body, headers={"Content-Type": "application/json", **headers})
        response = conn.getresponse()
        excerpt = response.read(limit).decode("utf-8", "replace")
        status = response.status
    except (OSError, http.client.HTTPException) as exc:
        latency = elapsed_ms()
        # The socket's own timeout and the watchdog both fire at the limit; either one is the same failure.
        if getattr(conn, "aborted", False) or isinstance(exc, TimeoutError):
            return Answer(None, latency, error=f"No complete answer within {int(timeout * 1000)} ms")
        return Answer(None, latency, error=f"{type(exc).__name__}: {exc}"[:300])
    finally:
        watchdog.cancel()
        conn.close()
    latency = elapsed_ms()
    if getattr(conn, "aborted", False):  # cut off: what was read is not the whole answer
        return Answer(status, latency, excerpt, error=f"No complete answer within {int(timeout * 1000)} ms")
    if latency > timeout * 1000:
        return Answer(status, latency, excerpt, error=f"Answered after {latency} ms (limit {int(timeout * 1000)} ms)")
    if 300 <= status < 400:
        return Answer(status, latency, excerpt, error="Redirects are not followed")
    return Answer(status, latency, excerpt)
