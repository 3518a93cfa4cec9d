from django.contrib import admin

from identity.models import ExternalAccount


@admin.register(ExternalAccount)
class ExternalAccountAdmin(admin.ModelAdmin):
    """Which users single sign-on made, and of whom; deleting a link lets that person's next sign-on
    make a new user (or meet the name of the old one and be refused)."""

    list_display = ["user", "provider", "subject"]
    list_filter = ["provider"]
    search_fields = ["user__username", "subject"]
    readonly_fields = ["user", "provider", "subject"]

    def has_add_permission(self, request) -> bool:
        # Links are made by a sign-in the provider vouched for, never by hand.
        return False
