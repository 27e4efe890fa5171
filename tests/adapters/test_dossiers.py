"""Dossier and progress translation, local ↔ national, as an integrator checks it: every code of
every table (schemas/README.md, "Code tables") both ways, times in Vietnam, exact amounts, and the
warnings a translation gives."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import orjson
import pytest

from adapters.canonical.dossier import Dossier
from adapters.dvcqg.codec import DOSSIER_CODEC as NATIONAL_DOSSIER
from adapters.dvcqg.codec import PROGRESS_CODEC as NATIONAL_PROGRESS
from adapters.onestop.codec import DOSSIER_CODEC as LOCAL_DOSSIER
from lgsp.assembly import build_inspector, build_translator
from lgsp.errors import InvalidMessage
from lgsp.ids import VIETNAM
from lgsp.inspection import Inspector
from lgsp.settings import Settings
from lgsp.translation import Translation, TranslationContext, Translator
from tests.conftest import ROOT

CONTEXT = TranslationContext(bus_organ_id="000.00.00.H41", now=datetime(2025, 10, 1, 9, 0, tzinfo=VIETNAM))
SETTINGS = Settings(organ_id="000.00.00.H41", schemas_dir=ROOT / "schemas")
INSPECTOR: Inspector = build_inspector(SETTINGS)
TRANSLATOR: Translator = build_translator(SETTINGS)

STATUSES = [
    ("registered", "1"),
    ("accepted", "2"),
    ("not_accepted", "3"),
    ("in_progress", "4"),
    ("supplement_requested", "5"),
    ("payment_requested", "6"),
    ("withdrawn", "7"),
    ("stopped", "8"),
    ("processed", "9"),
    ("returned", "10"),
]
APPLICANT_KINDS = [("citizen", "1"), ("enterprise", "2"), ("agency", "3"), ("organisation", "4")]
CHANNELS = [("in_person", "1"), ("online", "2"), ("postal", "3")]
IDENTITIES = [("citizen_id_12", "1", "040190012345"), ("id_card_9", "2", "186543210")]


def local_dossier(**fields: Any) -> dict[str, Any]:
    return {
        "dossier_no": "000.00.12.H41-250314-0007",
        "procedure": {"code": "1.001612.000.00.00.H41", "name": "Đăng ký khai sinh"},
        "applicant": {"name": "Nguyễn Thị Hương"},
        "received_at": "2025-03-14T08:30:00+07:00",
        "status": "registered",
        **fields,
    }


def national_dossier(**fields: Any) -> dict[str, Any]:
    return {
        "MaHoSo": "000.00.12.H41-250314-0007",
        "MaTTHC": "1.001612.000.00.00.H41",
        "TenTTHC": "Đăng ký khai sinh",
        "ChuHoSo": "Nguyễn Thị Hương",
        "NgayTiepNhan": "20250314083000",
        "TrangThaiHoSo": "1",
        **fields,
    }


def local_progress(**fields: Any) -> dict[str, Any]:
    return {
        "dossier_no": "000.00.06.H41-250402-0153",
        "handled_at": "2025-04-02T09:15:00+07:00",
        "status": "accepted",
        "handler": {"name": "Phạm Thị Thanh Tâm"},
        **fields,
    }


def national_progress(**fields: Any) -> dict[str, Any]:
    return {
        "MaHoSo": "000.00.06.H41-250402-0153",
        "NguoiXuLy": "Phạm Thị Thanh Tâm",
        "ThoiDiemXuLy": "20250402091500",
        "TrangThai": "2",
        **fields,
    }


def translate(source: str, target: str, document: dict[str, Any]) -> tuple[dict[str, Any], Translation]:
    """Translate a message that must be valid, into one that must be valid."""
    inspection = INSPECTOR.inspect(orjson.dumps(document), "json", source)
    assert inspection.problems == []
    result = TRANSLATOR.translate(source, target, inspection.document, CONTEXT)
    assert INSPECTOR.inspect(result.body, "json", target).problems == []
    translated: dict[str, Any] = orjson.loads(result.body)
    return translated, result


@pytest.mark.parametrize(("local", "national"), STATUSES)
def test_dossier_status_translates_both_ways(local: str, national: str) -> None:
    assert translate("onestop.dossier", "dvcqg.dossier", local_dossier(status=local))[0]["TrangThaiHoSo"] == national
    assert translate("dvcqg.dossier", "onestop.dossier", national_dossier(TrangThaiHoSo=national))[0]["status"] == local


@pytest.mark.parametrize(("local", "national"), STATUSES)
def test_progress_status_translates_both_ways(local: str, national: str) -> None:
    assert translate("onestop.progress", "dvcqg.progress", local_progress(status=local))[0]["TrangThai"] == national
    assert translate("dvcqg.progress", "onestop.progress", national_progress(TrangThai=national))[0]["status"] == local


@pytest.mark.parametrize(("local", "national"), APPLICANT_KINDS)
def test_applicant_kind_translates_both_ways(local: str, national: str) -> None:
    applicant = {"name": "Nguyễn Thị Hương", "kind": local}
    assert (
        translate("onestop.dossier", "dvcqg.dossier", local_dossier(applicant=applicant))[0]["LoaiDoiTuong"] == national
    )
    back, _ = translate("dvcqg.dossier", "onestop.dossier", national_dossier(LoaiDoiTuong=national))
    assert back["applicant"] == applicant


@pytest.mark.parametrize(("local", "national"), CHANNELS)
def test_channel_translates_both_ways(local: str, national: str) -> None:
    assert translate("onestop.dossier", "dvcqg.dossier", local_dossier(channel=local))[0]["KenhThucHien"] == national
    assert translate("dvcqg.dossier", "onestop.dossier", national_dossier(KenhThucHien=national))[0]["channel"] == local


@pytest.mark.parametrize(("local", "national", "number"), IDENTITIES)
def test_identity_type_translates_both_ways(local: str, national: str, number: str) -> None:
    applicant = {"name": "Nguyễn Thị Hương", "identities": [{"type": local, "number": number}]}
    national_dossier_, _ = translate("onestop.dossier", "dvcqg.dossier", local_dossier(applicant=applicant))
    assert national_dossier_["DinhDanhCHS"] == [{"LoaiDinhDanh": national, "SoDinhDanh": number}]
    back, _ = translate("dvcqg.dossier", "onestop.dossier", national_dossier_)
    assert back["applicant"] == applicant


@pytest.mark.parametrize(
    ("local", "national"),
    [
        ({"online_payment": False}, "0"),
        ({"online_payment": True}, "1"),
        ({"online_payment": True, "online_payment_via": "national_portal"}, "1"),
        ({"online_payment_via": "national_portal"}, "1"),
        ({"online_payment": True, "online_payment_via": "provincial_gateway"}, "2"),
        ({"online_payment_via": "provincial_gateway"}, "2"),
    ],
)
def test_online_payment_becomes_the_national_code(local: dict[str, Any], national: str) -> None:
    translated, _ = translate("onestop.dossier", "dvcqg.dossier", local_dossier(**local))
    assert translated["DuocThanhToanTrucTuyen"] == national


@pytest.mark.parametrize(
    ("national", "local"),
    [
        ("0", {"online_payment": False}),
        ("1", {"online_payment": True, "online_payment_via": "national_portal"}),
        ("2", {"online_payment": True, "online_payment_via": "provincial_gateway"}),
    ],
)
def test_national_online_payment_is_spelt_out_locally(national: str, local: dict[str, Any]) -> None:
    translated, _ = translate("dvcqg.dossier", "onestop.dossier", national_dossier(DuocThanhToanTrucTuyen=national))
    payment_fields = ("online_payment", "online_payment_via")
    assert {key: translated[key] for key in payment_fields if key in translated} == local


def test_no_payment_information_stays_absent() -> None:
    translated, _ = translate("onestop.dossier", "dvcqg.dossier", local_dossier())
    assert "DuocThanhToanTrucTuyen" not in translated
    back, _ = translate("dvcqg.dossier", "onestop.dossier", translated)
    assert "online_payment" not in back
    assert "online_payment_via" not in back


@pytest.mark.parametrize(
    ("spelling", "deleted"),
    [("True", True), ("true", True), ("1", True), ("False", False), ("false", False), ("0", False)],
)
def test_every_accepted_is_deleted_spelling_reads_as_a_boolean(spelling: str, deleted: bool) -> None:
    papers = [{"TenTepDinhKem": "Tờ khai.pdf", "IsDeleted": spelling}]
    translated, _ = translate("dvcqg.dossier", "onestop.dossier", national_dossier(TaiLieuNop=papers))
    assert translated["documents"] == [{"name": "Tờ khai.pdf", "deleted": deleted}]


@pytest.mark.parametrize(("deleted", "spelling"), [(True, "True"), (False, "False")])
def test_deleted_is_written_as_the_portal_documents_it(deleted: bool, spelling: str) -> None:
    papers = [{"name": "Tờ khai.pdf", "deleted": deleted}]
    translated, _ = translate("onestop.dossier", "dvcqg.dossier", local_dossier(documents=papers))
    assert translated["TaiLieuNop"] == [{"TenTepDinhKem": "Tờ khai.pdf", "IsDeleted": spelling}]


@pytest.mark.parametrize(
    ("local", "national"),
    [
        ("2025-03-14T08:30:00+07:00", "20250314083000"),
        ("2025-03-14T01:30:00Z", "20250314083000"),
        ("2025-03-14T09:30:00+08:00", "20250314083000"),
        ("2025-03-13T20:30:00-05:00", "20250314083000"),
        ("2025-12-31T17:00:00Z", "20260101000000"),  # a new year in Hanoi, not yet in London
        ("2024-02-28T20:00:00-04:00", "20240229070000"),  # a leap day
    ],
)
def test_local_times_become_vietnamese_wall_time(local: str, national: str) -> None:
    translated, _ = translate("onestop.progress", "dvcqg.progress", local_progress(handled_at=local))
    assert translated["ThoiDiemXuLy"] == national


def test_national_times_are_read_as_vietnamese_time() -> None:
    translated, _ = translate("dvcqg.progress", "onestop.progress", national_progress(ThoiDiemXuLy="20260101000000"))
    assert translated["handled_at"] == "2026-01-01T00:00:00+07:00"
    progress = NATIONAL_PROGRESS.decode(national_progress(ThoiDiemXuLy="20260101000000")).model
    assert progress.handled_at == datetime(2025, 12, 31, 17, 0, tzinfo=UTC)
    assert progress.handled_at.utcoffset() == timedelta(hours=7)


def test_vietnamese_time_is_utc_plus_seven_even_when_tzdata_says_otherwise() -> None:
    # tzdata gives Asia/Ho_Chi_Minh +08:00 from 1959 to 1975; the national formats mean +07:00.
    translated, _ = translate("dvcqg.progress", "onestop.progress", national_progress(ThoiDiemXuLy="19700101000000"))
    assert translated["handled_at"] == "1970-01-01T00:00:00+07:00"


def test_a_fraction_of_a_second_is_dropped_with_a_warning() -> None:
    translated, result = translate(
        "onestop.progress", "dvcqg.progress", local_progress(handled_at="2025-04-02T09:15:00.999+07:00")
    )
    assert translated["ThoiDiemXuLy"] == "20250402091500"
    assert [(warning.path, warning.found) for warning in result.warnings] == [
        ("/handled_at", "2025-04-02T09:15:00.999+07:00")
    ]
    assert "whole seconds" in result.warnings[0].message


def test_a_zero_fraction_is_no_loss() -> None:
    _, result = translate("onestop.progress", "dvcqg.progress", local_progress(handled_at="2025-04-02T09:15:00.000Z"))
    assert result.warnings == ()


def test_warnings_name_the_dossier_field_that_lost_a_fraction() -> None:
    supplements = [{"id": "BS-1"}, {"id": "BS-2", "new_due_at": "2025-06-11T17:00:00.25+07:00"}]
    _, result = translate("onestop.dossier", "dvcqg.dossier", local_dossier(supplements=supplements))
    assert [warning.path for warning in result.warnings] == ["/supplements/1/new_due_at"]


def test_a_time_beyond_the_calendar_in_vietnam_is_refused() -> None:
    with pytest.raises(InvalidMessage) as refused:
        LOCAL_DOSSIER.decode(local_dossier(due_at="9999-12-31T23:00:00-05:00"))
    assert [problem.path for problem in refused.value.problems] == ["/due_at"]


def test_amounts_are_exact_decimals() -> None:
    fees = [{"TenPhiLePhi": "Lệ phí", "Gia": "150000"}, {"TenPhiLePhi": "Phí", "Gia": "123456789012345678901234567890"}]
    dossier: Dossier = NATIONAL_DOSSIER.decode(national_dossier(DanhSachLePhi=fees)).model
    assert [fee.amount for fee in dossier.fees] == [Decimal("150000"), Decimal("123456789012345678901234567890")]
    assert all(type(fee.amount) is Decimal for fee in dossier.fees)
    written = orjson.loads(NATIONAL_DOSSIER.encode(dossier, CONTEXT).body)
    assert [fee["Gia"] for fee in written["DanhSachLePhi"]] == ["150000", "123456789012345678901234567890"]


def test_amounts_translate_both_ways_without_float() -> None:
    fees = [{"name": "Lệ phí", "amount": 150000}, {"name": "Miễn phí", "amount": 0}]
    national, _ = translate("onestop.dossier", "dvcqg.dossier", local_dossier(fees=fees))
    assert [fee["Gia"] for fee in national["DanhSachLePhi"]] == ["150000", "0"]
    back, _ = translate("dvcqg.dossier", "onestop.dossier", national)
    assert back["fees"] == fees


def test_a_national_amount_with_leading_zeros_is_the_same_amount() -> None:
    fees = [{"TenPhiLePhi": "Lệ phí", "Gia": "0050000"}]
    translated, _ = translate("dvcqg.dossier", "onestop.dossier", national_dossier(DanhSachLePhi=fees))
    assert translated["fees"] == [{"name": "Lệ phí", "amount": 50000}]


def test_an_amount_too_large_for_local_json_is_refused_not_rounded() -> None:
    fees = [{"TenPhiLePhi": "Phí", "Gia": "9223372036854775808"}]
    inspection = INSPECTOR.inspect(orjson.dumps(national_dossier(DanhSachLePhi=fees)), "json", "dvcqg.dossier")
    with pytest.raises(InvalidMessage) as refused:
        TRANSLATOR.translate("dvcqg.dossier", "onestop.dossier", inspection.document, CONTEXT)
    assert [problem.path for problem in refused.value.problems] == ["/fees/0/amount"]


def test_empty_national_values_are_absent_locally() -> None:
    national = national_dossier(
        Fax="",
        NgayHenTra="",
        GhiChu="",
        TaiLieuNop=[],
        DanhSachTepDinhKemKhac=[{"TenGiayTo": "Bản chính", "SoLuong": ""}],
    )
    translated, _ = translate("dvcqg.dossier", "onestop.dossier", national)
    assert translated == local_dossier(other_papers=[{"name": "Bản chính"}])


def test_empty_local_text_is_omitted_nationally() -> None:
    applicant = {"name": "Nguyễn Thị Hương", "fax": "", "email": ""}
    translated, _ = translate(
        "onestop.dossier", "dvcqg.dossier", local_dossier(applicant=applicant, note="", field={"code": "", "name": ""})
    )
    assert translated == national_dossier()


def test_a_full_dossier_comes_back_unchanged() -> None:
    sample = orjson.loads((ROOT / "tests/samples/onestop.dossier/valid/land-certificate-returned.json").read_bytes())
    national, there = translate("onestop.dossier", "dvcqg.dossier", sample)
    back, again = translate("dvcqg.dossier", "onestop.dossier", national)
    assert back == sample
    assert there.warnings == again.warnings == ()
