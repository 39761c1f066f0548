"""IPv6 addresses that carry an IPv4 address are judged by it, at subscription and at every delivery (issue 21, #10).

6to4 (2002::/16) and NAT64 (64:ff9b::/96) reach the IPv4 address they carry through a relay or a translator, so
that address must be public: ``https://[2002:7f00:1::]/`` is loopback and ``https://[2002:a9fe:a9fe::]/`` the cloud
metadata service, even with ``WEBHOOKS_ALLOW_INSECURE`` (which admits 127.0.0.1 and ::1 themselves, for
development). IPv4-mapped (::ffff:a.b.c.d) is the IPv4 address itself. Teredo, NAT64 local-use, IPv4-compatible
and IPv4-translated addresses are refused whatever they carry.
"""

import ipaddress
import socket
from unittest import mock

import pytest
from django.conf import settings

from issues.services import issue_create
from tests.factories import order_with_items
from tests.webhooks.conftest import drain
from webhooks import transport
from webhooks.models import Delivery, DeliveryAttempt, DeliveryStatus, Subscription

URL = "/api/v1/webhooks/"

LOOPBACK_6TO4 = "2002:7f00:1::"  # 127.0.0.1
METADATA_6TO4 = "2002:a9fe:a9fe::"  # 169.254.169.254
PRIVATE_10_6TO4 = "2002:a00:1::"  # 10.0.0.1
PRIVATE_192_6TO4 = "2002:c0a8:101::"  # 192.168.1.1
PUBLIC_6TO4 = "2002:808:808::"  # 8.8.8.8

WRAPPED_NON_PUBLIC = [LOOPBACK_6TO4, METADATA_6TO4, PRIVATE_10_6TO4, PRIVATE_192_6TO4]


def sixtofour(v4: str) -> str:
    return str(ipaddress.IPv6Address((0x2002 << 112) | (int(ipaddress.IPv4Address(v4)) << 80)))


def nat64(v4: str) -> str:
    return str(ipaddress.IPv6Address(int(ipaddress.IPv6Address("64:ff9b::")) | int(ipaddress.IPv4Address(v4))))


def mapped(v4: str) -> str:
    return f"::ffff:{v4}"


def teredo(server: str, client: str) -> str:
    """RFC 4380: 2001:0:<server>:<flags>:<port ^ 0xffff>:<client ^ 0xffffffff>."""
    value = (
        (0x20010000 << 96)
        | (int(ipaddress.IPv4Address(server)) << 64)
        | (0x8000 << 48)
        | ((443 ^ 0xFFFF) << 32)
        | (int(ipaddress.IPv4Address(client)) ^ 0xFFFFFFFF)
    )
    return str(ipaddress.IPv6Address(value))


# --------------------------------------------------------------------------- the deciding function

# (address, allowed without WEBHOOKS_ALLOW_INSECURE, allowed with it)
TABLE = [
    # plain addresses, as before
    ("8.8.8.8", True, True),
    ("2606:4700:4700::1111", True, True),
    ("127.0.0.1", False, True),
    ("127.8.9.10", False, True),
    ("::1", False, True),
    ("10.0.0.1", False, False),
    ("192.168.1.1", False, False),
    ("169.254.169.254", False, False),
    ("fd00::1", False, False),
    ("fe80::1", False, False),
    ("fe80::1%eth0", False, False),
    ("fec0::1", False, False),  # site-local, deprecated: Python counts it global
    ("ff02::1", False, False),
    ("::", False, False),
    # 6to4: judged by the IPv4 address carried in bits 16-47; loopback is never allowed through a relay
    (LOOPBACK_6TO4, False, False),
    ("2002:7f00:1:1:2:3:4:5", False, False),
    (METADATA_6TO4, False, False),
    (PRIVATE_10_6TO4, False, False),
    (PRIVATE_192_6TO4, False, False),
    ("2002:ac10:1::", False, False),  # 172.16.0.1
    ("2002:6440:1::", False, False),  # 100.64.0.1, shared address space
    ("2002::", False, False),  # 0.0.0.0
    ("2002:e000:1::", False, False),  # 224.0.0.1, multicast
    ("2002:ffff:ffff::", False, False),  # 255.255.255.255
    (PUBLIC_6TO4, True, True),
    ("2002:808:808:1:2:3:4:5", True, True),
    # NAT64 well-known prefix: judged by the last 32 bits
    ("64:ff9b::7f00:1", False, False),
    ("64:ff9b::a9fe:a9fe", False, False),
    ("64:ff9b::a00:1", False, False),
    ("64:ff9b::808:808", True, True),
    # NAT64 local-use prefix: whatever it carries
    ("64:ff9b:1::7f00:1", False, False),
    ("64:ff9b:1::808:808", False, False),
    # IPv4-mapped: the IPv4 address itself
    ("::ffff:127.0.0.1", False, True),
    ("::ffff:10.0.0.1", False, False),
    ("::ffff:169.254.169.254", False, False),
    ("::ffff:8.8.8.8", True, True),
    # IPv4-compatible (deprecated) and IPv4-translated: whatever they carry
    ("::127.0.0.1", False, False),
    ("::8.8.8.8", False, False),
    ("::ffff:0:7f00:1", False, False),
    ("::ffff:0:808:808", False, False),
    # Teredo: whatever its server and client are
    (teredo("65.54.227.120", "127.0.0.1"), False, False),
    (teredo("65.54.227.120", "169.254.169.254"), False, False),
    (teredo("10.0.0.1", "8.8.8.8"), False, False),
    (teredo("65.54.227.120", "8.8.8.8"), False, False),
]


