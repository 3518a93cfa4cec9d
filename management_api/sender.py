"""The one way a webhook delivery leaves this machine.

Every outbound POST (test connections and data alerts) goes through `send_signed`. It never
follows a redirect, never reads more than WEBHOOK_RESPONSE_MAX_BYTES of an answer, never takes
longer than WEBHOOK_DELIVERY_DEADLINE, and never connects to an address inside this network
unless WEBHOOK_ALLOWED_NETWORKS says so. Every failure comes back as one plain sentence.

Queued deliveries keep one connection per receiver (scheme, host and port) open between attempts;
it was checked when it was opened, and it is closed after any attempt that did not succeed.
Test connections always open a new one.
"""

import http.client
import ipaddress
import json
import logging
import math
import re
import socket
import ssl
import threading
import time
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from email.utils import parsedate_to_datetime
from typing import Any

import requests
from django.conf import settings
from django.utils import timezone
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool
from urllib3.exceptions import (
    ConnectTimeoutError,
    NameResolutionError,
    NewConnectionError,
    ProtocolError,
    ReadTimeoutError,
)

from management_api.signing import sign
from portal import outbound_http

USER_AGENT = "AutoQL-Webhooks/1.0"
# What a requests.Session adds to every request (signed_headers sets the User-Agent).
_DEFAULT_HEADERS = {"Accept-Encoding": "gzip, deflate", "Accept": "*/*", "Connection": "keep-alive"}

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network

logger = logging.getLogger(__name__)

# Networks a delivery never reaches unless WEBHOOK_ALLOWED_NETWORKS lists them: IANA's IPv4 and
# IPv6 special-purpose registries, spelled out so that the answer does not change with the Python
# patch level (`is_global` has changed its mind about several of these).
REFUSED_NETWORKS: tuple[IPNetwork, ...] = tuple(
    ipaddress.ip_network(network)
    for network in (
        "0.0.0.0/8",  # "this network"
        "10.0.0.0/8",  # private
        "100.64.0.0/10",  # carrier-grade NAT
        "127.0.0.0/8",  # loopback
        "169.254.0.0/16",  # link-local, cloud metadata services
        "172.16.0.0/12",  # private
        "192.0.0.0/24",  # IETF protocol assignments
        "192.0.2.0/24",  # documentation
        "192.31.196.0/24",  # AS112
        "192.52.193.0/24",  # AMT
        "192.88.99.0/24",  # 6to4 relay anycast
        "192.168.0.0/16",  # private
        "192.175.48.0/24",  # AS112 direct delegation
        "198.18.0.0/15",  # benchmarking
        "198.51.100.0/24",  # documentation
        "203.0.113.0/24",  # documentation
        "224.0.0.0/4",  # multicast
        "240.0.0.0/4",  # reserved, and 255.255.255.255 broadcast
        "::/64",  # unspecified, loopback, IPv4-compatible, IPv4-mapped and IPv4-translated forms
        "64:ff9b:1::/48",  # NAT64 for local use
        "100::/64",  # discard-only
        "2001::/23",  # IETF protocol assignments: Teredo, benchmarking, ORCHID
        "2001:db8::/32",  # documentation
        "3fff::/20",  # documentation
        "5f00::/16",  # segment routing
        "fc00::/7",  # unique local
        "fe80::/10",  # link-local
        "fec0::/10",  # site-local
        "ff00::/8",  # multicast
    )
)

# IPv6 prefixes whose last 32 bits are an IPv4 address that the packet ends up at.
_IPV4_IN_LAST_32_BITS = tuple(
    ipaddress.IPv6Network(network)
    for network in ("::ffff:0:0/96", "::ffff:0:0:0/96", "::/96", "64:ff9b::/96", "64:ff9b:1::/48")
)


def embedded_ipv4(ip: IPAddress) -> list[ipaddress.IPv4Address]:
    """The IPv4 addresses an IPv6 address carries (and so may reach); none for an IPv4 address."""
    if isinstance(ip, ipaddress.IPv4Address):
        return []
    found = [ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF) for net in _IPV4_IN_LAST_32_BITS if ip in net]
    if ip.sixtofour is not None:
        found.append(ip.sixtofour)
    if ip.teredo is not None:
        found.extend(ip.teredo)  # the Teredo server and the client it forwards to
    return found


