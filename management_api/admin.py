from django.contrib import admin

from management_api.models import Delivery, Webhook, WebhookLog


@admin.register(Webhook)
class WebhookAdmin(admin.ModelAdmin):
    list_display = ("environment", "url", "created_at", "updated_at")
    # The secret is shown only in the portal, to managers who reveal it.
    exclude = ("secret",)
    readonly_fields = ("created_at", "updated_at")


@admin.register(WebhookLog)
class WebhookLogAdmin(admin.ModelAdmin):
    list_display = ("created_at", "environment", "project_id", "type", "event", "status", "code", "attempt")
    list_filter = ("environment", "type", "status")
    search_fields = ("delivery_id", "project_id", "event")
    # Paging the admin list must not COUNT a table of millions of rows.
    show_full_result_count = False

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


@admin.register(Delivery)
class DeliveryAdmin(admin.ModelAdmin):
    list_display = ("id", "environment", "event", "project_id", "state", "attempts", "next_attempt_at", "created_at")
    list_filter = ("environment", "state", "type")
    search_fields = ("id", "project_id")
    show_full_result_count = False

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False
