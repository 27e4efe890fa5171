"""Routes filed for lookup: by (source, format), "any" standing for an absent criterion, and within
that by recipient pattern in a trie. Deciding for a message touches four buckets and one trie walk
per recipient, however long the table is; the linter uses the same filing to find, for each route,
the few earlier routes that could shadow it.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field

from lgsp.patterns import PatternIndex
from lgsp.routing.model import Route

ANY = "\0any"


@dataclass(slots=True)
class Bucket:
    by_recipient: PatternIndex[Route] = field(default_factory=PatternIndex)
    with_recipients: list[Route] = field(default_factory=list)
    every_recipient: list[Route] = field(default_factory=list)


def _keys(values: frozenset[str] | None) -> Iterable[str]:
    return (ANY,) if values is None else values


class RouteIndex:
    def __init__(self, routes: Sequence[Route]) -> None:
        self._buckets: dict[tuple[str, str], Bucket] = {}
        for route in routes:
            for source in _keys(route.match.sources):
                for format_name in _keys(route.match.formats):
                    bucket = self._buckets.setdefault((source, format_name), Bucket())
                    if route.match.recipients is None:
                        bucket.every_recipient.append(route)
                    else:
                        bucket.with_recipients.append(route)
                        for pattern in route.match.recipients:
                            bucket.by_recipient.add(pattern, route)

    def buckets(self, source: str, format_name: str) -> list[Bucket]:
        """The buckets whose routes may apply to a message from ``source`` in ``format_name``."""
        keys = ((source, format_name), (source, ANY), (ANY, format_name), (ANY, ANY))
        return [bucket for key in keys if (bucket := self._buckets.get(key)) is not None]

    def possible_shadows(self, route: Route) -> Iterator[Route]:
        """Earlier routes that might take everything ``route`` could: a superset of the real ones."""
        # A route can only shadow another if it accepts one of its sources and formats (or all of them).
        source = min(route.match.sources) if route.match.sources is not None else ANY
        format_name = min(route.match.formats) if route.match.formats is not None else ANY
        found: dict[int, Route] = {}
        for bucket in self.buckets(source, format_name):
            patterns = route.match.recipients
            if patterns and all(pattern.is_exact for pattern in patterns):
                candidates: list[Route] = bucket.by_recipient.lookup(patterns[0].text)
            else:
                candidates = bucket.with_recipients
            for candidate in [*candidates, *bucket.every_recipient]:
                if candidate.position < route.position:
                    found[candidate.position] = candidate
        for position in sorted(found):
            yield found[position]
