"""Lossless, over generated data: any dossier or progress step the local schema allows goes local →
national → local and comes back equal, and every message rendered on the way is valid."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from decimal import Decimal
from typing import Any

import orjson
from hypothesis import given, settings
from hypothesis import strategies as st

from adapters.canonical.dossier import (
    Applicant,
    ApplicantKind,
    Channel,
    Dossier,
    DossierProgress,
    DossierStatus,
    Fee,
    Handler,
    Identity,
    IdentityType,
    OnlinePayment,
    OtherPaper,
    Procedure,
    ProcedureField,
    ResultDocument,
    SubmittedDocument,
    Supplement,
)
from adapters.dvcqg import codec as national_codec
from adapters.onestop import codec as local_codec
from lgsp.assembly import build_inspector, build_translator
from lgsp.ids import VIETNAM
from lgsp.settings import Settings
from lgsp.translation import Codec, TranslationContext
from tests.conftest import ROOT

CONTEXT = TranslationContext(bus_organ_id="000.00.00.H41", now=datetime(2025, 10, 1, 9, 0, tzinfo=VIETNAM))
SETTINGS = Settings(organ_id="000.00.00.H41", schemas_dir=ROOT / "schemas")
INSPECTOR = build_inspector(SETTINGS)
TRANSLATOR = build_translator(SETTINGS)
EXAMPLES = settings(max_examples=100, deadline=None)

_VIETNAMESE = "aàáảãạăằắẳẵặâầấẩẫậđeèéẻẽẹêềếểễệiìíỉĩịoòóỏõọôồốổỗộơờớởỡợuùúủũụưừứửữựyỳýỷỹỵ"
_LETTERS = _VIETNAMESE + _VIETNAMESE.upper() + "bcghklmnpqrstvxfjwz"
_ALPHABET = _LETTERS + "0123456789 ,.;:-–/()%\"'\n"

letter = st.sampled_from(_LETTERS)
text = st.text(_ALPHABET, min_size=1, max_size=80)
long_text = st.text(_ALPHABET, min_size=1, max_size=2000)
# Mandatory text has a non-blank character; a letter first guarantees it.
non_blank = st.builds(str.__add__, letter, st.text(_ALPHABET, max_size=80))
handler_name = st.builds(str.__add__, letter, st.text(_ALPHABET, max_size=49))
code = st.text("ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-._", min_size=1, max_size=20)
dossier_no = st.from_regex(r"\A[0-9A-Za-z][0-9A-Za-z._-]{0,49}\Z")
procedure_code = st.from_regex(r"\A[0-9]\.[0-9]{6}(\.[0-9A-Z]{1,6}){0,5}\Z")
url = st.builds("https://dichvucong.nghean.gov.vn/api/files/{}/{}".format, st.integers(0, 10**12), code)
moment = st.integers(
    int(datetime(1900, 1, 1, tzinfo=VIETNAM).timestamp()),
    int(datetime(2200, 1, 1, tzinfo=VIETNAM).timestamp()) - 1,
).map(lambda seconds: datetime.fromtimestamp(seconds, VIETNAM))
identity = st.one_of(
    st.builds(Identity, st.just(IdentityType.CITIZEN_ID_12), st.from_regex(r"\A[0-9]{12}\Z")),
    st.builds(Identity, st.just(IdentityType.ID_CARD_9), st.from_regex(r"\A[0-9]{9}\Z")),
)


def optional(strategy: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    return st.none() | strategy


def many(strategy: st.SearchStrategy[Any]) -> st.SearchStrategy[tuple[Any, ...]]:
    return st.lists(strategy, max_size=25).map(tuple)


applicants = st.builds(
    Applicant,
    name=non_blank,
    id_number=optional(code),
    kind=optional(st.sampled_from(ApplicantKind)),
    object_code=optional(code),
    email=optional(text),
    fax=optional(text),
    phone=optional(text),
    identities=st.lists(identity, max_size=3).map(tuple),
)
fields = st.builds(ProcedureField, code=optional(code), name=optional(text)).filter(
    lambda field: field.code is not None or field.name is not None
)
dossiers = st.builds(
    Dossier,
    dossier_no=dossier_no,
    procedure=st.builds(Procedure, code=procedure_code, name=non_blank),
    applicant=applicants,
    received_at=moment,
    status=st.sampled_from(DossierStatus),
    field=optional(fields),
    channel=optional(st.sampled_from(Channel)),
    other_info=optional(long_text),
    summary=optional(long_text),
    due_at=optional(moment),
    returned_at=optional(moment),
    return_info=optional(text),
    return_method=optional(code),
    processing_finished_at=optional(moment),
    handling_unit=optional(text),
    note=optional(long_text),
    submission_place=optional(code),
    submitted_at=optional(moment),
    refused_at=optional(moment),
    online_payment=optional(st.sampled_from(OnlinePayment)),
    documents=many(
        st.builds(
            SubmittedDocument,
            name=non_blank,
            id=optional(code),
            deleted=optional(st.booleans()),
            component_code=optional(code),
            url=optional(url),
        )
    ),
    results=many(
        st.builds(ResultDocument, name=non_blank, id=optional(code), component_code=optional(code), url=optional(url))
    ),
    fees=many(
        st.builds(
            Fee,
            name=non_blank,
            amount=st.integers(0, 2**63 - 1).map(Decimal),
            code=optional(code),
            collection_method=optional(code),
            kind=optional(code),
        )
    ),
    supplements=many(
        st.builds(
            Supplement,
            id=code,
            requested_by=optional(text),
            content=optional(long_text),
            requested_at=optional(moment),
            received_by=optional(text),
            receipt_info=optional(text),
            received_at=optional(moment),
            status=optional(code),
            previous_due_at=optional(moment),
            new_due_at=optional(moment),
        )
    ),
    other_papers=many(
        st.builds(OtherPaper, name=non_blank, quantity=optional(st.integers(0, 10**6)), kind=optional(text))
    ),
)
progress_steps = st.builds(
    DossierProgress,
    dossier_no=dossier_no,
    handled_at=moment,
    status=st.sampled_from(DossierStatus),
    handler=st.builds(Handler, name=handler_name, title=optional(text), department=optional(text)),
    content=optional(long_text),
    started_at=optional(moment),
    due_at=optional(moment),
)


def hop(source: str, target: str, body: bytes) -> bytes:
    """One translation of a message that must be valid, without warnings, into one that must be valid."""
    inspection = INSPECTOR.inspect(body, "json", source)
    assert inspection.problems == []
    result = TRANSLATOR.translate(source, target, inspection.document, CONTEXT)
    assert result.warnings == ()
    assert INSPECTOR.inspect(result.body, "json", target).problems == []
    return result.body


def decoded(codec: Codec, body: bytes) -> Any:
    return codec.decode(orjson.loads(body)).model


@EXAMPLES
@given(dossiers)
def test_a_dossier_goes_local_national_local_unchanged(dossier: Dossier) -> None:
    local = local_codec.DOSSIER_CODEC.encode(dossier, CONTEXT).body
    assert INSPECTOR.inspect(local, "json", "onestop.dossier").problems == []
    assert decoded(local_codec.DOSSIER_CODEC, local) == dossier
    national_body = hop("onestop.dossier", "dvcqg.dossier", local)
    assert decoded(national_codec.DOSSIER_CODEC, national_body) == dossier
    back = hop("dvcqg.dossier", "onestop.dossier", national_body)
    assert decoded(local_codec.DOSSIER_CODEC, back) == dossier
    assert orjson.loads(back) == orjson.loads(local)


@EXAMPLES
@given(progress_steps)
def test_a_progress_step_goes_local_national_local_unchanged(progress: DossierProgress) -> None:
    local = local_codec.PROGRESS_CODEC.encode(progress, CONTEXT).body
    assert INSPECTOR.inspect(local, "json", "onestop.progress").problems == []
    national_body = hop("onestop.progress", "dvcqg.progress", local)
    back = hop("dvcqg.progress", "onestop.progress", national_body)
    assert decoded(national_codec.PROGRESS_CODEC, national_body) == progress
    assert decoded(local_codec.PROGRESS_CODEC, back) == progress


@EXAMPLES
@given(progress_steps, st.integers(-12 * 4, 14 * 4))
def test_a_local_time_in_any_offset_is_the_same_instant_nationally(progress: DossierProgress, quarters: int) -> None:
    offset = timezone(timedelta(minutes=15 * quarters))
    local = orjson.loads(local_codec.PROGRESS_CODEC.encode(progress, CONTEXT).body)
    local["handled_at"] = progress.handled_at.astimezone(offset).isoformat()
    record = orjson.loads(hop("onestop.progress", "dvcqg.progress", orjson.dumps(local)))
    assert record["ThoiDiemXuLy"] == progress.handled_at.strftime("%Y%m%d%H%M%S")
