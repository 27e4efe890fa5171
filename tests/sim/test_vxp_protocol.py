"""The axis's signed headers: what a call carries, and every reason the axis refuses one."""

from __future__ import annotations

import hashlib
import hmac
import json
from datetime import UTC, datetime, timedelta

import pytest
from multidict import CIMultiDict

from lgsp.ids import VIETNAM
from lgsp.protocols import vxp

SYSTEM = vxp.RegisteredSystem(systemid="stc-h41", secret="secret-of-stc-h41-system", organ_id="000.00.06.H41")
BODY = b"<edXML>...</edXML>"
NOW = datetime(2025, 3, 7, 14, 30, 5, 123_000, tzinfo=VIETNAM)


def system_of(systemid: str) -> vxp.RegisteredSystem | None:
    return SYSTEM if systemid == SYSTEM.systemid else None


def send_edoc_headers(body: bytes = BODY, sender: str = SYSTEM.organ_id, secret: str = SYSTEM.secret) -> dict[str, str]:
    params = {
        "from": sender,
        "to": '["000.00.00.H41"]',
        "servicetype": "eDoc",
        "messagetype": "status",
        "hash-file": vxp.body_hash(body),
    }
    return vxp.sign("sendEdoc", params, SYSTEM.systemid, secret, now=NOW)


def refusal(headers: dict[str, str], body: bytes = BODY, now: datetime = NOW) -> vxp.Refusal:
    with pytest.raises(vxp.Refusal) as refused:
        vxp.verify(headers, body, system_of, now)
    return refused.value


def test_the_timestamp_is_vietnam_time_with_four_digit_milliseconds() -> None:
    assert vxp.format_timestamp(NOW) == "07032025T143005+0123"
    assert vxp.format_timestamp(NOW.astimezone(UTC)) == "07032025T143005+0123"
    assert vxp.parse_timestamp("07032025T143005+0123") == NOW
    assert vxp.parse_timestamp("31022025T143005+0123") is None
    assert vxp.parse_timestamp("2025-03-07T14:30:05+07:00") is None


def test_every_parameter_goes_bare_and_prefixed_and_the_hash_is_the_hmac_of_the_signed_json() -> None:
    headers = send_edoc_headers()

    names = headers["XroadVnpt-sign-header-key"].split(";")
    assert names == ["from", "to", "servicetype", "messagetype", "hash-file", "operation", "systemid", "timestamp"]
    signed = json.loads(headers["XroadVnpt-sign-header"])
    assert signed == {f"XroadVnpt-{name}": headers[name] for name in names}
    assert all(headers[f"XroadVnpt-{name}"] == headers[name] for name in names)
    assert headers["timestamp"] == "07032025T143005+0123"
    assert headers["systemid"] == "stc-h41"
    expected = hmac.new(SYSTEM.secret.encode(), headers["XroadVnpt-sign-header"].encode(), hashlib.sha256)
    assert headers["XroadVnpt-hash-header"] == expected.hexdigest()
    assert headers["hash-file"] == hashlib.sha256(BODY).hexdigest()


def test_a_signed_call_verifies_with_the_signed_values() -> None:
    call = vxp.verify(CIMultiDict(send_edoc_headers()), BODY, system_of, NOW + timedelta(seconds=30))

    assert call.system == SYSTEM
    assert call.operation == "sendEdoc"
    assert call.params["to"] == '["000.00.00.H41"]'
    assert call.params["messagetype"] == "status"


def test_header_names_are_matched_without_regard_to_case_as_http_does() -> None:
    lowered = CIMultiDict({name.lower(): value for name, value in send_edoc_headers().items()})

    assert vxp.verify(lowered, BODY, system_of, NOW).operation == "sendEdoc"


def test_a_signature_made_with_another_secret_is_refused() -> None:
    refused = refusal(send_edoc_headers(secret="not-the-registered-secret"))

    assert refused.code == vxp.ErrorCode.UNAUTHENTICATED
    assert "HMAC" in refused.reason


def test_a_signed_json_altered_after_signing_is_refused() -> None:
    headers = send_edoc_headers()
    headers["XroadVnpt-sign-header"] = headers["XroadVnpt-sign-header"].replace("status", "edoc")
    headers["messagetype"] = headers["XroadVnpt-messagetype"] = "edoc"

    assert refusal(headers).code == vxp.ErrorCode.UNAUTHENTICATED


@pytest.mark.parametrize("header", ["to", "XroadVnpt-to"])
def test_a_header_that_is_not_the_value_signed_is_refused(header: str) -> None:
    headers = send_edoc_headers()
    headers[header] = '["000.00.07.H41"]'

    refused = refusal(headers)
    assert refused.code == vxp.ErrorCode.UNAUTHENTICATED
    assert header in refused.reason


def test_an_unsigned_call_and_an_unknown_system_are_refused() -> None:
    unsigned = {name: value for name, value in send_edoc_headers().items() if name != "XroadVnpt-hash-header"}
    assert refusal(unsigned).code == vxp.ErrorCode.UNAUTHENTICATED

    stranger = vxp.sign("getAgenciesList", {}, "nobody", "whatever-secret-it-has", now=NOW)
    refused = refusal(stranger, body=b"")
    assert refused.code == vxp.ErrorCode.UNAUTHENTICATED
    assert "nobody" in refused.reason


def test_a_from_that_is_not_the_registered_organ_is_refused() -> None:
    refused = refusal(send_edoc_headers(sender="000.00.00.H41"))

    assert refused.code == vxp.ErrorCode.WRONG_SENDER
    assert "000.00.06.H41" in refused.reason


@pytest.mark.parametrize("skew", [timedelta(minutes=6), -timedelta(minutes=6)])
def test_a_timestamp_outside_the_window_is_refused(skew: timedelta) -> None:
    refused = refusal(send_edoc_headers(), now=NOW + skew)

    assert refused.code == vxp.ErrorCode.STALE_TIMESTAMP
    assert "360 s" in refused.reason


def test_the_window_is_the_verifiers_choice() -> None:
    with pytest.raises(vxp.Refusal):
        vxp.verify(send_edoc_headers(), BODY, system_of, NOW + timedelta(seconds=61), window=timedelta(seconds=60))


def test_a_body_that_is_not_the_one_hashed_is_refused() -> None:
    refused = refusal(send_edoc_headers(), body=BODY + b" ")

    assert refused.code == vxp.ErrorCode.HASH_MISMATCH


def test_a_body_without_a_signed_hash_file_is_refused() -> None:
    headers = vxp.sign("sendEdoc", {"from": SYSTEM.organ_id}, SYSTEM.systemid, SYSTEM.secret, now=NOW)

    assert refusal(headers).code == vxp.ErrorCode.BAD_REQUEST
