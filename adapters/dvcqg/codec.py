"""DVCQG records ↔ the canonical dossier model.

Every value is a string; times are ``yyyyMMddHHmmss`` in Vietnamese time; an empty string means
the same as an absent field, so decoding drops it and encoding omits what is absent. Codes the
portal defines are translated by the explicit tables below (schemas/README.md, "Code tables").
Decoding expects a record that passed the schema and the calendar rules.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from decimal import Decimal
from typing import Any, Final, TypeVar

import orjson

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
from adapters.dvcqg.times import portal_time
from adapters.json_records import text_or_none, without_none
from lgsp.translation import Codec, Decoded, Encoded, TranslationContext

_Code = TypeVar("_Code")

_STATUS_CODE: Final = {
    DossierStatus.REGISTERED: "1",
    DossierStatus.ACCEPTED: "2",
    DossierStatus.NOT_ACCEPTED: "3",
    DossierStatus.IN_PROGRESS: "4",
    DossierStatus.SUPPLEMENT_REQUESTED: "5",
    DossierStatus.PAYMENT_REQUESTED: "6",
    DossierStatus.WITHDRAWN: "7",
    DossierStatus.STOPPED: "8",
    DossierStatus.PROCESSED: "9",
    DossierStatus.RETURNED: "10",
}
_APPLICANT_KIND_CODE: Final = {
    ApplicantKind.CITIZEN: "1",
    ApplicantKind.ENTERPRISE: "2",
    ApplicantKind.AGENCY: "3",
    ApplicantKind.ORGANISATION: "4",
}
_CHANNEL_CODE: Final = {Channel.IN_PERSON: "1", Channel.ONLINE: "2", Channel.POSTAL: "3"}
_IDENTITY_CODE: Final = {IdentityType.CITIZEN_ID_12: "1", IdentityType.ID_CARD_9: "2"}
_ONLINE_PAYMENT_CODE: Final = {
    OnlinePayment.NONE: "0",
    OnlinePayment.NATIONAL_PORTAL: "1",
    OnlinePayment.PROVINCIAL_GATEWAY: "2",
}


def _inverse(table: Mapping[_Code, str]) -> dict[str, _Code]:
    return {code: value for value, code in table.items()}


_STATUS: Final = _inverse(_STATUS_CODE)
_APPLICANT_KIND: Final = _inverse(_APPLICANT_KIND_CODE)
_CHANNEL: Final = _inverse(_CHANNEL_CODE)
_IDENTITY: Final = _inverse(_IDENTITY_CODE)
_ONLINE_PAYMENT: Final = _inverse(_ONLINE_PAYMENT_CODE)
# IsDeleted: "True"/"False" is what the portal documents; connectors also send the other spellings.
_DELETED: Final = {"True": True, "true": True, "1": True, "False": False, "false": False, "0": False}


def _time(value: str | None) -> datetime | None:
    return portal_time(value) if value else None


def _timestamp(moment: datetime | None) -> str | None:
    if moment is None:
        return None
    return f"{moment.year:04d}{moment.month:02d}{moment.day:02d}{moment.hour:02d}{moment.minute:02d}{moment.second:02d}"


def _code(table: Mapping[str, _Code], value: str | None) -> _Code | None:
    return table[value] if value else None


def _national(table: Mapping[_Code, str], value: _Code | None) -> str | None:
    return None if value is None else table[value]


def decode_dossier(record: dict[str, Any]) -> Decoded:
    get = record.get
    field_code, field_name = text_or_none(get("MaLinhVuc")), text_or_none(get("TenLinhVuc"))
    dossier = Dossier(
        dossier_no=record["MaHoSo"],
        procedure=Procedure(code=record["MaTTHC"], name=record["TenTTHC"]),
        field=ProcedureField(field_code, field_name) if field_code or field_name else None,
        channel=_code(_CHANNEL, get("KenhThucHien")),
        applicant=Applicant(
            name=record["ChuHoSo"],
            id_number=text_or_none(get("SoGiayToChuHoSo")),
            kind=_code(_APPLICANT_KIND, get("LoaiDoiTuong")),
            object_code=text_or_none(get("MaDoiTuong")),
            email=text_or_none(get("Email")),
            fax=text_or_none(get("Fax")),
            phone=text_or_none(get("SoDienThoai")),
            identities=tuple(
                Identity(type=_IDENTITY[entry["LoaiDinhDanh"]], number=entry["SoDinhDanh"])
                for entry in get("DinhDanhCHS", ())
            ),
        ),
        other_info=text_or_none(get("ThongTinKhac")),
        summary=text_or_none(get("TrichYeuHoSo")),
        received_at=portal_time(record["NgayTiepNhan"]),
        due_at=_time(get("NgayHenTra")),
        status=_STATUS[record["TrangThaiHoSo"]],
        returned_at=_time(get("NgayTra")),
        return_info=text_or_none(get("ThongTinTra")),
        return_method=text_or_none(get("HinhThuc")),
        processing_finished_at=_time(get("NgayKetThucXuLy")),
        handling_unit=text_or_none(get("DonViXuLy")),
        note=text_or_none(get("GhiChu")),
        submission_place=text_or_none(get("NoiNopHoSo")),
        submitted_at=_time(get("NgayNopHoSo")),
        refused_at=_time(get("NgayTuChoi")),
        online_payment=_code(_ONLINE_PAYMENT, get("DuocThanhToanTrucTuyen")),
        documents=tuple(_submitted_document(entry) for entry in get("TaiLieuNop", ())),
        results=tuple(_result_document(entry) for entry in get("DanhSachGiayToKetQua", ())),
        fees=tuple(_fee(entry) for entry in get("DanhSachLePhi", ())),
        supplements=tuple(_supplement(entry) for entry in get("DanhSachHoSoBoSung", ())),
        other_papers=tuple(_other_paper(entry) for entry in get("DanhSachTepDinhKemKhac", ())),
    )
    return Decoded(dossier)


def _submitted_document(entry: dict[str, Any]) -> SubmittedDocument:
    deleted = entry.get("IsDeleted")
    return SubmittedDocument(
        name=entry["TenTepDinhKem"],
        id=text_or_none(entry.get("TepDinhKemId")),
        deleted=_DELETED[deleted] if deleted else None,
        component_code=text_or_none(entry.get("MaThanhPhanHoSo")),
        url=text_or_none(entry.get("DuongDanTaiTepTin")),
    )


def _result_document(entry: dict[str, Any]) -> ResultDocument:
    return ResultDocument(
        name=entry["TenGiayTo"],
        id=text_or_none(entry.get("GiayToId")),
        component_code=text_or_none(entry.get("MaThanhPhanHoSo")),
        url=text_or_none(entry.get("DuongDanTepTinKetQua")),
    )


def _fee(entry: dict[str, Any]) -> Fee:
    return Fee(
        name=entry["TenPhiLePhi"],
        amount=Decimal(entry["Gia"]),
        code=text_or_none(entry.get("MaPhiLePhi")),
        collection_method=text_or_none(entry.get("HinhThucThu")),
        kind=text_or_none(entry.get("LoaiPhiLePhi")),
    )


def _supplement(entry: dict[str, Any]) -> Supplement:
    get = entry.get
    return Supplement(
        id=entry["HoSoBoSungId"],
        requested_by=text_or_none(get("NguoiYeuCauBoSung")),
        content=text_or_none(get("NoiDungBoSung")),
        requested_at=_time(get("NgayBoSung")),
        received_by=text_or_none(get("NguoiTiepNhanBoSung")),
        receipt_info=text_or_none(get("ThongTinTiepNhan")),
        received_at=_time(get("NgayTiepNhanBoSung")),
        status=text_or_none(get("TrangThaiBoSung")),
        previous_due_at=_time(get("NgayHenTraTruoc")),
        new_due_at=_time(get("NgayHenTraMoi")),
    )


def _other_paper(entry: dict[str, Any]) -> OtherPaper:
    quantity = entry.get("SoLuong")
    return OtherPaper(
        name=entry["TenGiayTo"],
        quantity=int(quantity) if quantity else None,
        kind=text_or_none(entry.get("LoaiGiayTo")),
    )


def encode_dossier(dossier: Dossier, context: TranslationContext) -> Encoded:
    applicant, field = dossier.applicant, dossier.field
    record = {
        "MaHoSo": dossier.dossier_no,
        "MaTTHC": dossier.procedure.code,
        "TenTTHC": dossier.procedure.name,
        "MaLinhVuc": None if field is None else field.code,
        "TenLinhVuc": None if field is None else field.name,
        "KenhThucHien": _national(_CHANNEL_CODE, dossier.channel),
        "SoGiayToChuHoSo": applicant.id_number,
        "ChuHoSo": applicant.name,
        "LoaiDoiTuong": _national(_APPLICANT_KIND_CODE, applicant.kind),
        "MaDoiTuong": applicant.object_code,
        "ThongTinKhac": dossier.other_info,
        "Email": applicant.email,
        "Fax": applicant.fax,
        "SoDienThoai": applicant.phone,
        "TrichYeuHoSo": dossier.summary,
        "NgayTiepNhan": _timestamp(dossier.received_at),
        "NgayHenTra": _timestamp(dossier.due_at),
        "TrangThaiHoSo": _STATUS_CODE[dossier.status],
        "NgayTra": _timestamp(dossier.returned_at),
        "ThongTinTra": dossier.return_info,
        "HinhThuc": dossier.return_method,
        "NgayKetThucXuLy": _timestamp(dossier.processing_finished_at),
        "DonViXuLy": dossier.handling_unit,
        "GhiChu": dossier.note,
        "NoiNopHoSo": dossier.submission_place,
        "NgayNopHoSo": _timestamp(dossier.submitted_at),
        "NgayTuChoi": _timestamp(dossier.refused_at),
        "DuocThanhToanTrucTuyen": _national(_ONLINE_PAYMENT_CODE, dossier.online_payment),
        "TaiLieuNop": [
            without_none(
                {
                    "TepDinhKemId": document.id,
                    "TenTepDinhKem": document.name,
                    "IsDeleted": None if document.deleted is None else ("True" if document.deleted else "False"),
                    "MaThanhPhanHoSo": document.component_code,
                    "DuongDanTaiTepTin": document.url,
                }
            )
            for document in dossier.documents
        ]
        or None,
        "DanhSachGiayToKetQua": [
            without_none(
                {
                    "TenGiayTo": result.name,
                    "MaThanhPhanHoSo": result.component_code,
                    "GiayToId": result.id,
                    "DuongDanTepTinKetQua": result.url,
                }
            )
            for result in dossier.results
        ]
        or None,
        "DanhSachLePhi": [
            without_none(
                {
                    "TenPhiLePhi": fee.name,
                    "MaPhiLePhi": fee.code,
                    "HinhThucThu": fee.collection_method,
                    "Gia": f"{fee.amount:f}",
                    "LoaiPhiLePhi": fee.kind,
                }
            )
            for fee in dossier.fees
        ]
        or None,
        "DanhSachHoSoBoSung": [_supplement_record(supplement) for supplement in dossier.supplements] or None,
        "DanhSachTepDinhKemKhac": [
            without_none(
                {
                    "TenGiayTo": paper.name,
                    "SoLuong": None if paper.quantity is None else str(paper.quantity),
                    "LoaiGiayTo": paper.kind,
                }
            )
            for paper in dossier.other_papers
        ]
        or None,
        "DinhDanhCHS": [
            {"LoaiDinhDanh": _IDENTITY_CODE[identity.type], "SoDinhDanh": identity.number}
            for identity in applicant.identities
        ]
        or None,
    }
    return Encoded(orjson.dumps(without_none(record)))


def _supplement_record(supplement: Supplement) -> dict[str, Any]:
    return without_none(
        {
            "HoSoBoSungId": supplement.id,
            "NguoiYeuCauBoSung": supplement.requested_by,
            "NoiDungBoSung": supplement.content,
            "NgayBoSung": _timestamp(supplement.requested_at),
            "NguoiTiepNhanBoSung": supplement.received_by,
            "ThongTinTiepNhan": supplement.receipt_info,
            "NgayTiepNhanBoSung": _timestamp(supplement.received_at),
            "TrangThaiBoSung": supplement.status,
            "NgayHenTraTruoc": _timestamp(supplement.previous_due_at),
            "NgayHenTraMoi": _timestamp(supplement.new_due_at),
        }
    )


def decode_progress(record: dict[str, Any]) -> Decoded:
    get = record.get
    progress = DossierProgress(
        dossier_no=record["MaHoSo"],
        handled_at=portal_time(record["ThoiDiemXuLy"]),
        status=_STATUS[record["TrangThai"]],
        handler=Handler(
            name=record["NguoiXuLy"], title=text_or_none(get("ChucDanh")), department=text_or_none(get("PhongBanXuLy"))
        ),
        content=text_or_none(get("NoiDungXuLy")),
        started_at=_time(get("NgayBatDau")),
        due_at=_time(get("NgayKetThucTheoQuyDinh")),
    )
    return Decoded(progress)


def encode_progress(progress: DossierProgress, context: TranslationContext) -> Encoded:
    handler = progress.handler
    record = {
        "MaHoSo": progress.dossier_no,
        "NguoiXuLy": handler.name,
        "ChucDanh": handler.title,
        "ThoiDiemXuLy": _timestamp(progress.handled_at),
        "PhongBanXuLy": handler.department,
        "NoiDungXuLy": progress.content,
        "TrangThai": _STATUS_CODE[progress.status],
        "NgayBatDau": _timestamp(progress.started_at),
        "NgayKetThucTheoQuyDinh": _timestamp(progress.due_at),
    }
    return Encoded(orjson.dumps(without_none(record)))


DOSSIER_CODEC: Final = Codec(
    format="dvcqg.dossier",
    model=Dossier,
    media_type="application/json",
    decode=decode_dossier,
    encode=encode_dossier,
)
PROGRESS_CODEC: Final = Codec(
    format="dvcqg.progress",
    model=DossierProgress,
    media_type="application/json",
    decode=decode_progress,
    encode=encode_progress,
)
