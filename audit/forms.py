from typing import Any

from django import forms
from django.contrib.auth import get_user_model

from audit.trail import api_key_actor
from portal import environments


class ActivityFilterForm(forms.Form):
    """The Activity page's filters and place, all from the query string."""

    environment = forms.ChoiceField(
        label="Environment", required=False, choices=lambda: [("", "All environments"), *environments.pairs()]
    )
    actor = forms.ChoiceField(label="Who", required=False)
    # Keyset paging: the page of events older than `before`, newer than `after`, or the oldest.
    before = forms.IntegerField(required=False, min_value=1, max_value=2**63 - 1, widget=forms.HiddenInput)
    after = forms.IntegerField(required=False, min_value=1, max_value=2**63 - 1, widget=forms.HiddenInput)
    last = forms.BooleanField(required=False, widget=forms.HiddenInput)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        usernames = get_user_model().objects.order_by("username").values_list("username", flat=True)
        api_keys = [api_key_actor(e) for e in environments.values()]
        self.fields["actor"].choices = [  # type: ignore[attr-defined]
            ("", "Everyone"),
            *((name, name) for name in usernames),
            *((key, key) for key in api_keys),
        ]
