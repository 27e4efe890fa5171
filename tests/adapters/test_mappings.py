"""Vendor mapping files: the shipped iGate example read and written as an operator expects, and
every kind of mistake in a mapping file stopped with the file, line and column at fault."""

from __future__ import annotations

import textwrap
from datetime import date, datetime
from pathlib import Path
from typing import Any

import orjson
import pytest

from adapters.mapping import CODECS as MAPPING_CODECS
from adapters.mapping.catalog import MAPPINGS_DIR, load_file, load_folder
from adapters.onestop.codec import DOSSIER_CODEC as LOCAL_DOSSIER
from lgsp.assembly import build_inspector, build_translator
from lgsp.errors import ConfigError, InvalidMessage
from lgsp.ids import VIETNAM
from lgsp.settings import Settings
from lgsp.translation import TranslationContext
from tests.conftest import ROOT, SAMPLES

IGATE = "vendor.igate.dossier"
CONTEXT = TranslationContext(bus_organ_id="000.00.00.H41", now=datetime(2025, 10, 1, 9, 0, tzinfo=VIETNAM))
SETTINGS = Settings(organ_id="000.00.00.H41", schemas_dir=ROOT / "schemas")
INSPECTOR = build_inspector(SETTINGS)
TRANSLATOR = build_translator(SETTINGS)
TODAY = date(2025, 10, 1)


def igate_sample() -> dict[str, Any]:
    sample: dict[str, Any] = orjson.loads((SAMPLES / "vendor" / "igate-dossier.json").read_bytes())
    return sample


def local_sample() -> dict[str, Any]:
    sample: dict[str, Any] = orjson.loads(
        (SAMPLES / "onestop.dossier" / "valid" / "land-certificate-returned.json").read_bytes()
    )
    return sample


def problems_of(vendor: dict[str, Any]) -> list[tuple[str, str]]:
    inspection = INSPECTOR.inspect(orjson.dumps(vendor), "json", IGATE)
    return [(problem.path, problem.message) for problem in inspection.problems]


# The shipped example, read


def test_the_igate_mapping_is_a_format_vendors_name() -> None:
    spec = INSPECTOR.formats.get(IGATE)
    assert spec.schema is None
    assert not spec.detect(igate_sample())
    with pytest.raises(InvalidMessage, match="not in a format the bus knows"):
        INSPECTOR.inspect(orjson.dumps(igate_sample()), "json", None)
    assert set(TRANSLATOR.targets(IGATE)) >= {"onestop.dossier", "dvcqg.dossier"}


def test_the_igate_sample_is_valid_and_names_its_sender_agency() -> None:
    inspection = INSPECTOR.inspect(orjson.dumps(igate_sample()), "json", IGATE)
    assert inspection.problems == []
    facts = inspection.spec.facts(inspection.document)
    assert (facts.sender_organ, facts.sender_path) == ("000.00.06.H41", "/code")
    assert facts.dossier_no == "000.00.06.H41-250402-0153"


def test_the_igate_sample_reads_as_the_local_dossier_it_describes() -> None:
    result = TRANSLATOR.translate(IGATE, "onestop.dossier", igate_sample(), CONTEXT)
    local = orjson.loads(result.body)
    expected = local_sample()
    expected["documents"].append(
        {
            "id": "58215",
            "name": "Sơ đồ nhà ở, công trình xây dựng gắn liền với đất.pdf",
            "deleted": False,
            "component_code": "TP-03",
            "url": "https://dichvucong.nghean.gov.vn/api/files/58215/download",
        }
    )
    assert local == expected
    assert result.warnings == ()


@pytest.mark.parametrize(
    ("vendor_status", "local_status"),
    [
        (0, "registered"),
        (1, "accepted"),
        (2, "not_accepted"),
        (3, "in_progress"),
        (4, "supplement_requested"),
        (5, "payment_requested"),
        (6, "withdrawn"),
        (7, "stopped"),
        (8, "processed"),
        (9, "returned"),
    ],
)
def test_igate_status_numbers_map_both_ways(vendor_status: int, local_status: str) -> None:
    vendor = igate_sample()
    vendor["dossierStatus"] = {"id": vendor_status}
    local = orjson.loads(TRANSLATOR.translate(IGATE, "onestop.dossier", vendor, CONTEXT).body)
    assert local["status"] == local_status
    back = orjson.loads(TRANSLATOR.translate("onestop.dossier", IGATE, local, CONTEXT).body)
    assert back["dossierStatus"] == {"id": vendor_status}


