from typing import Any

from django import forms
from django.http import QueryDict

from portal import environments


class WebhookUrlForm(forms.Form):
    # The management API validates too, and its field errors are shown here the same way; this
    # catches the obvious mistakes without a round trip.
    url = forms.CharField(
        label="URL",
        max_length=2048,
        strip=True,
        widget=forms.URLInput(attrs={"placeholder": "https://hooks.example.com/autoql", "autocomplete": "url"}),
        error_messages={
            "required": "Enter the URL of your webhook receiver.",
            "max_length": "The URL is longer than 2048 characters.",
        },
    )

    def clean_url(self) -> str:
        url = self.cleaned_data["url"]
        if not url.lower().startswith(("http://", "https://")):
            raise forms.ValidationError("The URL must start with http:// or https://.")
        return url


PAGE_SIZES = (10, 25, 50, 100)
LAST_PAGE = 10**9


class LogsPageForm(forms.Form):
    """The logs table's place, from the query string. The values come from links and reloads, so
    a value that does not fit falls back to its default instead of failing the page."""

    env = forms.ChoiceField(choices=environments.pairs, required=False)
    page = forms.IntegerField(required=False)
    size = forms.TypedChoiceField(choices=[(s, s) for s in PAGE_SIZES], coerce=int, required=False)

    DEFAULTS = {"page": 1, "size": PAGE_SIZES[0]}

    def clean_page(self) -> int | None:
        page = self.cleaned_data["page"]
        if page is not None and page < 0:
            # Counted from the oldest row: -1 is the last page (logs_table.load_page).
            return max(page, -LAST_PAGE)
        return None if page is None else min(max(1, page), LAST_PAGE)

    @classmethod
    def from_query(cls, query: QueryDict) -> dict[str, Any]:
        form = cls(query)
        form.is_valid()
        # The first environment when none (or an unknown one) is asked for.
        defaults = {"env": environments.values()[0], **cls.DEFAULTS}
        return {
            name: form.cleaned_data.get(name) if form.cleaned_data.get(name) not in (None, "") else default
            for name, default in defaults.items()
        }
