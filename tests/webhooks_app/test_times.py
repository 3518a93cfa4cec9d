"""webhooks_app/times.py: a page's row times, written as timesince and localtime write them."""

import zoneinfo
from datetime import UTC, datetime, timedelta

from django.utils import timezone, translation
from django.utils.timesince import timesince
from hypothesis import given, settings
from hypothesis import strategies as st

from webhooks_app.times import PageTimes

ZONES = ["UTC", "America/New_York", "Asia/Kolkata", "Australia/Lord_Howe", "Europe/Paris"]
moments = st.datetimes(
    min_value=datetime(1, 1, 2),
    max_value=datetime(9999, 12, 30),
    timezones=st.sampled_from(ZONES).map(zoneinfo.ZoneInfo),
)


@settings(max_examples=300, derandomize=True, database=None, deadline=None)
@given(moments, moments, st.sampled_from(ZONES), st.sampled_from(["en", "fr", "de"]))
def test_a_row_time_is_what_django_writes(moment, now, zone, language):
    with timezone.override(zoneinfo.ZoneInfo(zone)), translation.override(language):
        times = PageTimes(now)
        # Twice: the second answer comes from the page's words already translated.
        for _ in range(2):
            assert times.shown(moment) == f"{timezone.localtime(moment):%Y-%m-%d %H:%M:%S}"
            assert times.ago(moment) == timesince(moment, now)


def test_a_page_translates_each_number_once():
    now = datetime(2026, 12, 3, 18, 0, tzinfo=UTC)
    times = PageTimes(now)
    assert times.ago(now - timedelta(minutes=5, seconds=1)) == "5\xa0minutes"
    assert times.ago(now - timedelta(minutes=5, seconds=30)) == "5\xa0minutes"
    assert times.words["minute"].done == {5: "5 minutes"}
