"""AutoQL's webhook signature, as receivers verify it.

Source: AutoQL's "Verify Webhooks" page and its sample backend: the signature is the base64
HMAC-SHA256 of `timestamp + "." + raw body` keyed with the webhook secret, and receivers reject a
timestamp older than five minutes.
"""

import base64
import hashlib
import hmac
import time

MAX_AGE_MS = 5 * 60 * 1000


def sign(secret: str, timestamp_ms: str, body: bytes) -> str:
    message = timestamp_ms.encode() + b"." + body
    digest = hmac.new(secret.encode(), message, hashlib.sha256).digest()
    return base64.b64encode(digest).decode()


def verify(secret: str, timestamp_ms: str, signature: str, body: bytes, now_ms: int | None = None) -> str | None:
    """Why a delivery fails verification, or None when it passes."""
    if not timestamp_ms.isdigit():
        return "AutoQL-Timestamp is missing or not a number"
    now_ms = int(time.time() * 1000) if now_ms is None else now_ms
    if abs(now_ms - int(timestamp_ms)) > MAX_AGE_MS:
        return "AutoQL-Timestamp is more than 5 minutes away from now"
    if not hmac.compare_digest(sign(secret, timestamp_ms, body), signature or ""):
        return "AutoQL-Signature does not match"
    return None
