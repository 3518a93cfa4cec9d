from django.contrib import admin
from django.db.models import QuerySet
from django.forms import ModelForm
from django.http import HttpRequest

from management_api import webhooks
from management_api.models import Delivery, Webhook, WebhookLog


@admin.register(Webhook)
class WebhookAdmin(admin.ModelAdmin):
    list_display = ("environment", "url", "disabled_at", "created_at", "updated_at")
    # The secret is shown only in the portal, to managers who reveal it.
    exclude = ("secret",)
    # Only the URL is edited here. The roll, failure and disable fields change together through
    # the API's calls (a roll's time without its next secret broke every call), so they are shown.
    readonly_fields = (
        "next_secret_activates_at",
        "failing_since",
        "disabled_at",
        "disabled_reason",
        "alert_state",
        "alert_state_changed_at",
        "created_at",
        "updated_at",
    )

    def get_readonly_fields(self, request: HttpRequest, obj: Webhook | None = None) -> tuple[str, ...]:
        # A webhook stays in its environment: its logs and deliveries are that environment's.
        return (*self.readonly_fields, "environment") if obj else self.readonly_fields

    def save_model(self, request: HttpRequest, obj: Webhook, form: ModelForm, change: bool) -> None:
        super().save_model(request, obj, form, change)
        if not change:
            webhooks.created_in_admin(obj)
        elif "url" in form.changed_data:
            webhooks.url_changed_in_admin(obj)

    def delete_model(self, request: HttpRequest, obj: Webhook) -> None:
        webhooks.delete(obj)

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[Webhook]) -> None:
        for webhook in queryset:
            webhooks.delete(webhook)


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