def refusal_reason(address: str, allowed_networks: Sequence[IPNetwork]) -> str | None:
    """Why a delivery may not connect to `address`, or None when it may.

    Only public addresses are reachable by default: a webhook URL is typed in by a person, and
    must not become a way to reach this machine, its network or a cloud metadata service. The
    sentence is shown to the customer, so it names no setting of this server.
    """
    address = address.split("%", 1)[0]  # no IPv6 zone
    ip: IPAddress = ipaddress.ip_address(address)
    candidates: list[IPAddress] = [ip, *embedded_ipv4(ip)]
    if any(c in network for c in candidates for network in allowed_networks if c.version == network.version):
        return None
    if any(c in network for c in candidates for network in REFUSED_NETWORKS if c.version == network.version):
        return f"the address {address} is not reachable from AutoQL (private or reserved network)"
    return None


class AddressRefused(NewConnectionError):
    def __init__(self, conn: HTTPConnection, sentence: str) -> None:
        super().__init__(conn, sentence)
        self.sentence = sentence


class _CheckedAddressMixin(outbound_http.CuttableConnection):
    """Resolve the host once, check the address, and connect to exactly that address (whose socket
    the attempt's deadline can cut: outbound_http).

    Checking the address actually connected to (not a separate earlier lookup) means a host name
    that resolves to a public address first and a private one later gets nowhere.
    """

    def _new_conn(self) -> socket.socket:
        try:
            infos = socket.getaddrinfo(self._dns_host, self.port, type=socket.SOCK_STREAM)
        except socket.gaierror as e:
            raise NameResolutionError(self.host, self, e) from e
        reasons = []
        for *_, sockaddr in infos:
            reason = refusal_reason(str(sockaddr[0]), settings.WEBHOOK_ALLOWED_NETWORKS)
            if reason is None:
                self._dns_host = str(sockaddr[0])
                return super()._new_conn()
            reasons.append(reason)
        # The operator learns which setting opens it; the customer only reads the sentence.
        logger.warning(
            "Refused a webhook delivery to %s (%s); WEBHOOK_ALLOWED_NETWORKS can allow it", self.host, reasons[0]
        )
        raise AddressRefused(self, reasons[0])


class _CheckedHTTPConnection(_CheckedAddressMixin):
    pass


class _CheckedHTTPSConnection(_CheckedAddressMixin, HTTPSConnection):
    pass


class _CheckedHTTPConnectionPool(HTTPConnectionPool):
    ConnectionCls = _CheckedHTTPConnection


class _CheckedHTTPSConnectionPool(HTTPSConnectionPool):
    ConnectionCls = _CheckedHTTPSConnection


class _CheckedAdapter(outbound_http.CuttableAdapter):
    pool_classes = {"http": _CheckedHTTPConnectionPool, "https": _CheckedHTTPSConnectionPool}


def _new_session() -> requests.Session:
    session = requests.Session()
    session.trust_env = False  # no proxies from the environment: they would bypass the check
    # One kept-alive connection per receiver: a thread sends one attempt at a time.
    adapter = _CheckedAdapter(max_retries=0, pool_maxsize=1)
    session.mount("http://", adapter)
    session.mount("https://", adapter)
    return session


# The kept-alive connections of queued deliveries, one session per thread (requests.Session is
# not thread-safe); its pool manager keeps one pool per scheme, host and port.
_kept = threading.local()


def _kept_session() -> requests.Session:
    session = getattr(_kept, "session", None)
    if session is None:
        session = _kept.session = _new_session()
    return session


def close_kept_connections() -> None:
    """Close this thread's kept-alive connections; the next attempt opens (and checks) new ones."""
    session = getattr(_kept, "session", None)
    _kept.session = None
    if session is not None:
        session.close()


@dataclass
class DeliveryResult:
    success: bool
    status_code: int | None
    response: Any
    error: str | None
    duration_ms: int
    request_headers: dict[str, str]
    request_body: str
    response_headers: dict[str, str] = field(default_factory=dict)
    # Seconds the receiver asked us to wait (Retry-After), when it said so.
    retry_after: float | None = None


