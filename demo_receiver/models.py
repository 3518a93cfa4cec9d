from django.db import models
from django.utils import timezone

from portal import environments


class DemoReceipt(models.Model):
    """What the built-in demo receiver got: one row per request, kept for the demo page."""

    environment = models.CharField(max_length=16, choices=environments.choices)
    delivery_id = models.CharField(max_length=64, blank=True, default="")
    event = models.CharField(max_length=100, blank=True, default="")
    verified = models.BooleanField(default=False)
    problem = models.TextField(blank=True, default="")
    headers = models.JSONField(default=dict)
    body = models.TextField(blank=True, default="")
    received_at = models.DateTimeField(default=timezone.now, db_index=True)

    def __str__(self) -> str:
        return f"{self.event} {self.delivery_id} ({'verified' if self.verified else 'rejected'})"
