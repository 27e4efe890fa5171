"""The axis simulator over HTTP: store-and-forward between registered systems, status packages, refusals."""

from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import Any

import aiohttp
from aiohttp.test_utils import TestServer

from lgsp.inspection import Inspector
from lgsp.protocols import vxp
from lgsp.sim.axis import AxisSystem, Registry, create_axis_app
from tests.sim.conftest import SYSTEMS, Serve, call_axis, sample

UBND, STC, SKHDT = SYSTEMS["ubnd"], SYSTEMS["stc"], SYSTEMS["skhdt"]
# From 000.00.00.H41 to 000.00.06.H41 and 000.00.07.H41.
DOCUMENT = sample("edxml.document", "wrapper-with-attachment.xml")
# From 000.00.06.H41, answering 000.00.00.H41's document 1234/UBND-KT.
STATUS = sample("edxml.status", "accepted-wrapper.xml")


def send_params(body: bytes, sender: str, recipients: list[str], message_type: str = "edoc") -> dict[str, str]:
    return {
        "from": sender,
        "to": json.dumps(recipients),
        "servicetype": "eDoc",
        "messagetype": message_type,
        "hash-file": vxp.body_hash(body),
    }


async def send_document(http: aiohttp.ClientSession, axis: TestServer) -> str:
    status, answer = await call_axis(
        http,
        axis,
        UBND,
        "sendEdoc",
        send_params(DOCUMENT, UBND.organ_id, [STC.organ_id, SKHDT.organ_id]),
        DOCUMENT,
    )
    assert status == 200, answer
    assert answer["status"] == "OK"
    assert answer["ErrorCode"] == "0"
    return str(answer["DocId"])


async def pending(
    http: aiohttp.ClientSession, axis: TestServer, system: AxisSystem, message_type: str
) -> list[dict[str, Any]]:
    status, answer = await call_axis(
        http, axis, system, "getReceivedEdocList", {"servicetype": "eDoc", "messagetype": message_type}
    )
    assert status == 200, answer
    return list(answer["data"])


async def test_a_document_is_stored_for_each_recipient_until_it_marks_it_done(
    http: aiohttp.ClientSession, axis: TestServer
) -> None:
    doc_id = await send_document(http, axis)

    for recipient in (STC, SKHDT):
        listed = await pending(http, axis, recipient, "edoc")
        assert [item["docId"] for item in listed] == [doc_id]
        assert listed[0]["from"] == UBND.organ_id
        assert listed[0]["to"] == [STC.organ_id, SKHDT.organ_id]
        assert listed[0]["status"] == "pending"
    assert await pending(http, axis, UBND, "edoc") == []

    status, fetched = await call_axis(http, axis, STC, "getEdoc", {"docid": doc_id})
    assert status == 200, fetched
    assert base64.b64decode(fetched["data"]) == DOCUMENT

    status, answer = await call_axis(http, axis, STC, "updateStatus", {"docid": doc_id, "status": "done"})
    assert (status, answer["ErrorCode"]) == (200, "0")
    assert await pending(http, axis, STC, "edoc") == []
    assert [item["docId"] for item in await pending(http, axis, SKHDT, "edoc")] == [doc_id]


async def test_a_status_package_travels_back_to_the_documents_sender(
    http: aiohttp.ClientSession, axis: TestServer
) -> None:
    await send_document(http, axis)

    status, answer = await call_axis(
        http, axis, STC, "sendEdoc", send_params(STATUS, STC.organ_id, [UBND.organ_id], "status"), STATUS
    )
    assert status == 200, answer

    statuses = await pending(http, axis, UBND, "status")
    assert [(item["docId"], item["from"], item["messageType"]) for item in statuses] == [
        (answer["DocId"], STC.organ_id, "status")
    ]
    assert await pending(http, axis, UBND, "edoc") == []
    status, fetched = await call_axis(http, axis, UBND, "getEdoc", {"docid": answer["DocId"]})
    assert base64.b64decode(fetched["data"]) == STATUS


async def test_processing_keeps_a_copy_listed_with_its_transport_status(
    http: aiohttp.ClientSession, axis: TestServer
) -> None:
    doc_id = await send_document(http, axis)

    await call_axis(http, axis, STC, "updateStatus", {"docid": doc_id, "status": "processing"})

    listed = await pending(http, axis, STC, "edoc")
    assert [(item["docId"], item["status"]) for item in listed] == [(doc_id, "processing")]


async def test_an_agency_cannot_read_or_acknowledge_another_agencys_copy(
    http: aiohttp.ClientSession, axis: TestServer
) -> None:
    doc_id = await send_document(http, axis)
    outsider = SYSTEMS["stttt"]

    status, answer = await call_axis(http, axis, outsider, "getEdoc", {"docid": doc_id})
    assert (status, answer["ErrorCode"]) == (404, vxp.ErrorCode.NOT_FOUND)
    status, answer = await call_axis(http, axis, outsider, "updateStatus", {"docid": doc_id, "status": "done"})
    assert (status, answer["ErrorCode"]) == (404, vxp.ErrorCode.NOT_FOUND)


