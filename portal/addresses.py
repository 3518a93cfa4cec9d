"""The client's address: one answer for the audit trail, the sign-in lockout and the rate limits.

Behind a proxy every request comes from the proxy's address, and the client's is in
X-Forwarded-For, which each proxy extends with the address it received the request from. Only
the proxies named in TRUSTED_PROXIES are believed: walking the header from its right end (the
entry the nearest proxy wrote), every trusted proxy is skipped and the first address that is not
one is the client. Whatever a client writes into the header itself sits to the left of that, so
it can name no one else. Without TRUSTED_PROXIES the header is never read.
"""

import ipaddress

from django.conf import settings
from django.http import HttpRequest

Address = ipaddress.IPv4Address | ipaddress.IPv6Address


def _address(text: str) -> Address | None:
    try:
        address = ipaddress.ip_address(text.strip())
    except ValueError:
        return None
    # An IPv4 client reaching an IPv6 socket arrives as ::ffff:a.b.c.d: one client, one spelling.
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return address.ipv4_mapped
    return address


def is_trusted_proxy(address: Address) -> bool:
    return any(address in network for network in settings.TRUSTED_PROXIES if address.version == network.version)


def client_address(request: HttpRequest) -> str | None:
    """The address of whoever sent `request`, as text, or None when the request names none."""
    client = _address(request.META.get("REMOTE_ADDR", ""))
    if client is None or not is_trusted_proxy(client):
        return str(client) if client is not None else None
    for entry in reversed(request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")):
        hop = _address(entry)
        if hop is None:
            break  # nothing a trusted proxy wrote; what is left of it is the client's word
        client = hop
        if not is_trusted_proxy(hop):
            break
    return str(client)
