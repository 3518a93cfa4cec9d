"""What makes a webhook URL acceptable, in words a person can act on."""

from urllib.parse import urlsplit

MAX_URL_LENGTH = 2048


def url_problem(value: str) -> str | None:
    """The reason `value` cannot be a webhook URL, or None when it can."""
    value = value.strip()
    if not value:
        return "Enter the URL of your webhook receiver."
    if len(value) > MAX_URL_LENGTH:
        return f"The URL is longer than {MAX_URL_LENGTH} characters."
    if any(ch.isspace() or ord(ch) < 32 for ch in value):
        return "The URL must not contain spaces or control characters."
    try:
        parts = urlsplit(value)
        port = parts.port
    except ValueError:
        return "The URL is not valid; check the host and port."
    if parts.scheme.lower() not in ("http", "https"):
        return "The URL must start with http:// or https://."
    if not parts.hostname:
        return "The URL has no host name."
    if port == 0:
        return "The URL's port must be between 1 and 65535."
    if parts.username or parts.password:
        return "The URL must not contain a user name or password."
    return None