def test_a_status_number_given_as_text_is_not_the_number() -> None:
    vendor = igate_sample()
    vendor["dossierStatus"] = {"id": "9"}
    assert problems_of(vendor) == [("/dossierStatus/id", "unknown value")]


def test_an_unknown_applicant_type_reads_as_the_default_with_a_warning() -> None:
    vendor = igate_sample()
    vendor["applicant"]["type"] = "HO_KINH_DOANH"
    assert problems_of(vendor) == []
    result = TRANSLATOR.translate(IGATE, "dvcqg.dossier", vendor, CONTEXT)
    assert orjson.loads(result.body)["LoaiDoiTuong"] == "4"
    assert [(warning.path, warning.found) for warning in result.warnings] == [("/applicant/type", "HO_KINH_DOANH")]


def test_vendor_fields_no_rule_reads_are_warnings_unless_ignored() -> None:
    vendor = igate_sample()
    vendor["createdBy"] = {"id": "u-1043"}
    vendor["applicant"]["birthDate"] = "15/08/1985"
    vendor["fees"][1]["receiptNo"] = "BL-0099"
    vendor["note"] = None  # null carries nothing
    result = TRANSLATOR.translate(IGATE, "dvcqg.dossier", vendor, CONTEXT)
    assert sorted(warning.path for warning in result.warnings) == [
        "/applicant/birthDate",
        "/createdBy",
        "/fees/1/receiptNo",
    ]


def test_dates_are_read_in_vietnamese_time_with_or_without_leading_zeros() -> None:
    vendor = igate_sample()
    vendor["acceptedDate"] = "2/4/2025 09:15:00"
    national = orjson.loads(TRANSLATOR.translate(IGATE, "dvcqg.dossier", vendor, CONTEXT).body)
    assert national["NgayTiepNhan"] == "20250402091500"


def test_problems_of_a_vendor_document_cite_its_own_fields() -> None:
    vendor = igate_sample()
    vendor["messageType"] = "DOSSIER_DELETE"
    del vendor["procedure"]["name"]
    vendor["applyMethod"] = 7
    vendor["acceptedDate"] = "2025-04-02 09:15:00"
    vendor["appointmentDate"] = "31/02/2025 17:00:00"
    vendor["agency"] = "Chi nhánh Văn phòng Đăng ký đất đai"
    vendor["attachments"][1] = "Bản sao.pdf"
    vendor["applicant"]["identities"][0]["number"] = "04008500987"
    vendor["fees"][0]["amount"] = "100000"
    vendor["code"] = "000.00.06.H41 250402 0153"
    assert sorted(path for path, _ in problems_of(vendor)) == [
        "/acceptedDate",
        "/agency",
        "/applicant/identities/0/number",
        "/applicant/identities/0/number",  # 12 digits for a CCCD, and 9 or 12 for any number
        "/applyMethod",
        "/appointmentDate",
        "/attachments/1",
        "/code",
        "/fees/0/amount",
        "/messageType",
        "/procedure",
    ]


def test_a_missing_vendor_field_is_named_with_the_local_field_it_feeds() -> None:
    vendor = igate_sample()
    del vendor["applicant"]
    [(path, message)] = problems_of(vendor)
    assert path == ""
    assert "applicant" in message
    assert "applicant.name" in message


def test_payment_channel_without_payment_is_refused_at_the_vendor_field() -> None:
    vendor = igate_sample()
    vendor["payment"] = {"paid": False, "channel": "DVCQG"}
    [(path, message)] = problems_of(vendor)
    assert path == "/payment/channel"
    assert "online_payment_via" in message


# The shipped example, written


def test_a_local_dossier_is_written_in_igate_form() -> None:
    result = TRANSLATOR.translate("onestop.dossier", IGATE, local_sample(), CONTEXT)
    vendor = orjson.loads(result.body)
    expected = igate_sample()
    del expected["syncId"], expected["dossierStatus"]["name"]  # ignored when read: nothing to write back
    expected["attachments"].pop()  # the local sample has two attachments
    assert vendor == expected
    assert result.warnings == ()


