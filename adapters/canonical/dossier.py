"""Citizen dossiers and their processing steps, whatever format carried them.

A ``Dossier`` is one dossier (hồ sơ) as the national portal's DongBoHoSoMC record and the local
``onestop.dossier`` carry it; a ``DossierProgress`` is one processing step (CapNhatTienDoHoSoMC,
``onestop.progress``). The model holds each fact once, in one form:

- times are aware datetimes in ``VIETNAM``, whole seconds (the national precision);
- amounts are ``Decimal`` whole VND, never float (the portal carries them as digit strings);
- optional text is ``None`` when absent, never ``""`` (portal connectors send ``""`` for "none");
- lists are tuples, empty when absent;
- codes the portal defines are enums whose values are the readable names the local formats use;
  codes the sender's own system chooses (return method, submission place, collection method, fee
  kind, supplement status) stay text.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from enum import StrEnum

# Vietnamese time as the national formats mean it: UTC+07:00, no daylight saving (schemas/README.md).
# Not tzdata's Asia/Ho_Chi_Minh, which has +08:00 periods before 1975.


class DossierStatus(StrEnum):
    """TrangThaiHoSo / TrangThai."""

    REGISTERED = "registered"
    ACCEPTED = "accepted"
    NOT_ACCEPTED = "not_accepted"
    IN_PROGRESS = "in_progress"
    SUPPLEMENT_REQUESTED = "supplement_requested"
    PAYMENT_REQUESTED = "payment_requested"
    WITHDRAWN = "withdrawn"
    STOPPED = "stopped"
    PROCESSED = "processed"
    RETURNED = "returned"


class ApplicantKind(StrEnum):
    """LoaiDoiTuong."""

    CITIZEN = "citizen"
    ENTERPRISE = "enterprise"
    AGENCY = "agency"
    ORGANISATION = "organisation"


class Channel(StrEnum):
    """KenhThucHien: how the dossier was submitted."""

    IN_PERSON = "in_person"
    ONLINE = "online"
    POSTAL = "postal"


class IdentityType(StrEnum):
    """LoaiDinhDanh."""

    CITIZEN_ID_12 = "citizen_id_12"
    ID_CARD_9 = "id_card_9"


class OnlinePayment(StrEnum):
    """DuocThanhToanTrucTuyen: whether, and where, the fees were paid online."""

    NONE = "none"
    NATIONAL_PORTAL = "national_portal"
    PROVINCIAL_GATEWAY = "provincial_gateway"


@dataclass(frozen=True, slots=True)
class Procedure:
    """The administrative procedure (thủ tục hành chính)."""

    code: str
    name: str


@dataclass(frozen=True, slots=True)
class ProcedureField:
    """The field (lĩnh vực) a procedure belongs to."""

    code: str | None = None
    name: str | None = None


@dataclass(frozen=True, slots=True)
class Identity:
    type: IdentityType
    number: str


@dataclass(frozen=True, slots=True)
class Applicant:
    """The dossier's owner (chủ hồ sơ)."""

    name: str
    id_number: str | None = None
    kind: ApplicantKind | None = None
    object_code: str | None = None
    email: str | None = None
    fax: str | None = None
    phone: str | None = None
    identities: tuple[Identity, ...] = ()


@dataclass(frozen=True, slots=True)
class SubmittedDocument:
    """A paper the applicant submitted; the file travels by URL."""

    name: str
    id: str | None = None
    deleted: bool | None = None
    component_code: str | None = None
    url: str | None = None


@dataclass(frozen=True, slots=True)
class ResultDocument:
    name: str
    id: str | None = None
    component_code: str | None = None
    url: str | None = None


@dataclass(frozen=True, slots=True)
class Fee:
    name: str
    amount: Decimal
    code: str | None = None
    collection_method: str | None = None
    kind: str | None = None


@dataclass(frozen=True, slots=True)
class Supplement:
    """A request for additional papers and what came of it."""

    id: str
    requested_by: str | None = None
    content: str | None = None
    requested_at: datetime | None = None
    received_by: str | None = None
    receipt_info: str | None = None
    received_at: datetime | None = None
    status: str | None = None
    previous_due_at: datetime | None = None
    new_due_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class OtherPaper:
    name: str
    quantity: int | None = None
    kind: str | None = None


@dataclass(frozen=True, slots=True)
class Dossier:
    dossier_no: str
    procedure: Procedure
    applicant: Applicant
    received_at: datetime
    status: DossierStatus
    field: ProcedureField | None = None
    channel: Channel | None = None
    other_info: str | None = None
    summary: str | None = None
    due_at: datetime | None = None
    returned_at: datetime | None = None
    return_info: str | None = None
    return_method: str | None = None
    processing_finished_at: datetime | None = None
    handling_unit: str | None = None
    note: str | None = None
    submission_place: str | None = None
    submitted_at: datetime | None = None
    refused_at: datetime | None = None
    online_payment: OnlinePayment | None = None
    documents: tuple[SubmittedDocument, ...] = ()
    results: tuple[ResultDocument, ...] = ()
    fees: tuple[Fee, ...] = ()
    supplements: tuple[Supplement, ...] = ()
    other_papers: tuple[OtherPaper, ...] = ()


@dataclass(frozen=True, slots=True)
class Handler:
    """Who handled a processing step."""

    name: str
    title: str | None = None
    department: str | None = None


@dataclass(frozen=True, slots=True)
class DossierProgress:
    dossier_no: str
    handled_at: datetime
    status: DossierStatus
    handler: Handler
    content: str | None = None
    started_at: datetime | None = None
    due_at: datetime | None = None  # the step's regulatory deadline
