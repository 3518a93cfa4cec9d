from django.contrib import admin
from django.http import HttpRequest

from audit.models import AuditEvent


@admin.register(AuditEvent)
class AuditEventAdmin(admin.ModelAdmin):
    """Read-only for everyone, superusers included: a trail anyone could edit proves nothing."""

    list_display = ["created_at", "actor", "action", "environment", "address", "detail"]
    list_filter = ["action", "environment", "created_at"]
    search_fields = ["actor", "detail", "address"]
    date_hierarchy = "created_at"
    # No COUNT(*) of the whole table on every page.
    show_full_result_count = False

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: AuditEvent | None = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: AuditEvent | None = None) -> bool:
        return False
