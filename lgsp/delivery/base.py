"""What the delivery worker asks of an endpoint client, whatever the endpoint's kind."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol

from lgsp.envelope import Delivery


@dataclass(frozen=True, slots=True)
class EndpointConfig:
    """An endpoint as routes.yaml describes it, with its credentials already resolved."""

    name: str
    kind: Literal["rest", "soap", "vxp", "dvcqg"]
    url: str
    timeout_seconds: float = 30.0
    credentials: Mapping[str, str] = field(default_factory=dict)
    options: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Outcome:
    """What one attempt came to. ``transient``: retrying can help; ``permanent``: it cannot."""

    result: Literal["delivered", "transient", "permanent"]
    detail: str
    http_status: int | None = None
    receipt: Mapping[str, Any] = field(default_factory=dict)  # e.g. the axis's DocId


class EndpointClient(Protocol):
    async def deliver(self, delivery: Delivery) -> Outcome:
        """One attempt. Never raises for the endpoint's failures: they are outcomes."""

    async def close(self) -> None: ...
