"""The routing table as the engine holds it: endpoints, routes, and what a decision produces."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from lgsp.patterns import DottedPattern

EndpointKind = Literal["rest", "soap", "vxp", "dvcqg"]
OrderingKey = Literal["document", "dossier", "none"]
OrderingChoice = Literal["auto", "document", "dossier", "none"]


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """Exponential backoff with jitter. The default: 10 attempts over about 6 hours."""

    attempts: int = 10
    initial_seconds: float = 60.0
    multiplier: float = 2.0
    max_seconds: float = 7200.0
    jitter: float = 0.2

    def delay_before(self, attempt: int) -> float:
        """The delay, before jitter, ahead of attempt number ``attempt`` (2 for the first retry)."""
        return float(min(self.max_seconds, self.initial_seconds * self.multiplier ** max(0, attempt - 2)))


@dataclass(frozen=True, slots=True)
class CircuitPolicy:
    failures: int = 5
    open_seconds: float = 30.0


@dataclass(frozen=True, slots=True)
class SecretRef:
    """A credential by reference: ``env`` names a variable, ``file`` a path (relative to routes.yaml)."""

    env: str | None = None
    file: str | None = None


@dataclass(frozen=True, slots=True)
class Endpoint:
    name: str
    kind: EndpointKind
    url: str
    timeout_seconds: float = 30.0
    concurrency: int = 8
    credentials: Mapping[str, SecretRef] = field(default_factory=dict)
    options: Mapping[str, Any] = field(default_factory=dict)
    retry: RetryPolicy = RetryPolicy()
    circuit: CircuitPolicy = CircuitPolicy()


@dataclass(frozen=True, slots=True)
class Match:
    """Absent criteria (None) match everything."""

    sources: frozenset[str] | None = None
    formats: frozenset[str] | None = None
    recipients: tuple[DottedPattern, ...] | None = None
    procedures: tuple[DottedPattern, ...] | None = None
    headers: Mapping[str, str] | None = None


@dataclass(frozen=True, slots=True)
class Route:
    name: str
    position: int  # order in the table: earlier routes take first
    match: Match
    deliver: tuple[str, ...]
    translate: str | None = None
    validate_output: bool = True
    ordering: OrderingChoice = "auto"
    priority: int = 0
    retry: RetryPolicy | None = None
    continue_: bool = False
    description: str = ""


@dataclass(frozen=True, slots=True)
class RouteTable:
    version: str
    text: str
    endpoints: dict[str, Endpoint]
    routes: tuple[Route, ...]


@dataclass(frozen=True, slots=True)
class RoutingInput:
    """What routing looks at: who sent it, what it is, whom it is for."""

    source: str
    format: str
    recipients: tuple[str, ...] = ()
    procedure: str | None = None
    headers: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class PlannedDelivery:
    """One destination of a message: an endpoint, in one format, for some of its recipients."""

    endpoint: str
    format: str
    routes: tuple[str, ...]
    recipients: tuple[str, ...]
    ordering: OrderingKey
    priority: int
    retry: RetryPolicy
    validate_output: bool


@dataclass(frozen=True, slots=True)
class Decision:
    version: str
    routes: tuple[str, ...]
    deliveries: tuple[PlannedDelivery, ...]