def test_what_igate_cannot_carry_is_a_warning_at_the_local_field() -> None:
    local = local_sample()
    local["applicant"]["fax"] = "02383844123"
    local["submission_place"] = "2"
    local["supplements"] = [{"id": "BS-000142", "content": "Bổ sung bản vẽ"}]
    result = TRANSLATOR.translate("onestop.dossier", IGATE, local, CONTEXT)
    assert sorted(warning.path for warning in result.warnings) == [
        "/applicant/fax",
        "/submission_place",
        "/supplements",
    ]
    vendor = orjson.loads(result.body)
    assert "supplements" not in vendor
    assert "fax" not in vendor["applicant"]


def test_the_national_portal_dossier_goes_to_igate_and_back() -> None:
    national = orjson.loads((SAMPLES / "dvcqg.dossier" / "valid" / "dossier-3kb.json").read_bytes())
    vendor = orjson.loads(TRANSLATOR.translate("dvcqg.dossier", IGATE, national, CONTEXT).body)
    assert INSPECTOR.inspect(orjson.dumps(vendor), "json", IGATE).problems == []
    back = orjson.loads(TRANSLATOR.translate(IGATE, "dvcqg.dossier", vendor, CONTEXT).body)
    del national["Fax"]  # "" means absent
    assert back == national


def test_igate_and_local_agree_on_the_canonical_dossier() -> None:
    [igate_codec] = [codec for codec in MAPPING_CODECS if codec.format == IGATE]
    vendor_decoded = igate_codec.decode(igate_sample())
    local = orjson.loads(TRANSLATOR.translate(IGATE, "onestop.dossier", igate_sample(), CONTEXT).body)
    assert vendor_decoded.model == LOCAL_DOSSIER.decode(local).model


# Mapping files with mistakes

BASE = """\
format: vendor.test.progress
local: onestop.progress
fields:
  - vendor: dossierCode
    local: dossier_no
  - vendor: time
    local: handled_at
    date: "%d/%m/%Y %H:%M:%S"
  - vendor: state
    local: status
    values:
      1: accepted
      2: in_progress
  - vendor: officer.name
    local: handler.name
"""


def mapping_file(folder: Path, text: str) -> Path:
    path = folder / "test.yaml"
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return path


def position(text: str, fragment: str, occurrence: int = 1) -> str:
    """``line:column`` (1-based) of the n-th occurrence of ``fragment`` in ``text``."""
    start = -1
    for _ in range(occurrence):
        start = text.index(fragment, start + 1)
    return f"{text.count(chr(10), 0, start) + 1}:{start - text.rfind(chr(10), 0, start)}"


def refusal(folder: Path, text: str) -> str:
    path = mapping_file(folder, text)
    with pytest.raises(ConfigError) as refused:
        load_file(path)
    return str(refused.value).removeprefix(f"{path}:")


def test_the_base_mapping_file_is_valid(tmp_path: Path) -> None:
    vendor = load_file(mapping_file(tmp_path, BASE))
    mapped = vendor.mapping.to_local(
        {"dossierCode": "H41-1", "time": "02/04/2025 09:15:00", "state": 2, "officer": {"name": "Hồ Sỹ Nam"}}
    )
    assert mapped.problems == mapped.warnings == []
    assert mapped.document == {
        "dossier_no": "H41-1",
        "handled_at": "2025-04-02T09:15:00+07:00",
        "status": "in_progress",
        "handler": {"name": "Hồ Sỹ Nam"},
    }


def test_an_unknown_local_field_is_refused_where_it_is_named(tmp_path: Path) -> None:
    text = BASE.replace("local: handler.name", "local: handler.fullname")
    message = refusal(tmp_path, text)
    assert message.startswith(position(text, "handler.fullname") + ": ")
    assert "onestop.progress has no field handler.fullname" in message
    assert "name, title, department" in message


def test_a_bad_date_format_is_refused_where_it_is_written(tmp_path: Path) -> None:
    text = BASE.replace('"%d/%m/%Y %H:%M:%S"', '"%d/%m/%Q %H:%M"')
    message = refusal(tmp_path, text)
    assert message.startswith(position(text, '"%d/%m/%Q') + ": ")
    assert "%Q" in message


def test_a_date_without_a_year_is_refused(tmp_path: Path) -> None:
    text = BASE.replace('"%d/%m/%Y %H:%M:%S"', '"%d/%m %H:%M"')
    assert refusal(tmp_path, text).startswith(position(text, '"%d/%m %H') + ": bad date format")