async def test_a_resend_with_the_same_idempotency_key_gets_the_first_doc_id(
    http: aiohttp.ClientSession, axis: TestServer
) -> None:
    params = send_params(DOCUMENT, UBND.organ_id, [STC.organ_id])
    key = {"Idempotency-Key": "msg-1:axis"}
    _, first = await call_axis(http, axis, UBND, "sendEdoc", params, DOCUMENT, key)
    _, again = await call_axis(http, axis, UBND, "sendEdoc", params, DOCUMENT, key)

    assert again["DocId"] == first["DocId"]
    assert len(await pending(http, axis, STC, "edoc")) == 1


async def test_an_invalid_package_is_refused_with_its_problems(http: aiohttp.ClientSession, axis: TestServer) -> None:
    invalid = sample("edxml.document", "missing-subject.xml", "invalid")

    status, answer = await call_axis(
        http, axis, SYSTEMS["ubnd"], "sendEdoc", send_params(invalid, UBND.organ_id, [STC.organ_id]), invalid
    )

    assert status == 422
    assert answer["status"] == "FAIL"
    assert answer["ErrorCode"] == vxp.ErrorCode.REFUSED_CONTENT
    assert any("Subject" in problem["path"] or "Subject" in problem["message"] for problem in answer["problems"])
    assert await pending(http, axis, STC, "edoc") == []


async def test_a_package_from_another_agency_than_the_senders_is_refused(
    http: aiohttp.ClientSession, axis: TestServer
) -> None:
    # The package's From is 000.00.00.H41; the sender is the department of finance.
    status, answer = await call_axis(
        http, axis, STC, "sendEdoc", send_params(DOCUMENT, STC.organ_id, [SKHDT.organ_id]), DOCUMENT
    )

    assert (status, answer["ErrorCode"]) == (422, vxp.ErrorCode.REFUSED_CONTENT)
    assert answer["problems"][0]["found"] == UBND.organ_id
    assert answer["problems"][0]["expected"] == STC.organ_id


async def test_a_recipient_the_axis_does_not_know_is_refused(http: aiohttp.ClientSession, axis: TestServer) -> None:
    status, answer = await call_axis(
        http, axis, UBND, "sendEdoc", send_params(DOCUMENT, UBND.organ_id, ["000.00.99.H41"]), DOCUMENT
    )

    assert (status, answer["ErrorCode"]) == (422, vxp.ErrorCode.REFUSED_CONTENT)
    assert "000.00.99.H41" in answer["ErrorDesc"]


async def test_signature_and_sender_problems_are_refused_before_the_content(
    http: aiohttp.ClientSession, axis: TestServer
) -> None:
    params = send_params(DOCUMENT, UBND.organ_id, [STC.organ_id])
    forged = vxp.sign("sendEdoc", params, UBND.systemid, "a-secret-that-is-not-registered")
    async with http.post(axis.make_url("/XrdAdapter/adapter"), data=DOCUMENT, headers=forged) as response:
        assert response.status == 401
        assert (await response.json())["ErrorCode"] == vxp.ErrorCode.UNAUTHENTICATED

    status, answer = await call_axis(http, axis, STC, "sendEdoc", params, DOCUMENT)
    assert (status, answer["ErrorCode"]) == (403, vxp.ErrorCode.WRONG_SENDER)


async def test_an_unknown_operation_is_refused(http: aiohttp.ClientSession, axis: TestServer) -> None:
    status, answer = await call_axis(http, axis, UBND, "deleteEverything")

    assert (status, answer["ErrorCode"]) == (400, vxp.ErrorCode.BAD_REQUEST)
    assert "sendEdoc" in answer["ErrorDesc"]


async def test_the_agencies_list_is_the_registry(http: aiohttp.ClientSession, axis: TestServer) -> None:
    status, answer = await call_axis(http, axis, STC, "getAgenciesList")

    assert status == 200
    assert [agency["code"] for agency in answer["agencies"]] == [system.organ_id for system in SYSTEMS.values()]
    assert answer["agencies"][1]["name"] == STC.name


async def test_what_the_axis_stored_survives_its_restart(
    http: aiohttp.ClientSession, serve: Serve, registry: Registry, inspector: Inspector, tmp_path: Path
) -> None:
    database = str(tmp_path / "axis.sqlite3")
    first = await serve(create_axis_app(registry, inspector, database))
    doc_id = await send_document(http, first)
    await first.close()

    restarted = await serve(create_axis_app(registry, inspector, database))

    assert [item["docId"] for item in await pending(http, restarted, SKHDT, "edoc")] == [doc_id]
