from django.db import models


class WebhooksAccess(models.Model):
    """No table: only holds the permission that makes a signed-in user a manager.

    Users without it are viewers: they see the cards and the logs, never a full secret, and
    change nothing. Grant it in the admin (Users > permissions > "Can manage webhooks").
    """

    class Meta:
        managed = False
        default_permissions = ()
        permissions = [("manage_webhooks", "Can manage webhooks")]

    def __str__(self) -> str:
        return "Webhooks access"
