from django.conf import settings
from django.http import HttpRequest


def demo_receiver(request: HttpRequest) -> dict[str, bool]:
    """Whether the top bar links to the demo receiver: only when it exists."""
    return {"demo_receiver_enabled": settings.DEMO_RECEIVER_ENABLED}
