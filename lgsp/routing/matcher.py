"""Deciding where a message goes. Pure: no I/O.

Semantics (docs/ROUTING.md): routes are tried in table order. A route applies when every criterion
it states holds. A message with recipients (a document, a status package) is routed recipient by
recipient: each recipient goes to the first route whose recipient patterns match it (a route with no
recipient criterion matches every recipient), and to later ones too while the routes that took it
say ``continue``. A message without recipients (a dossier, a progress record) goes to the first
route that applies (and on, through ``continue``). Each route delivers to its endpoints in its
``translate`` format; deliveries to the same endpoint in the same format are merged into one, with
the union of their recipients. A recipient no route takes makes the whole message a 422: accepting
the rest would lose that recipient's copy without anyone knowing.

Lookup cost: see lgsp/routing/index.py; it does not grow with the table.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Literal

from lgsp.errors import NoRoute
from lgsp.problems import Problem
from lgsp.routing.index import RouteIndex
from lgsp.routing.model import Decision, OrderingKey, PlannedDelivery, Route, RouteTable, RoutingInput

OrderingOf = Callable[[str], Literal["document", "dossier"] | None]


def _secondary_holds(route: Route, message: RoutingInput) -> bool:
    match = route.match
    if match.procedures is not None and (
        message.procedure is None or not any(pattern.matches(message.procedure) for pattern in match.procedures)
    ):
        return False
    return match.headers is None or all(message.headers.get(name) == value for name, value in match.headers.items())


class Router:
    def __init__(self, table: RouteTable) -> None:
        self.table = table
        self._index = RouteIndex(table.routes)

    @staticmethod
    def _first_takers(candidates: Iterable[Route], message: RoutingInput) -> list[Route]:
        """The routes that take one unit (a recipient, or the whole message): first match, then continues."""
        takers = []
        for route in sorted({route.position: route for route in candidates}.values(), key=lambda r: r.position):
            if _secondary_holds(route, message):
                takers.append(route)
                if not route.continue_:
                    break
        return takers

    def decide(self, message: RoutingInput, ordering_of: OrderingOf) -> Decision:
        buckets = self._index.buckets(message.source, message.format)
        taken: dict[int, list[str]] = {}
        routes: dict[int, Route] = {}
        unrouted: list[str] = []
        if message.recipients:
            for recipient in message.recipients:
                candidates = [route for bucket in buckets for route in bucket.by_recipient.lookup(recipient)]
                candidates += [route for bucket in buckets for route in bucket.every_recipient]
                takers = self._first_takers(candidates, message)
                if not takers:
                    unrouted.append(recipient)
                for route in takers:
                    routes[route.position] = route
                    taken.setdefault(route.position, []).append(recipient)
        else:
            for route in self._first_takers((route for bucket in buckets for route in bucket.every_recipient), message):
                routes[route.position] = route
                taken[route.position] = []
        if unrouted or not routes:
            raise _no_route(message, unrouted)
        return Decision(
            self.table.version,
            tuple(routes[p].name for p in sorted(routes)),
            self._deliveries([routes[p] for p in sorted(routes)], taken, message, ordering_of),
        )

    def _deliveries(
        self,
        routes: list[Route],
        taken: dict[int, list[str]],
        message: RoutingInput,
        ordering_of: OrderingOf,
    ) -> tuple[PlannedDelivery, ...]:
        merged: dict[tuple[str, str], PlannedDelivery] = {}
        for route in routes:
            target = route.translate or message.format
            for endpoint_name in route.deliver:
                endpoint = self.table.endpoints[endpoint_name]
                recipients = tuple(taken[route.position])
                ordering: OrderingKey = (
                    route.ordering if route.ordering != "auto" else (ordering_of(message.format) or "none")
                )
                previous = merged.get((endpoint_name, target))
                if previous is None:
                    merged[(endpoint_name, target)] = PlannedDelivery(
                        endpoint=endpoint_name,
                        format=target,
                        routes=(route.name,),
                        recipients=recipients,
                        ordering=ordering,
                        priority=route.priority,
                        retry=route.retry or endpoint.retry,
                        validate_output=route.validate_output,
                    )
                else:
                    merged[(endpoint_name, target)] = PlannedDelivery(
                        endpoint=endpoint_name,
                        format=target,
                        routes=(*previous.routes, route.name),
                        recipients=tuple(dict.fromkeys(previous.recipients + recipients)),
                        ordering=previous.ordering,
                        priority=max(previous.priority, route.priority),
                        retry=previous.retry,
                        validate_output=previous.validate_output or route.validate_output,
                    )
        return tuple(merged.values())


def _no_route(message: RoutingInput, unrouted: list[str]) -> NoRoute:
    attributes = f"source={message.source}, format={message.format}"
    if message.procedure:
        attributes += f", procedure={message.procedure}"
    if unrouted:
        return NoRoute(
            f"no route for {len(unrouted)} recipient(s) ({attributes})",
            [
                Problem(
                    "recipients",
                    "no route takes this recipient",
                    found=recipient,
                    expected=f"a route matching {attributes}, recipient={recipient}",
                )
                for recipient in unrouted
            ],
        )
    return NoRoute(
        f"no route takes this message ({attributes})",
        [
            Problem(
                "",
                "no route matches",
                found=attributes + (", recipients=" + ",".join(message.recipients) if message.recipients else ""),
            )
        ],
    )
