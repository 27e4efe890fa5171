"""A document sent between agencies, and the status a receiver reports on it, whatever format carried them.

``Document`` is what docflow.document and edxml.document both mean; ``DocumentStatus`` what
docflow.status and edxml.status mean. Field names are the local formats' names, so that the path of
a translation warning (a JSON pointer over these fields, e.g. ``/trace/0/timestamp``) reads the same
in the local message.

Conventions every codec keeps:
- Decoders lose nothing they read (but a time's digits beyond the microsecond, with a warning); an
  encoder reports, as a warning, each field its format cannot carry, and refuses what it cannot hold at all.
- Optional text is ``None`` or non-empty: an empty value is an absent one (SDKs write ``<DueDate/>``).
- Dates are ``date``; instants are aware ``datetime`` (edXML's zone-less times are in ``VIETNAM``).
- Enum values are the local formats' spellings; the national codes are tables in the edXML codec.
- Attachment content is the base64 text, standard alphabet without line breaks, never decoded.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum

from adapters.document_id import build_document_id

# National formats write Vietnamese local time, defined as UTC+07:00. A fixed offset rather than
# zoneinfo's Asia/Ho_Chi_Minh, whose history gives other offsets before 1975.


class DocumentKind(StrEnum):
    ADMINISTRATIVE = "administrative"  # văn bản hành chính
    LEGAL = "legal"  # văn bản quy phạm pháp luật


class Priority(StrEnum):
    NORMAL = "normal"
    URGENT = "urgent"  # khẩn
    VERY_URGENT = "very_urgent"  # thượng khẩn
    EXPRESS = "express"  # hỏa tốc
    EXPRESS_TIMED = "express_timed"  # hỏa tốc hẹn giờ


class SteeringType(StrEnum):
    NOT_DIRECTIVE = "not_directive"
    DIRECTIVE = "directive"
    DIRECTIVE_REPORT = "directive_report"


class BusinessDocType(StrEnum):
    NEW = "new"
    REVOKE = "revoke"  # thu hồi
    UPDATE = "update"  # cập nhật
    REPLACE = "replace"  # thay thế


class ReceiverChange(StrEnum):
    ADDED = "added"
    REMOVED = "removed"


class HandlingStatus(StrEnum):
    """How far a receiver got with a document it received."""

    ARRIVED = "arrived"
    REFUSED = "refused"
    ACCEPTED = "accepted"
    ASSIGNED = "assigned"
    IN_PROGRESS = "in_progress"
    COMPLETED = "completed"
    RECALL_REQUESTED = "recall_requested"
    RECALL_AGREED = "recall_agreed"
    RECALL_REFUSED = "recall_refused"


@dataclass(frozen=True, slots=True)
class Organ:
    """An agency. ``name`` is mandatory for a document's sender and recipients, optional for a status sender."""

    organ_id: str
    name: str | None = None
    organization_in_charge: str | None = None
    address: str | None = None
    email: str | None = None
    phone: str | None = None
    fax: str | None = None
    website: str | None = None


@dataclass(frozen=True, slots=True)
class Code:
    """Số and ký hiệu of a document, e.g. 7816 and VPCP-TTĐT."""

    number: str
    notation: str

    @property
    def text(self) -> str:
        """``number/notation``, as DocumentId and ResponseFor write it."""
        return f"{self.number}/{self.notation}"


@dataclass(frozen=True, slots=True)
class Promulgation:
    date: date
    place: str | None = None


@dataclass(frozen=True, slots=True)
class DocumentType:
    kind: DocumentKind
    detail: str | None = None
    name: str | None = None  # e.g. "Công văn", "Quyết định"


@dataclass(frozen=True, slots=True)
class Signer:
    competence: str | None = None  # e.g. "TL. BỘ TRƯỞNG"
    position: str | None = None
    full_name: str | None = None


@dataclass(frozen=True, slots=True)
class OtherInfo:
    priority: Priority | None = None
    sphere_of_promulgation: str | None = None
    typer_notation: str | None = None
    promulgation_amount: int | None = None
    page_amount: int | None = None
    direction: bool | None = None
    appendixes: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class DocumentRef:
    """Another document, named by its DocumentId: the one answered, or whose status is reported."""

    code: Code
    document_id: str
    organ_id: str | None = None
    promulgation_date: date | None = None


@dataclass(frozen=True, slots=True)
class StaffInfo:
    department: str | None = None
    department_id: str | None = None
    staff: str | None = None  # the person's name
    staff_id: str | None = None
    email: str | None = None
    mobile: str | None = None


@dataclass(frozen=True, slots=True)
class ReceiverUpdate:
    organ_id: str
    change: ReceiverChange


@dataclass(frozen=True, slots=True)
class Replacement:
    document_id: str  # the document replaced
    organ_ids: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class BusinessInfo:
    """What the exchange does: send a new document, or revoke, update or replace one already sent."""

    doc_type: BusinessDocType
    document_id: str | None = None
    reason: str | None = None
    paper: int | None = None
    staff: StaffInfo | None = None
    document_info: bool | None = None  # the document's information changed
    document_receiver: bool | None = None  # its recipient list changed
    receivers: tuple[ReceiverUpdate, ...] = ()
    replacements: tuple[Replacement, ...] = ()


@dataclass(frozen=True, slots=True)
class Attachment:
    content_id: str  # "cid:..."; every attachment of a message has its own
    name: str
    content_type: str
    content_base64: str
    description: str | None = None


@dataclass(frozen=True, slots=True)
class Reference:
    """An edXML manifest entry that does not describe an attachment the message carries as it is."""

    content_id: str
    content_type: str | None = None
    description: str | None = None
    name: str | None = None


@dataclass(frozen=True, slots=True)
class TraceHop:
    organ_id: str
    timestamp: datetime


@dataclass(frozen=True, slots=True)
class Document:
    """A document (văn bản) sent by one agency to others.

    ``signed``: the package came with a signature. It signs the bytes as received, so no rendering
    carries it on. ``unmatched_references``: manifest entries naming no attachment of the message,
    or contradicting the one they name; normally empty (the manifest is derived from ``attachments``).
    """

    sender: Organ
    recipients: tuple[Organ, ...]
    code: Code
    promulgation: Promulgation
    document_type: DocumentType
    subject: str  # trích yếu
    content: str | None = None
    signer: Signer | None = None
    due_date: date | None = None
    to_places: tuple[str, ...] = ()
    other_info: OtherInfo | None = None
    response_for: tuple[DocumentRef, ...] = ()
    steering_type: SteeringType | None = None
    business: BusinessInfo | None = None
    attachments: tuple[Attachment, ...] = ()
    unmatched_references: tuple[Reference, ...] = ()
    trace: tuple[TraceHop, ...] = ()  # oldest first
    signed: bool = False

    @property
    def document_id(self) -> str:
        """The national DocumentId. Validation makes a message's own DocumentId equal to it, so it is not stored."""
        day = self.promulgation.date
        return build_document_id(
            self.sender.organ_id, f"{day.year:04d}/{day.month:02d}/{day.day:02d}", self.code.number, self.code.notation
        )


@dataclass(frozen=True, slots=True)
class DocumentStatus:
    """The status a receiving agency reports on a document (``signed`` and references as in ``Document``).

    A status carries no attachment in practice; ``attachments`` holds any a package brings anyway.
    """

    in_reply_to: DocumentRef
    status: HandlingStatus
    sender: Organ | None = None
    staff: StaffInfo | None = None
    description: str | None = None
    at: datetime | None = None
    attachments: tuple[Attachment, ...] = ()
    unmatched_references: tuple[Reference, ...] = ()
    signed: bool = False
