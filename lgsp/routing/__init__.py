"""The routing table: load and check it, decide where a message goes, explain why."""

from lgsp.routing.explain import Verdict, explain
from lgsp.routing.loader import Finding, RoutesInvalid, Vocabulary, check_text, load_table
from lgsp.routing.matcher import Router
from lgsp.routing.model import Decision, Endpoint, PlannedDelivery, Route, RouteTable, RoutingInput

__all__ = [
    "Decision",
    "Endpoint",
    "Finding",
    "PlannedDelivery",
    "Route",
    "RouteTable",
    "Router",
    "RoutesInvalid",
    "RoutingInput",
    "Verdict",
    "Vocabulary",
    "check_text",
    "explain",
    "load_table",
]
