"""Every URL pattern of the portal, as a concrete path that resolves to that pattern's view."""

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from django.urls import URLPattern, URLResolver, get_resolver, resolve
from django.urls.resolvers import LocalePrefixPattern, RegexPattern, RoutePattern

# Path parameters by name; any other parameter gets "1".
SAMPLES = {"environment": "sandbox", "url": "x"}


@dataclass(frozen=True)
class Route:
    path: str
    name: str | None
    callback: Callable[..., Any]

    def __str__(self) -> str:
        return f"{self.path} ({self.name or self.callback.__name__})"


def _filled(pattern: RoutePattern | RegexPattern | LocalePrefixPattern, samples: dict[str, str]) -> str:
    text = str(pattern)
    if not isinstance(pattern, RegexPattern):
        return re.sub(r"<(?:\w+:)?(\w+)>", lambda m: samples.get(m.group(1), "1"), text)
    # Regex patterns (the admin's): a named group becomes its first alternative or the sample.
    text = text.removeprefix("^").removesuffix("$")

    def group(match: re.Match[str]) -> str:
        name, body = match.group(1), match.group(2)
        if re.fullmatch(r"\w+(\|\w+)*", body):
            return body.split("|")[0]
        return samples.get(name, "1")

    return re.sub(r"\(\?P<(\w+)>([^)]*)\)", group, text)


def _walk(patterns: list[Any], prefix: str, samples: dict[str, str]) -> Iterator[Route]:
    for entry in patterns:
        if isinstance(entry, URLResolver):
            yield from _walk(entry.url_patterns, prefix + _filled(entry.pattern, samples), samples)
        elif isinstance(entry, URLPattern):
            yield Route("/" + prefix + _filled(entry.pattern, samples), entry.name, entry.callback)


def every_route(**samples: str) -> list[Route]:
    """Each pattern once, filled with the samples; a path that resolves to another view (two API
    operations share a path, told apart by method) is still listed under its own pattern."""
    routes = list(_walk(get_resolver().url_patterns, "", {**SAMPLES, **samples}))
    for route in routes:
        resolved = resolve(route.path)
        assert resolved.func.__module__ == route.callback.__module__, f"{route} resolves to {resolved.func}"
    return routes
