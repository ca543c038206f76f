from __future__ import annotations

import ipaddress

import pytest

from comfy_gateway.net.address_guard import (
    AddressPolicy,
    AddressRefused,
    check_address,
    embedded_ipv4,
    is_public_address,
)

REFUSED = [
    "127.0.0.1",
    "127.9.9.9",
    "10.0.0.1",
    "172.16.5.4",
    "192.168.1.1",
    "169.254.169.254",  # cloud metadata
    "100.64.0.1",  # CGNAT
    "0.0.0.0",
    "0.1.2.3",
    "224.0.0.1",
    "255.255.255.255",
    "::1",
    "::",
    "fe80::1",
    "fc00::1",
    "fd00:ec2::254",  # AWS metadata over IPv6
    "ff02::1",
    "::ffff:127.0.0.1",  # IPv4-mapped
    "::ffff:10.0.0.1",
    "::ffff:169.254.169.254",
    "::127.0.0.1",  # IPv4-compatible
    "2002:7f00:1::",  # 6to4 around 127.0.0.1
    "64:ff9b::a00:1",  # NAT64 around 10.0.0.1
]
ALLOWED = ["93.184.215.14", "1.1.1.1", "2606:4700:4700::1111", "::ffff:1.1.1.1"]


@pytest.mark.parametrize("text", REFUSED)
def test_non_public_addresses_are_refused(text: str) -> None:
    address = ipaddress.ip_address(text)
    assert not is_public_address(address)
    with pytest.raises(AddressRefused, match="non-public"):
        check_address(address, AddressPolicy())


@pytest.mark.parametrize("text", ALLOWED)
def test_public_addresses_pass(text: str) -> None:
    check_address(ipaddress.ip_address(text), AddressPolicy())


def test_allow_list_admits_networks_and_names_it_lists() -> None:
    policy = AddressPolicy.from_entries(["127.0.0.0/8", "media.internal.", " "])
    check_address(ipaddress.ip_address("127.0.0.1"), policy)
    assert policy.host_is_allowed("MEDIA.internal")
    assert not policy.host_is_allowed("other.internal")
    with pytest.raises(AddressRefused):
        check_address(ipaddress.ip_address("10.0.0.1"), policy)


def test_embedded_ipv4_unwraps_every_form() -> None:
    assert embedded_ipv4(ipaddress.ip_address("::ffff:10.1.2.3")) == ipaddress.ip_address(
        "10.1.2.3"
    )
    assert embedded_ipv4(ipaddress.ip_address("64:ff9b::102:304")) == ipaddress.ip_address(
        "1.2.3.4"
    )
    assert embedded_ipv4(ipaddress.ip_address("2606:4700::1")) is None
