"""A table row's time as the page shows it before JavaScript takes over ("2026-12-03 18:33:31
(2 hours, 5 minutes ago)"), worked out once for a whole page: a page may hold 100 rows, and
Django's timesince translates its words again for each, and localtime looks the zone up each time."""

from datetime import datetime

from django.utils import timezone
from django.utils.timesince import TIME_STRINGS, timesince


class _Translated:
    """One of timesince's words ("%(num)d minute", "%(num)d minutes"...), translated once a number."""

    def __init__(self, words: object) -> None:
        self.words = words
        self.done: dict[int, str] = {}

    def __mod__(self, params: dict[str, int]) -> str:
        number = params["num"]
        text = self.done.get(number)
        if text is None:
            text = self.done[number] = self.words % params  # type: ignore[operator]
        return text


class PageTimes:
    """The times of one page's rows, against the same `now` and in the reader's time zone."""

    def __init__(self, now: datetime | None = None) -> None:
        self.now = now or timezone.now()
        self.zone = timezone.get_current_timezone()
        self.words = {name: _Translated(words) for name, words in TIME_STRINGS.items()}

    def shown(self, moment: datetime) -> str:
        """As f"{timezone.localtime(moment):%Y-%m-%d %H:%M:%S}" writes it."""
        if timezone.is_naive(moment) or moment.year < 1000:
            return f"{timezone.localtime(moment):%Y-%m-%d %H:%M:%S}"
        return moment.astimezone(self.zone).isoformat(sep=" ", timespec="seconds")[:19]

    def ago(self, moment: datetime) -> str:
        """As timesince(moment, now) writes it."""
        return timesince(moment, self.now, time_strings=self.words)  # type: ignore[arg-type]  # used with % only