def build_body(event: str, payload: dict[str, Any]) -> bytes:
    return json.dumps({"event": event, "payload": payload}, separators=(",", ":")).encode()


def signed_headers(
    secret: str, event: str, body: bytes, delivery_id: uuid.UUID, at: datetime | None = None
) -> dict[str, str]:
    """The headers of one attempt, signed for the moment `at` (now by default): every attempt, sent
    or written into a seeded history, is signed here."""
    timestamp = str(int((at.timestamp() if at is not None else time.time()) * 1000))
    return {
        "Content-Type": "application/json",
        "User-Agent": USER_AGENT,
        "AutoQL-Timestamp": timestamp,
        "AutoQL-Signature": sign(secret, timestamp, body),
        "AutoQL-Event": event,
        "AutoQL-Delivery-Id": str(delivery_id),
    }


def send_signed(
    url: str, secret: str, event: str, body: bytes, delivery_id: uuid.UUID, *, keep_alive: bool = False
) -> DeliveryResult:
    """POST one signed delivery and describe what happened. Never raises, whatever the receiver does.

    With `keep_alive` the connection stays open for this thread's next attempt to the same
    receiver, as long as this one succeeded.
    """
    headers = signed_headers(secret, event, body, delivery_id)
    started = time.monotonic()
    try:
        return _send(url, headers, body, started, keep_alive)
    except Exception as e:
        if keep_alive:
            close_kept_connections()
        # Whatever slipped past the known faults is still one failed attempt, never a crash.
        logger.exception("Unexpected failure sending a webhook delivery to %s", url)
        return failed_result(headers, body, started, f"the delivery failed unexpectedly ({type(e).__name__})")


def failed_result(headers: dict[str, str], body: bytes, started: float, error: str) -> DeliveryResult:
    return DeliveryResult(
        success=False,
        status_code=None,
        response=None,
        error=error,
        duration_ms=int((time.monotonic() - started) * 1000),
        request_headers=headers,
        request_body=body.decode(),
    )


def _send(url: str, headers: dict[str, str], body: bytes, started: float, keep_alive: bool) -> DeliveryResult:
    deadline_s = settings.WEBHOOK_DELIVERY_DEADLINE
    timed_out = f"timed out after {deadline_s:g} s"

    def result(**kwargs: Any) -> DeliveryResult:
        kwargs.setdefault("success", False)
        kwargs.setdefault("status_code", None)
        kwargs.setdefault("response", None)
        kwargs.setdefault("error", None)
        duration_ms = int((time.monotonic() - started) * 1000)
        return DeliveryResult(duration_ms=duration_ms, request_headers=headers, request_body=body.decode(), **kwargs)

    session = _kept_session() if keep_alive else _new_session()
    # Whatever goes wrong below, the connection is closed with the session: only an attempt that
    # succeeded leaves it open for the next one (`keep` is set at the very end).
    keep = False
    try:
        with outbound_http.deadline(started + deadline_s) as fired:
            try:
                # Prepared without the session's merging (cookies, netrc, environment): Session.post
                # spends more on that than the rest of an attempt to a receiver that answers at once.
                # https://requests.readthedocs.io/en/latest/user/advanced/#prepared-requests
                prepared = requests.Request("POST", url, data=body, headers={**_DEFAULT_HEADERS, **headers}).prepare()
                response = outbound_http.send_once(session, prepared, timeout=(min(5.0, deadline_s), deadline_s))
                # Read to the end, the body puts its connection back in the pool; a cut one is closed.
                with response:
                    raw, cut = _read_capped(response, started + deadline_s)
                    code = response.status_code
                    reason = response.reason
                    response_headers = response.headers
                if fired.is_set():
                    # Cut while reading: what came before the cut may look like a whole answer.
                    return result(error=timed_out)
                keep = keep_alive and not cut and 200 <= code < 300
            except outbound_http.DeadlinePassed:
                return result(error=timed_out)
            except outbound_http.UndecodableBody:
                return result(error="the receiver's answer could not be decompressed (bad Content-Encoding)")
            except requests.exceptions.Timeout:
                return result(error=timed_out)
            except requests.exceptions.ConnectionError as e:
                if fired.is_set():
                    return result(error=timed_out)
                return result(error=_connection_error_sentence(e, url))
            except requests.exceptions.RequestException as e:
                return result(error=f"the request could not be sent ({type(e).__name__})")
            except (ValueError, UnicodeError, OSError) as e:
                # A URL that parses but cannot be sent (an IDNA label too long, a bad port): say so, not crash.
                return result(error=f"the request could not be sent ({type(e).__name__})")
    finally:
        if not keep or fired.is_set():
            if keep_alive:
                close_kept_connections()
            else:
                session.close()

    common: dict[str, Any] = dict(
        status_code=code,
        response=_decode_body(raw, cut),
        response_headers=_bounded_headers(response_headers),
        retry_after=retry_after_seconds(response_headers.get("Retry-After")),
    )
    if 300 <= code < 400:
        location = _plain(response_headers.get("Location") or "nowhere", 200)
        return result(error=f"redirects are not followed ({code} to {location})", **common)
    if not 200 <= code < 300:
        return result(error=f"the receiver answered {code} {_plain(_reason_text(reason), 100)}".strip(), **common)
    return result(success=True, **common)


