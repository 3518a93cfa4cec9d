"""forms.logs_place: the logs table's place from the query string, as the Django form it replaced
read it (kept here as the oracle), for any values a link, a reload or a person may send."""

from typing import Any

from django import forms
from django.http import QueryDict
from hypothesis import given, settings
from hypothesis import strategies as st

from portal import environments
from webhooks_app.forms import LAST_PAGE, PAGE_SIZES, logs_place


class LogsPageForm(forms.Form):
    """The form webhooks_app/forms.py had until 2026-12-03."""

    env = forms.ChoiceField(choices=environments.pairs, required=False)
    page = forms.IntegerField(required=False)
    size = forms.TypedChoiceField(choices=[(s, s) for s in PAGE_SIZES], coerce=int, required=False)

    def clean_page(self) -> int | None:
        page = self.cleaned_data["page"]
        if page is not None and page < 0:
            return max(page, -LAST_PAGE)
        return None if page is None else min(max(1, page), LAST_PAGE)

    @classmethod
    def from_query(cls, query: QueryDict) -> dict[str, Any]:
        form = cls(query)
        form.is_valid()
        defaults = {"env": environments.values()[0], "page": 1, "size": PAGE_SIZES[0]}
        return {
            name: form.cleaned_data.get(name) if form.cleaned_data.get(name) not in (None, "") else default
            for name, default in defaults.items()
        }


numbers = st.integers(min_value=-(10**12), max_value=10**12).map(str)
values = st.one_of(
    numbers,
    numbers.map(lambda text: f" {text}.00 "),
    st.sampled_from(
        ["", " ", "0", "-0", "+3", "1_000", "٣", "1e3", "2.5", "10 ", " 25", "9" * 5000, *environments.values()]
    ),
    st.sampled_from([str(size) for size in PAGE_SIZES]),
    st.text(max_size=8),
)


@settings(max_examples=500, derandomize=True, database=None, deadline=None)
@given(st.dictionaries(st.sampled_from(["env", "page", "size", "other"]), st.lists(values, min_size=1, max_size=2)))
def test_any_query_is_read_as_the_form_read_it(fields):
    query = QueryDict(mutable=True)
    for name, given_values in fields.items():
        query.setlist(name, given_values)
    assert logs_place(query) == LogsPageForm.from_query(query)


def test_the_defaults():
    assert logs_place(QueryDict("")) == {"env": environments.values()[0], "page": 1, "size": PAGE_SIZES[0]}
    assert logs_place(QueryDict("env=production&page=-3&size=50")) == {"env": "production", "page": -3, "size": 50}