@pytest.mark.parametrize(("address", "strict", "insecure"), TABLE)
def test_the_rule(address, strict, insecure):
    assert transport.address_allowed(address, allow_loopback=False) is strict
    assert transport.address_allowed(address, allow_loopback=True) is insecure


IPV4_SAMPLE = [
    "0.0.0.0",
    "0.1.2.3",
    "1.1.1.1",
    "8.8.8.8",
    "10.0.0.1",
    "100.64.0.1",
    "127.0.0.1",
    "127.255.255.254",
    "169.254.169.254",
    "172.16.0.1",
    "172.31.255.255",
    "172.32.0.1",
    "192.0.0.8",
    "192.0.2.1",
    "192.168.1.1",
    "198.18.0.1",
    "203.0.113.9",
    "224.0.0.1",
    "240.0.0.1",
    "255.255.255.255",
    "93.184.215.14",
]


@pytest.mark.parametrize("v4", IPV4_SAMPLE)
def test_6to4_and_nat64_follow_the_ipv4_address_they_carry(v4):
    assert ipaddress.IPv6Address(sixtofour(v4)).sixtofour == ipaddress.IPv4Address(v4)
    public = transport.address_allowed(v4, allow_loopback=False)
    for allow_loopback in (False, True):
        assert transport.address_allowed(sixtofour(v4), allow_loopback=allow_loopback) is public
        assert transport.address_allowed(nat64(v4), allow_loopback=allow_loopback) is public
        assert transport.address_allowed(mapped(v4), allow_loopback=allow_loopback) is transport.address_allowed(
            v4, allow_loopback=allow_loopback
        )


def test_check_url_names_the_ipv4_address_behind_a_6to4_host():
    with pytest.raises(transport.RefusedURL, match=r"2002:7f00:1::, which leads to 127\.0\.0\.1"):
        transport.check_url("https://[2002:7f00:1::]/hook", allow_insecure=True)


# --------------------------------------------------------------------------- at subscription


def subscribe_body(url):
    return {"url": url, "account": settings.DEFAULT_ACCOUNT_ID, "event_types": ["issue.created"]}


@pytest.mark.django_db
@pytest.mark.parametrize("insecure", [False, True], ids=["strict", "insecure"])
@pytest.mark.parametrize(
    "url",
    [
        "https://[2002:7f00:1::]/",
        "https://[2002:a9fe:a9fe::]/",
        "https://[2002:a00:1::]/hook",
        "https://[2002:c0a8:101::]:8443/hook",
        "https://[2002:7f00:1:ffff::1]/",
        "https://[64:ff9b::a9fe:a9fe]/latest/meta-data",
        "https://[64:ff9b::7f00:1]/",
    ],
)
def test_subscribing_to_a_wrapped_private_address_is_refused(api, manager, settings, url, insecure):
    settings.WEBHOOKS_ALLOW_INSECURE = insecure
    response = api(manager).post(URL, subscribe_body(url), format="json")
    assert response.status_code == 400, response.content
    payload = response.json()
    assert payload["success"] is False
    assert payload["error_code"] == "VALIDATION_ERROR"
    assert [e["field"] for e in payload["validation_errors"]] == ["url"]
    assert "private, loopback or link-local" in payload["validation_errors"][0]["error"]
    assert not Subscription.objects.exists()


@pytest.mark.django_db
@pytest.mark.parametrize("url", ["https://[2002:808:808::]/hook", "https://[64:ff9b::808:808]/hook"])
def test_subscribing_to_a_wrapped_public_address_is_accepted(api, manager, settings, url):
    settings.WEBHOOKS_ALLOW_INSECURE = False
    response = api(manager).post(URL, subscribe_body(url), format="json")
    assert response.status_code == 201, response.content
    assert Subscription.objects.get().url == url


