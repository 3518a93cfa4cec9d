"""The client's address: X-Forwarded-For believed only from TRUSTED_PROXIES, right to left."""

import ipaddress

import pytest
from django.test import RequestFactory

from portal.addresses import client_address


def request_from(remote_addr: str, forwarded_for: str | None = None):
    request = RequestFactory().get("/", REMOTE_ADDR=remote_addr)
    if forwarded_for is not None:
        request.META["HTTP_X_FORWARDED_FOR"] = forwarded_for
    return request


@pytest.fixture
def behind_proxies(settings):
    settings.TRUSTED_PROXIES = [ipaddress.ip_network("10.0.0.0/24"), ipaddress.ip_network("fd00::/8")]


def test_without_trusted_proxies_the_header_is_never_read(settings):
    settings.TRUSTED_PROXIES = []
    assert client_address(request_from("198.51.100.4", "192.0.2.1")) == "198.51.100.4"


def test_a_request_not_from_a_trusted_proxy_names_itself(behind_proxies):
    # Anyone can write the header; only a trusted proxy's word counts.
    assert client_address(request_from("198.51.100.4", "192.0.2.1")) == "198.51.100.4"


def test_behind_a_trusted_proxy_the_client_is_the_entry_it_appended(behind_proxies):
    # The client wrote the first entry itself; the proxy appended the second.
    assert client_address(request_from("10.0.0.2", "192.0.2.1, 198.51.100.9")) == "198.51.100.9"
    assert client_address(request_from("10.0.0.2", "2001:db8::1")) == "2001:db8::1"


def test_a_chain_of_trusted_proxies_is_walked_to_the_first_untrusted_address(behind_proxies):
    assert client_address(request_from("10.0.0.2", "203.0.113.7, 198.51.100.9, 10.0.0.5, fd00::9")) == "198.51.100.9"


def test_a_chain_of_trusted_proxies_only_names_the_farthest_proxy(behind_proxies):
    assert client_address(request_from("10.0.0.2", "10.0.0.7, 10.0.0.5")) == "10.0.0.7"


def test_a_missing_or_broken_header_falls_back_to_the_proxy(behind_proxies):
    assert client_address(request_from("10.0.0.2")) == "10.0.0.2"
    assert client_address(request_from("10.0.0.2", "not-an-address")) == "10.0.0.2"
    # Broken to the left of a good entry: the good entry is the client.
    assert client_address(request_from("10.0.0.2", "garbage, 198.51.100.9")) == "198.51.100.9"


def test_an_ipv4_client_on_an_ipv6_socket_is_one_address(settings):
    settings.TRUSTED_PROXIES = []
    assert client_address(request_from("::ffff:198.51.100.4")) == "198.51.100.4"


def test_no_address_at_all_is_none():
    assert client_address(request_from("")) is None
