"""The audit ledger: durable, hash-chained record of every message and of the bus itself."""

from lgsp.audit.ledger import Ledger
from lgsp.audit.records import (
    Admission,
    Attempt,
    DeadLetterAction,
    EventRecord,
    MessageRecord,
    NewEvent,
    PendingDelivery,
    Purge,
    PurgeReport,
    Queued,
    ReceivedMessage,
    RouteApplication,
    RoutesApplied,
)
from lgsp.audit.store import LedgerStore

__all__ = [
    "Admission",
    "Attempt",
    "DeadLetterAction",
    "EventRecord",
    "Ledger",
    "LedgerStore",
    "MessageRecord",
    "NewEvent",
    "PendingDelivery",
    "Purge",
    "PurgeReport",
    "Queued",
    "ReceivedMessage",
    "RouteApplication",
    "RoutesApplied",
]