def _read_capped(response: requests.Response, deadline: float) -> tuple[bytes, bool]:
    """At most WEBHOOK_RESPONSE_MAX_BYTES of the answer (outbound_http.read_capped); a broken
    connection is requests' ConnectionError, as it would be while sending."""
    try:
        return outbound_http.read_capped(response.raw, settings.WEBHOOK_RESPONSE_MAX_BYTES, deadline)
    except (ProtocolError, OSError) as e:
        raise requests.exceptions.ConnectionError(e) from e


# Deeper than this, a JSON answer is kept as text: nothing a receiver says needs more, and very
# deep documents break parsers and databases alike.
MAX_JSON_DEPTH = 32
# JSON escapes that PostgreSQL's jsonb refuses (NUL, lone surrogates): such answers are kept as text.
_UNSTORABLE_JSON_ESCAPE = re.compile(r"\\u(0000|d[89a-f][0-9a-f]{2})", re.IGNORECASE)


def _decode_body(raw: bytes, cut: bool) -> Any:
    """A receiver's answer as it is stored: parsed JSON only when every database stores it as it
    is, otherwise the text (bytes that are not UTF-8 become U+FFFD, NUL too: PostgreSQL's text
    columns refuse it)."""
    text = raw.decode("utf-8", errors="replace").replace("\x00", "\ufffd")
    if not cut:
        parsed = strict_json(text)
        if parsed is not NOT_JSON:
            return parsed
    if cut:
        text += f"\n[cut at {len(raw) // 1024} KiB]"
    return text


NOT_JSON = object()
# Integers longer than this are kept as text: Python refuses past 4,300 digits anyway, and no
# receiver means a number that long.
MAX_JSON_INTEGER_DIGITS = 100


def _refuse(literal: str) -> Any:
    raise ValueError(f"not JSON: {literal}")


def _finite_float(literal: str) -> float:
    value = float(literal)
    if not math.isfinite(value):  # 1e999 parses as infinity, which no JSON column stores
        raise ValueError(f"not a finite number: {literal[:20]}")
    return value


def _bounded_int(literal: str) -> int:
    if len(literal.lstrip("-")) > MAX_JSON_INTEGER_DIGITS:
        raise ValueError("an integer too long")
    return int(literal)


def strict_json(text: str) -> Any:
    """`text` parsed as strict JSON (RFC 8259) that SQLite's and PostgreSQL's JSON columns both
    store and give back unchanged, or NOT_JSON.

    Python's json module also takes NaN, Infinity and -Infinity, and turns 1e999 into infinity;
    PostgreSQL refuses those, SQLite's JSON check too, and so would the log row. NUL and lone
    surrogates (jsonb refuses them) and deep nesting (parsers and databases break on it) are
    refused before parsing.
    """
    if not _json_depth_at_most(text, MAX_JSON_DEPTH) or _UNSTORABLE_JSON_ESCAPE.search(text):
        return NOT_JSON
    try:
        return json.loads(text, parse_constant=_refuse, parse_float=_finite_float, parse_int=_bounded_int)
    except (ValueError, RecursionError):
        return NOT_JSON