@pytest.mark.django_db
def test_changing_the_url_to_a_wrapped_loopback_is_refused(api, manager, settings):
    settings.WEBHOOKS_ALLOW_INSECURE = False
    client = api(manager)
    sub_id = client.post(URL, subscribe_body("https://hooks.example.com/x"), format="json").json()["subscription_id"]
    response = client.patch(f"{URL}{sub_id}", {"url": "https://[2002:7f00:1::]/"}, format="json")
    assert response.status_code == 400, response.content
    assert [e["field"] for e in response.json()["validation_errors"]] == ["url"]
    assert Subscription.objects.get().url == "https://hooks.example.com/x"


@pytest.mark.django_db
def test_the_admin_refuses_a_wrapped_metadata_address(manager):
    from django.test import Client

    client = Client()
    client.force_login(manager)
    response = client.post(
        "/admin/webhooks/subscription/add/",
        {"url": "https://[2002:a9fe:a9fe::]/", "account": settings.DEFAULT_ACCOUNT_ID, "event_types": "[]"},
    )
    assert response.status_code == 200
    assert "private" in response.content.decode()
    assert not Subscription.objects.exists()


# --------------------------------------------------------------------------- at delivery


def new_issue(agent):
    order = order_with_items()
    issue_create(order_id=order.order_id, actor=agent, data={"issue_type": "wrong_item", "title": "Wrong item"})


def resolving_to(*addresses):
    """A stand-in for ``socket.getaddrinfo``: every name resolves to ``addresses``."""

    def entry(address, port):
        if ":" in address:
            return (socket.AF_INET6, socket.SOCK_STREAM, 6, "", (address, port, 0, 0))
        return (socket.AF_INET, socket.SOCK_STREAM, 6, "", (address, port))

    def getaddrinfo(host, port, *args, **kwargs):
        return [entry(a, port) for a in addresses]

    return getaddrinfo


@pytest.mark.django_db
@pytest.mark.parametrize("insecure", [False, True], ids=["strict", "insecure"])
@pytest.mark.parametrize(
    "answer",
    [
        (LOOPBACK_6TO4,),
        (METADATA_6TO4,),
        (PRIVATE_10_6TO4,),
        (PRIVATE_192_6TO4,),
        ("64:ff9b::7f00:1",),
        ("93.184.215.14", LOOPBACK_6TO4),  # every address must pass, not only the first
    ],
)
def test_a_name_resolving_to_a_wrapped_private_address_is_refused_at_delivery(
    agent, monkeypatch, settings, answer, insecure
):
    settings.WEBHOOKS_ALLOW_INSECURE = insecure
    sub = Subscription.objects.create(url="https://hooks.example.com/x", account=settings.DEFAULT_ACCOUNT_ID)
    new_issue(agent)
    monkeypatch.setattr(transport.socket, "getaddrinfo", resolving_to(*answer))
    with mock.patch.object(transport.socket, "create_connection") as connect:
        drain()
    connect.assert_not_called()
    attempt = DeliveryAttempt.objects.get(delivery__subscription=sub)
    assert attempt.status_code is None
    assert attempt.succeeded is False
    assert attempt.error.startswith("Refused: hooks.example.com resolves to a private, loopback or link-local")
    wrapped = answer[-1]
    assert f"{wrapped}, which leads to {transport._carried_ipv4(ipaddress.IPv6Address(wrapped))}" in attempt.error
    assert Delivery.objects.get(subscription=sub).status != DeliveryStatus.DELIVERED


@pytest.mark.django_db
@pytest.mark.parametrize("url", ["https://[2002:7f00:1::]/hook", "http://[2002:a9fe:a9fe::]/latest/meta-data"])
def test_a_stored_wrapped_literal_is_refused_at_delivery(agent, settings, url):
    """A subscription saved before the rule (or written around it) is still never called."""
    sub = Subscription.objects.create(url=url, account=settings.DEFAULT_ACCOUNT_ID)
    new_issue(agent)
    with mock.patch.object(transport.socket, "create_connection") as connect:
        drain()
    connect.assert_not_called()
    attempt = DeliveryAttempt.objects.get(delivery__subscription=sub)
    assert attempt.status_code is None
    assert attempt.error.startswith("Refused:")


@pytest.mark.django_db
def test_a_name_resolving_to_a_wrapped_public_address_is_called_on_that_address(agent, monkeypatch, settings):
    settings.WEBHOOKS_ALLOW_INSECURE = False
    sub = Subscription.objects.create(url="https://hooks.example.com/x", account=settings.DEFAULT_ACCOUNT_ID)
    new_issue(agent)
    monkeypatch.setattr(transport.socket, "getaddrinfo", resolving_to(PUBLIC_6TO4))
    with mock.patch.object(transport.socket, "create_connection", side_effect=OSError("no route")) as connect:
        drain()
    assert connect.call_args.args[0] == (PUBLIC_6TO4, 443)
    attempt = DeliveryAttempt.objects.get(delivery__subscription=sub)
    assert attempt.error == "OSError: no route"
