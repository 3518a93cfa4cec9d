import re
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


# What int() reads once IntegerField has dropped a trailing ".0" (as Django's form field does).
_WHOLE_NUMBER_END = re.compile(r"\.0*\s*$")
_SIZES = {str(size): size for size in PAGE_SIZES}


def logs_place(query: QueryDict) -> dict[str, Any]:
    """The logs table's place (`env`, `page`, `size`) from the query string. The values come from
    links and reloads, so a value that does not fit falls back to its default instead of failing
    the page: the first environment, page 1, 10 rows. The same answers as a Django form of a
    ChoiceField, an IntegerField and a TypedChoiceField would give (tested against one), without
    building one on every request (its fields are deep-copied each time: about 0.2 ms)."""
    env = query.get("env")
    return {
        "env": env if env in environments.values() else environments.values()[0],
        "page": _page(query.get("page")) or 1,
        "size": _SIZES.get(query.get("size") or "", PAGE_SIZES[0]),
    }


def _page(value: str | None) -> int | None:
    if not value:
        return None
    try:
        page = int(_WHOLE_NUMBER_END.sub("", value))
    except ValueError:
        return None
    if page < 0:
        # Counted from the oldest row: -1 is the last page (logs_table.load_page).
        return max(page, -LAST_PAGE)
    return min(max(1, page), LAST_PAGE)