def _json_depth_at_most(text: str, limit: int) -> bool:
    """Whether brackets (outside strings) nest no deeper than `limit`, without parsing."""
    depth = 0
    in_string = escaped = False
    for char in text:
        if in_string:
            if escaped:
                escaped = False
            elif char == "\\":
                escaped = True
            elif char == '"':
                in_string = False
        elif char == '"':
            in_string = True
        elif char in "[{":
            depth += 1
            if depth > limit:
                return False
        elif char in "]}":
            depth -= 1
    return True


# What is kept of a receiver's headers for the logs.
MAX_HEADERS = 50
MAX_HEADER_NAME = 100
MAX_HEADER_VALUE = 1000


def _bounded_headers(headers: Any) -> dict[str, str]:
    kept: dict[str, str] = {}
    for name, value in list(headers.items())[:MAX_HEADERS]:
        kept[_plain(str(name), MAX_HEADER_NAME)] = _plain(str(value), MAX_HEADER_VALUE)
    return kept


def _plain(text: str, limit: int) -> str:
    """Text from a receiver, safe to store and show: no control characters, at most `limit` long."""
    cleaned = text if text.isprintable() else "".join(c if c.isprintable() else " " for c in text)
    return cleaned if len(cleaned) <= limit else cleaned[: limit - 1] + "…"


def _reason_text(reason: Any) -> str:
    if isinstance(reason, bytes):
        return reason.decode("utf-8", errors="replace")
    return str(reason or "")


_DELAY_SECONDS = re.compile(r"[0-9]{1,10}")


def retry_after_seconds(value: str | None) -> float | None:
    """Seconds a Retry-After header asks for (delay-seconds or an HTTP date), None when it makes no sense."""
    if not value:
        return None
    value = value.strip()
    # ASCII digits only: str.isdigit() also accepts "²", which float() refuses.
    if _DELAY_SECONDS.fullmatch(value):
        return float(value)
    try:
        when = parsedate_to_datetime(value)
        if when.tzinfo is None:
            return None
        return max(0.0, (when - timezone.now()).total_seconds())
    except (TypeError, ValueError, IndexError, OverflowError):
        return None


def _causes(error: BaseException):
    """The error and everything it wraps (requests wraps urllib3, which wraps the socket error)."""
    seen: set[int] = set()
    pending: list[BaseException] = [error]
    while pending:
        current = pending.pop()
        if id(current) in seen:
            continue
        seen.add(id(current))
        yield current
        nested = [getattr(current, "reason", None), current.__cause__, current.__context__, *current.args]
        pending.extend(e for e in nested if isinstance(e, BaseException))


def _connection_error_sentence(error: Exception, url: str) -> str:
    for reason in _causes(error):
        if isinstance(reason, AddressRefused):
            return reason.sentence
        if isinstance(reason, NameResolutionError):
            return f"the host name of {url} could not be resolved"
        if isinstance(reason, ConnectionRefusedError):
            return "connection refused"
        # urllib3's NewConnectionError subclasses ConnectTimeoutError for old callers: not a timeout.
        timed_out = isinstance(reason, (TimeoutError, ConnectTimeoutError, ReadTimeoutError))
        if timed_out and not isinstance(reason, NewConnectionError):
            return f"timed out after {settings.WEBHOOK_DELIVERY_DEADLINE:g} s"
        if isinstance(reason, ssl.SSLError):
            return "the TLS handshake with the receiver failed (is its certificate valid?)"
        if isinstance(reason, http.client.LineTooLong):
            return "the receiver's answer had a line too long to read"
        if isinstance(reason, http.client.HTTPException) and "headers" in str(reason):
            return "the receiver's answer had too many headers"
        if isinstance(reason, http.client.RemoteDisconnected):
            break
        if isinstance(reason, http.client.BadStatusLine):
            return "the receiver's answer was not valid HTTP"
    return "the connection broke before the receiver answered"
