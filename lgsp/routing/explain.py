"""Why each route does or does not take a message: the operator's view of the matcher.

This walks the table route by route, the slow and obvious way, and says why; the matcher's indexed
decision must always agree with it (tests hold them to that).
"""

from __future__ import annotations

from dataclasses import dataclass

from lgsp.routing.model import Route, RouteTable, RoutingInput


@dataclass(frozen=True, slots=True)
class Verdict:
    route: str
    takes: bool
    reason: str
    recipients: tuple[str, ...] = ()


def _criteria_fail(route: Route, message: RoutingInput) -> str | None:
    match = route.match
    if match.sources is not None and message.source not in match.sources:
        return f"source {message.source} is not one of {', '.join(sorted(match.sources))}"
    if match.formats is not None and message.format not in match.formats:
        return f"format {message.format} is not one of {', '.join(sorted(match.formats))}"
    if match.procedures is not None:
        wanted = ", ".join(pattern.text for pattern in match.procedures)
        if message.procedure is None:
            return f"the message has no procedure code (wanted {wanted})"
        if not any(pattern.matches(message.procedure) for pattern in match.procedures):
            return f"procedure {message.procedure} matches none of {wanted}"
    for name, value in (match.headers or {}).items():
        if message.headers.get(name) != value:
            return f"header {name} is {message.headers.get(name)!r}, wanted {value!r}"
    return None


def explain(table: RouteTable, message: RoutingInput) -> list[Verdict]:
    verdicts: list[Verdict] = []
    taken_by: dict[str, str] = {}  # recipient → the route that took it for good
    message_taken_by: str | None = None
    for route in table.routes:
        failure = _criteria_fail(route, message)
        if failure is not None:
            verdicts.append(Verdict(route.name, False, failure))
            continue
        if not message.recipients:
            if route.match.recipients is not None:
                verdicts.append(Verdict(route.name, False, "routes by recipient, and the message has none"))
            elif message_taken_by is not None:
                verdicts.append(Verdict(route.name, False, f"route {message_taken_by} took the message first"))
            else:
                verdicts.append(Verdict(route.name, True, "every criterion holds"))
                if not route.continue_:
                    message_taken_by = route.name
            continue
        patterns = route.match.recipients
        matching = [r for r in message.recipients if patterns is None or any(p.matches(r) for p in patterns)]
        if not matching:
            wanted = ", ".join(pattern.text for pattern in patterns or ())
            verdicts.append(Verdict(route.name, False, f"no recipient matches {wanted}"))
            continue
        free = tuple(r for r in matching if r not in taken_by)
        if not free:
            owners = ", ".join(sorted({taken_by[r] for r in matching}))
            verdicts.append(Verdict(route.name, False, f"its recipients were taken first by {owners}"))
            continue
        verdicts.append(Verdict(route.name, True, f"takes {len(free)} recipient(s)", free))
        if not route.continue_:
            taken_by.update(dict.fromkeys(free, route.name))
    return verdicts
