"""The one way a webhook delivery leaves this machine.

Every outbound POST (test connections and data alerts) goes through `send_signed`. It never
follows a redirect, never reads more than WEBHOOK_RESPONSE_MAX_BYTES of an answer, never takes
longer than WEBHOOK_DELIVERY_DEADLINE, and never connects to an address inside this network
unless WEBHOOK_ALLOWED_NETWORKS says so. Every failure comes back as one plain sentence.
"""

import ipaddress
import json
import socket
import ssl
import time
import uuid
from dataclasses import dataclass, field
from email.utils import parsedate_to_datetime
from typing import Any

import requests
from django.conf import settings
from django.utils import timezone
from requests.adapters import HTTPAdapter
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool
from urllib3.exceptions import (
    ConnectTimeoutError,
    DecodeError,
    NameResolutionError,
    NewConnectionError,
    ProtocolError,
    ReadTimeoutError,
)

from management_api.signing import sign

USER_AGENT = "AutoQL-Webhooks/1.0"

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address


def refusal_reason(address: str, allowed_networks: list[str]) -> str | None:
    """Why a delivery may not connect to `address`, or None when it may.

    Only public addresses are reachable by default: a webhook URL is typed in by a person, and
    must not become a way to reach this machine, its network or a cloud metadata service.
    """
    ip: IPAddress = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address):
        # ::ffff:127.0.0.1 and 6to4/Teredo forms reach the IPv4 address they carry.
        embedded = ip.ipv4_mapped or ip.sixtofour or (ip.teredo[1] if ip.teredo else None)
        if embedded is not None:
            ip = embedded
    if any(ip in ipaddress.ip_network(network.strip(), strict=False) for network in allowed_networks):
        return None
    if ip.is_global and not ip.is_multicast:
        return None
    return f"address {ip} is not allowed; add its network to WEBHOOK_ALLOWED_NETWORKS"


class AddressRefused(NewConnectionError):
    def __init__(self, conn: HTTPConnection, sentence: str) -> None:
        super().__init__(conn, sentence)
        self.sentence = sentence