def test_a_duplicate_key_is_refused_at_the_second_one(tmp_path: Path) -> None:
    text = BASE.replace("    local: dossier_no\n", "    local: dossier_no\n    vendor: dossierNumber\n")
    message = refusal(tmp_path, text)
    assert message.startswith(position(text, "vendor: dossierNumber") + ": ")
    assert "duplicate key" in message


def test_an_irreversible_value_map_is_refused_at_the_second_vendor_value(tmp_path: Path) -> None:
    text = BASE.replace("      2: in_progress\n", "      2: in_progress\n      3: in_progress\n")
    message = refusal(tmp_path, text)
    assert message.startswith(position(text, "3: in_progress") + ": ")
    assert "not reversible" in message


def test_an_irreversible_value_map_is_accepted_when_only_read(tmp_path: Path) -> None:
    text = BASE.replace(
        "      2: in_progress\n", "      2: in_progress\n      3: in_progress\n    direction: from_vendor\n"
    )
    mapping = load_file(mapping_file(tmp_path, text)).mapping
    mapped = mapping.to_local(
        {"dossierCode": "H41-1", "time": "02/04/2025 09:15:00", "state": 3, "officer": {"name": "A"}}
    )
    assert mapped.document["status"] == "in_progress"


def test_a_value_of_the_wrong_type_is_refused_where_it_is(tmp_path: Path) -> None:
    text = BASE.replace(
        "    values:\n      1: accepted\n      2: in_progress\n", "    values: [accepted, in_progress]\n"
    )
    message = refusal(tmp_path, text)
    assert message.startswith(position(text, "[accepted") + ": fields.2.values: ")
    assert 'is not of type "object"' in message


def test_a_misspelt_rule_key_is_refused_at_the_key(tmp_path: Path) -> None:
    text = BASE.replace("  - vendor: officer.name", "  - vendr: officer.name")
    message = refusal(tmp_path, text)
    assert message.startswith(position(text, "vendr") + ": ")
    assert "vendr" in message


def test_a_local_value_the_field_does_not_take_is_refused(tmp_path: Path) -> None:
    text = BASE.replace("2: in_progress", "2: in-progress")
    message = refusal(tmp_path, text)
    assert message.startswith(position(text, "in-progress") + ": status: ")


def test_a_required_local_field_no_rule_sets_is_refused(tmp_path: Path) -> None:
    text = BASE.replace("  - vendor: officer.name\n    local: handler.name\n", "")
    message = refusal(tmp_path, text)
    assert message == position(text, "fields:") + ": no rule reads handler, which onestop.progress requires"


def test_a_local_field_set_twice_is_refused_at_the_second_rule(tmp_path: Path) -> None:
    text = BASE + "  - vendor: officer.fullName\n    local: handler\n"
    message = refusal(tmp_path, text)
    assert message.startswith(position(text, "handler\n") + ": ")
    assert "handler is already set by the rule at line 14" in message


def test_an_unknown_time_zone_is_refused(tmp_path: Path) -> None:
    text = BASE.replace('    date: "%d/%m/%Y %H:%M:%S"\n', '    date: "%d/%m/%Y %H:%M:%S"\n    zone: Asia/Hanoi_City\n')
    assert refusal(tmp_path, text).startswith(position(text, "Asia/Hanoi_City") + ": unknown time zone")


def test_a_yaml_syntax_error_is_refused_with_its_place(tmp_path: Path) -> None:
    text = BASE.replace("      1: accepted", "      1: [accepted")
    assert refusal(tmp_path, text) == position(text, ": in_progress") + ": expected ',' or ']', but got ':'"


def test_two_files_describing_one_format_are_refused(tmp_path: Path) -> None:
    (tmp_path / "a.yaml").write_text(BASE, encoding="utf-8")
    (tmp_path / "b.yaml").write_text(BASE, encoding="utf-8")
    with pytest.raises(ConfigError, match=r"b\.yaml: format vendor\.test\.progress is already described by .*a\.yaml"):
        load_folder(tmp_path)


def test_every_shipped_mapping_file_loads() -> None:
    assert [vendor.spec.name for vendor in load_folder(MAPPINGS_DIR)] == [IGATE]
