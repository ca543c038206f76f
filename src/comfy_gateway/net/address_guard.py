"""Which addresses a user-supplied URL may reach (pure, no I/O).

A URL given by a client (media to fetch, a webhook to call) must never reach this
machine, the private network around it or a cloud metadata service. Only globally
routable unicast addresses pass, after unwrapping the IPv6 forms that embed an IPv4
address (IPv4-mapped, IPv4-compatible, 6to4, NAT64), unless an operator allow-lists a
network or host name (local receivers in tests, an internal media server).
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable
from dataclasses import dataclass, field

from comfy_gateway.errors import GatewayError

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network

_SIX_TO_FOUR = ipaddress.IPv6Network("2002::/16")
_NAT64 = ipaddress.IPv6Network("64:ff9b::/96")
_IPV4_COMPATIBLE = ipaddress.IPv6Network("::/96")
# Ranges `is_global` alone lets through on some Python versions.
_ALWAYS_REFUSED = (
    ipaddress.IPv4Network("100.64.0.0/10"),  # CGNAT
    ipaddress.IPv4Network("0.0.0.0/8"),
    ipaddress.IPv4Network("224.0.0.0/4"),  # multicast
    ipaddress.IPv4Network("240.0.0.0/4"),
    ipaddress.IPv6Network("fc00::/7"),
    ipaddress.IPv6Network("fe80::/10"),
    ipaddress.IPv6Network("ff00::/8"),
)


class FetchFailed(GatewayError):
    """A user-supplied URL could not be fetched (refused, unreachable, too large, bad)."""


class AddressRefused(FetchFailed):
    """A URL resolves to an address the guard does not allow."""


@dataclass(frozen=True, kw_only=True)
class AddressPolicy:
    """The allow-list: networks and exact host names that may be reached anyway."""

    allowed_networks: tuple[IPNetwork, ...] = ()
    allowed_hosts: frozenset[str] = field(default_factory=frozenset)

    @classmethod
    def from_entries(cls, entries: Iterable[str]) -> AddressPolicy:
        """Build from settings entries: each a CIDR/address or a host name."""
        networks: list[IPNetwork] = []
        hosts: set[str] = set()
        for raw in (entry.strip() for entry in entries):
            if not raw:
                continue
            try:
                networks.append(ipaddress.ip_network(raw, strict=False))
            except ValueError:
                hosts.add(raw.lower().rstrip("."))
        return cls(allowed_networks=tuple(networks), allowed_hosts=frozenset(hosts))

    def host_is_allowed(self, host: str) -> bool:
        return host.lower().rstrip(".") in self.allowed_hosts


def embedded_ipv4(address: IPAddress) -> ipaddress.IPv4Address | None:
    """The IPv4 address an IPv6 address carries (mapped, compatible, 6to4, NAT64)."""
    if isinstance(address, ipaddress.IPv4Address):
        return None
    if address.ipv4_mapped is not None:
        return address.ipv4_mapped
    if address.sixtofour is not None:
        return address.sixtofour
    if address in _NAT64 or (address in _IPV4_COMPATIBLE and int(address) > 1):
        return ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
    return None


def is_public_address(address: IPAddress) -> bool:
    """True for a globally routable unicast address (embedded IPv4 checked too)."""
    inner = embedded_ipv4(address)
    if inner is not None and not is_public_address(inner):
        return False
    if any(address in network for network in _ALWAYS_REFUSED if network.version == address.version):
        return False
    return address.is_global and not address.is_multicast


def check_address(address: IPAddress, policy: AddressPolicy) -> None:
    """Raise `AddressRefused` unless the address is public or allow-listed."""
    if any(address in net for net in policy.allowed_networks if net.version == address.version):
        return
    if not is_public_address(address):
        raise AddressRefused(
            f"refusing to connect to {address}: it is a loopback, private, link-local or "
            "otherwise non-public address (allow-list it if this is intended)"
        )


def parse_ip_literal(host: str) -> IPAddress | None:
    """The address if ``host`` is an IP literal (brackets allowed), else None."""
    try:
        return ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        return None