class _CheckedAddressMixin:
    """Resolve the host once, check the address, and connect to exactly that address.

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
            reason = refusal_reason(sockaddr[0], settings.WEBHOOK_ALLOWED_NETWORKS)
            if reason is None:
                self._dns_host = sockaddr[0]
                return super()._new_conn()
            reasons.append(reason)
        raise AddressRefused(self, reasons[0])


class _CheckedHTTPConnection(_CheckedAddressMixin, HTTPConnection):
    pass


class _CheckedHTTPSConnection(_CheckedAddressMixin, HTTPSConnection):
    pass


class _CheckedHTTPConnectionPool(HTTPConnectionPool):
    ConnectionCls = _CheckedHTTPConnection


class _CheckedHTTPSConnectionPool(HTTPSConnectionPool):
    ConnectionCls = _CheckedHTTPSConnection


class _CheckedAdapter(HTTPAdapter):
    def init_poolmanager(self, *args, **kwargs) -> None:
        super().init_poolmanager(*args, **kwargs)
        self.poolmanager.pool_classes_by_scheme = {
            "http": _CheckedHTTPConnectionPool,
            "https": _CheckedHTTPSConnectionPool,
        }


def _new_session() -> requests.Session:
    session = requests.Session()
    session.trust_env = False  # no proxies from the environment: they would bypass the check
    adapter = _CheckedAdapter(max_retries=0)
    session.mount("http://", adapter)
    session.mount("https://", adapter)
    return session


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


def send_signed(url: str, secret: str, event: str, body: bytes, delivery_id: uuid.UUID) -> DeliveryResult:
    """POST one signed delivery and describe what happened. Never raises for network faults."""
    timestamp = str(int(time.time() * 1000))
    headers = {
        "Content-Type": "application/json",
        "User-Agent": USER_AGENT,
        "AutoQL-Timestamp": timestamp,
        "AutoQL-Signature": sign(secret, timestamp, body),
        "AutoQL-Event": event,
        "AutoQL-Delivery-Id": str(delivery_id),
    }
    deadline_s = settings.WEBHOOK_DELIVERY_DEADLINE
    started = time.monotonic()

    def result(**kwargs: Any) -> DeliveryResult:
        kwargs.setdefault("success", False)
        kwargs.setdefault("status_code", None)
        kwargs.setdefault("response", None)
        kwargs.setdefault("error", None)
        duration_ms = int((time.monotonic() - started) * 1000)
        return DeliveryResult(duration_ms=duration_ms, request_headers=headers, request_body=body.decode(), **kwargs)

    timed_out = f"timed out after {deadline_s:g} s"
    try:
        with _new_session() as session:
            response = session.post(
                url,
                data=body,
                headers=headers,
                allow_redirects=False,
                stream=True,
                timeout=(min(5.0, deadline_s), deadline_s),
            )
            with response:
                raw, cut = _read_capped(response, started + deadline_s)
    except _DeadlinePassed:
        return result(error=timed_out)
    except requests.exceptions.Timeout:
        return result(error=timed_out)
    except requests.exceptions.ConnectionError as e:
        return result(error=_connection_error_sentence(e, url))
    except requests.exceptions.RequestException as e:
        return result(error=f"the request could not be sent ({type(e).__name__})")
    except (ValueError, UnicodeError, OSError) as e:
        # A URL that parses but cannot be sent (an IDNA label too long, a bad port): say so, not crash.
        return result(error=f"the request could not be sent ({type(e).__name__})")

    code = response.status_code
    body_value = _decode_body(raw, cut)
    response_headers = dict(response.headers)
    common = dict(
        status_code=code,
        response=body_value,
        response_headers=response_headers,
        retry_after=_retry_after_seconds(response.headers.get("Retry-After")),
    )
    if 300 <= code < 400:
        location = response.headers.get("Location", "nowhere")
        return result(error=f"redirects are not followed ({code} to {location})", **common)
    if not 200 <= code < 300:
        return result(error=f"the receiver answered {code} {response.reason or ''}".strip(), **common)
    return result(success=True, **common)


class _DeadlinePassed(Exception):
    pass


def _read_capped(response: requests.Response, deadline: float) -> tuple[bytes, bool]:
    """Read at most the cap, giving up at the deadline even if the receiver trickles bytes."""
    cap = settings.WEBHOOK_RESPONSE_MAX_BYTES
    chunks: list[bytes] = []
    size = 0
    while size <= cap:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise _DeadlinePassed
        sock = getattr(response.raw.connection, "sock", None)
        if sock is not None:
            sock.settimeout(remaining)
        try:
            chunk = response.raw.read1(min(65536, cap + 1 - size), decode_content=True)
        except (TimeoutError, ReadTimeoutError) as e:
            raise _DeadlinePassed from e
        except (ProtocolError, DecodeError, OSError) as e:
            raise requests.exceptions.ConnectionError(e) from e
        if not chunk:
            break
        chunks.append(chunk)
        size += len(chunk)
    data = b"".join(chunks)
    return data[:cap], len(data) > cap


def _decode_body(raw: bytes, cut: bool) -> Any:
    text = raw.decode("utf-8", errors="replace")
    if not cut:
        try:
            return json.loads(text)
        except ValueError:
            pass
    if cut:
        text += f"\n[cut at {len(raw) // 1024} KiB]"
    return text


def _retry_after_seconds(value: str | None) -> float | None:
    if not value:
        return None
    if value.strip().isdigit():
        return float(value.strip())
    try:
        return max(0.0, (parsedate_to_datetime(value) - timezone.now()).total_seconds())
    except (TypeError, ValueError):
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
    return "the connection broke before the receiver answered"
