"""Business rules of edXML packages: what XSD 1.0 cannot say (DOMAIN.md §2).

Run after (or beside) the XSD. Every rule is tolerant of a tree the XSD would reject: a missing
element silently skips the rules that need it (the XSD reports it), nothing here raises.

Document package (``document_rules``)
- MessageHeader/DocumentId equals ``{From/OrganId},{PromulgationDate},{CodeNumber}/{CodeNotation}``
  and appears at most once (it is tolerated right after To or as the last child).
- PromulgationInfo/PromulgationDate is a real calendar date, not after ``today``.
- DueDate, when not empty, is a real calendar date.
- No two To elements name the same OrganId.
- Every ResponseFor is self-consistent (see below); TraceHeader/Timestamp are real date-times.

Status package (``status_rules``)
- ResponseFor/DocumentId has the DocumentId shape and agrees with the ResponseFor's OrganId,
  PromulgationDate and Code where those are given; ResponseFor/PromulgationDate is a real date,
  not after ``today``.
- Timestamp is a real date-time.

``today`` is the calendar date in Asia/Ho_Chi_Minh: promulgation dates are Vietnamese dates.
"""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import date, datetime
from typing import Final

from lxml import etree

from adapters.edxml.names import ENVELOPE, NAMESPACE, WRAPPER, elements, message_header, xpath
from adapters.edxml.names import NS as _NS
from lgsp.ids import VIETNAM  # edXML timestamps carry no zone: Vietnamese local time
from lgsp.problems import Problem
from lgsp.xmlsafe import local_path

__all__ = ["document_rules", "status_rules"]

_FROM: Final = _NS + "From"
_ORGAN_ID: Final = _NS + "OrganId"
_DOCUMENT_ID: Final = _NS + "DocumentId"
_CODE: Final = _NS + "Code"
_CODE_NUMBER: Final = _NS + "CodeNumber"
_CODE_NOTATION: Final = _NS + "CodeNotation"
_PROMULGATION_DATE: Final = _NS + "PromulgationDate"
_DUE_DATE: Final = _NS + "DueDate"
_RESPONSE_FOR: Final = _NS + "ResponseFor"
_TIMESTAMP: Final = _NS + "Timestamp"
# Everything the document rules read, in one compiled query: elements come back in document order.
_DOCUMENT_PARTS: Final = xpath(
    "e:From/e:OrganId | e:To/e:OrganId | e:DocumentId | e:Code/e:CodeNumber | e:Code/e:CodeNotation"
    " | e:PromulgationInfo/e:PromulgationDate | e:DueDate | e:ResponseFor"
    " | ../e:TraceHeaderList/e:TraceHeader/e:Timestamp"
)
_STATUS_PARTS: Final = xpath("e:ResponseFor | e:Timestamp")

_DATE_FORM: Final = "yyyy/MM/dd, a real calendar date"
_TIMESTAMP_FORM: Final = "yyyy/MM/dd HH:mm:ss, a real date and time"
_DOCUMENT_ID_FORM: Final = "{OrganId},{yyyy/MM/dd},{CodeNumber}/{CodeNotation}"
# Shapes only (ASCII digits); whether the values form a real date is left to datetime.
_DATE: Final = re.compile(r"([0-9]{4})/([0-9]{2})/([0-9]{2})")
_TIMESTAMP_TEXT: Final = re.compile(r"([0-9]{4})/([0-9]{2})/([0-9]{2}) ([0-9]{2}):([0-9]{2}):([0-9]{2})")


# ----------------------------------------------------------------------------------------- helpers


def _text(element: etree._Element | None) -> str:
    """The element's own text, stripped; empty when the element or its text is absent."""
    if element is None or element.text is None:
        return ""
    return element.text.strip()


def _parse_date(text: str) -> date | None:
    """``yyyy/MM/dd`` with ASCII digits and a real calendar day, else None."""
    match = _DATE.fullmatch(text)
    if match is None:
        return None
    try:
        return date(int(match[1]), int(match[2]), int(match[3]))
    except ValueError:
        return None


def _parse_timestamp(text: str) -> datetime | None:
    """``yyyy/MM/dd HH:mm:ss`` with ASCII digits and a real date and time (Vietnamese time), else None."""
    match = _TIMESTAMP_TEXT.fullmatch(text)
    if match is None:
        return None
    try:
        year, month, day, hour, minute, second = map(int, match.groups())
        return datetime(year, month, day, hour, minute, second, tzinfo=VIETNAM)
    except ValueError:
        return None


def _problem(element: etree._Element, message: str, expected: str | None = None, found: str | None = None) -> Problem:
    line = element.sourceline
    return Problem(path=local_path(element), message=message, expected=expected, found=found, line=line or None)


def _from_root(problems: list[Problem], root: etree._Element) -> list[Problem]:
    """Paths relative to ``root`` when it is not the document's root (e.g. a package inside a SOAP body)."""
    if not problems or root.getparent() is None:
        return problems
    ancestors = local_path(root).rsplit("/", 1)[0]  # e.g. /Envelope/Body/SendDocument
    return [replace(problem, path=problem.path.removeprefix(ancestors)) for problem in problems]


def _message_header(root: etree._Element, problems: list[Problem]) -> etree._Element | None:
    """MessageHeader under either accepted root; a foreign root is reported, a missing header is not."""
    if root.tag not in (WRAPPER, ENVELOPE):
        problems.append(
            _problem(
                root,
                "the root element is not an edXML package",
                expected=f"edXML or edXMLEnvelope in namespace {NAMESPACE}",
                found=str(root.tag),
            )
        )
        return None
    return message_header(root)


def _check_date(
    element: etree._Element | None, what: str, problems: list[Problem], *, allow_empty: bool
) -> date | None:
    """Report a value that is not a real ``yyyy/MM/dd`` date; return the date when it is one."""
    if element is None:
        return None
    text = _text(element)
    if not text and allow_empty:
        return None
    parsed = _parse_date(text)
    if parsed is None:
        problems.append(_problem(element, f"{what} is not a real calendar date", expected=_DATE_FORM, found=text))
    return parsed


def _check_not_future(
    element: etree._Element, value: date | None, what: str, today: date, problems: list[Problem]
) -> None:
    if value is not None and value > today:
        problems.append(
            _problem(
                element,
                f"{what} is in the future",
                expected=f"on or before {today:%Y/%m/%d}",
                found=_text(element),
            )
        )


def _check_timestamp(element: etree._Element | None, what: str, problems: list[Problem]) -> None:
    if element is None:
        return
    text = _text(element)
    if _parse_timestamp(text) is None:
        problems.append(_problem(element, f"{what} is not a real date and time", expected=_TIMESTAMP_FORM, found=text))


def _split_document_id(value: str) -> tuple[str, str, str] | None:
    """(issuer OrganId, yyyy/MM/dd, number/notation) or None when the value lacks that shape.

    The notation may itself contain commas or slashes: only the first two commas separate parts.
    """
    parts = value.split(",", 2)
    if len(parts) != 3:
        return None
    organ, promulgated, code = parts
    # The date part is checked for its shape only: an impossible date is reported where it is written.
    if not organ or _DATE.fullmatch(promulgated) is None or "/" not in code[1:-1]:
        return None
    return organ, promulgated, code


def _compare_document_id(
    element: etree._Element,
    *,
    organ_id: str,
    promulgation_date: str,
    code: str,
    sources: tuple[str, str, str],
    context: str,
    problems: list[Problem],
) -> None:
    """Compare a DocumentId with the parts it is built from; empty parts are not compared.

    ``sources`` names where each part comes from and ``context`` what they belong to, for the message.
    """
    found = _text(element)
    parts = _split_document_id(found)
    expected = ",".join(
        (organ_id or "{OrganId}", promulgation_date or "{yyyy/MM/dd}", code or "{CodeNumber}/{CodeNotation}")
    )
    if parts is None:
        problems.append(
            _problem(
                element,
                f"DocumentId is not of the form {_DOCUMENT_ID_FORM}",
                expected=expected,
                found=found,
            )
        )
        return
    mismatches = [
        f"{source} is {wanted!r} but the DocumentId has {actual!r}"
        for source, wanted, actual in zip(sources, (organ_id, promulgation_date, code), parts, strict=True)
        if wanted and wanted != actual
    ]
    if mismatches:
        problems.append(
            _problem(
                element,
                f"DocumentId does not match {context}: " + "; ".join(mismatches),
                expected=expected,
                found=found,
            )
        )


def _check_response_for(response_for: etree._Element, today: date, problems: list[Problem]) -> None:
    organ = date_element = code_element = document_id = None
    for child in response_for:
        tag = child.tag
        if tag == _ORGAN_ID:
            organ = child
        elif tag == _PROMULGATION_DATE:
            date_element = child
        elif tag == _CODE:
            code_element = child
        elif tag == _DOCUMENT_ID:
            document_id = child
    promulgated = _check_date(date_element, "ResponseFor/PromulgationDate", problems, allow_empty=True)
    if date_element is not None:
        _check_not_future(date_element, promulgated, "ResponseFor/PromulgationDate", today, problems)
    if document_id is None or not _text(document_id):
        return
    code = _text(code_element)
    _compare_document_id(
        document_id,
        organ_id=_text(organ),
        promulgation_date=_text(date_element) if promulgated is not None else "",
        # A Code without number/notation shape is the XSD's to report, not a DocumentId mismatch.
        code=code if "/" in code[1:-1] else "",
        sources=("ResponseFor/OrganId", "ResponseFor/PromulgationDate", "ResponseFor/Code"),
        context="its ResponseFor",
        problems=problems,
    )


# ----------------------------------------------------------------------------------------- rules


def document_rules(root: etree._Element, *, today: date) -> list[Problem]:
    """Problems of an edXML document package that its XSD cannot see; empty when there are none."""
    problems: list[Problem] = []
    header = _message_header(root, problems)
    if header is None:
        return _from_root(problems, root)

    sender_organ = number = notation = date_element = due_date = None
    recipient_organs: list[etree._Element] = []
    document_ids: list[etree._Element] = []
    responses: list[etree._Element] = []
    timestamps: list[etree._Element] = []
    for part in elements(_DOCUMENT_PARTS, header):
        tag = part.tag
        if tag == _ORGAN_ID:
            parent = part.getparent()
            if parent is not None and parent.tag == _FROM:
                sender_organ = sender_organ if sender_organ is not None else part
            else:
                recipient_organs.append(part)
        elif tag == _DOCUMENT_ID:
            document_ids.append(part)
        elif tag == _CODE_NUMBER:
            number = number if number is not None else part
        elif tag == _CODE_NOTATION:
            notation = notation if notation is not None else part
        elif tag == _PROMULGATION_DATE:
            date_element = date_element if date_element is not None else part
        elif tag == _DUE_DATE:
            due_date = part
        elif tag == _RESPONSE_FOR:
            responses.append(part)
        elif tag == _TIMESTAMP:
            timestamps.append(part)

    # PromulgationDate: a real date, not after today.
    promulgated = _check_date(date_element, "PromulgationDate", problems, allow_empty=False)
    if date_element is not None:
        _check_not_future(date_element, promulgated, "PromulgationDate", today, problems)

    # DocumentId: at most once, consistent with From, PromulgationDate and Code.
    if len(document_ids) > 1:
        problems.append(
            _problem(
                document_ids[1],
                f"DocumentId appears twice in MessageHeader (first at line {document_ids[0].sourceline})",
                expected="one DocumentId",
                found=_text(document_ids[1]),
            )
        )
    if document_ids and _text(document_ids[0]):
        number_text, notation_text = _text(number), _text(notation)
        _compare_document_id(
            document_ids[0],
            organ_id=_text(sender_organ),
            promulgation_date=_text(date_element) if promulgated is not None else "",
            code=f"{number_text}/{notation_text}" if number_text and notation_text else "",
            sources=("From/OrganId", "PromulgationInfo/PromulgationDate", "Code/CodeNumber/CodeNotation"),
            context="the message header",
            problems=problems,
        )

    # DueDate: empty means none; otherwise a real date.
    _check_date(due_date, "DueDate", problems, allow_empty=True)

    # To: each OrganId once.
    first_seen: dict[str, int | None] = {}
    for organ in recipient_organs:
        organ_id = _text(organ)
        if not organ_id:
            continue
        if organ_id in first_seen:
            problems.append(
                _problem(
                    organ,
                    f"recipient {organ_id} is listed twice in To (first at line {first_seen[organ_id]})",
                    expected="each To/OrganId once",
                    found=organ_id,
                )
            )
        else:
            first_seen[organ_id] = organ.sourceline

    for response_for in responses:
        _check_response_for(response_for, today, problems)

    # TraceHeader/Timestamp: real date-times.
    for timestamp in timestamps:
        _check_timestamp(timestamp, "TraceHeader/Timestamp", problems)
    return _from_root(problems, root)


def status_rules(root: etree._Element, *, today: date) -> list[Problem]:
    """Problems of an edXML status package that its XSD cannot see; empty when there are none."""
    problems: list[Problem] = []
    header = _message_header(root, problems)
    if header is None:
        return _from_root(problems, root)
    response_for = timestamp = None
    for part in elements(_STATUS_PARTS, header):
        if part.tag == _RESPONSE_FOR:
            response_for = part
        else:
            timestamp = part
    if response_for is not None:
        _check_response_for(response_for, today, problems)
    _check_timestamp(timestamp, "Timestamp", problems)
    return _from_root(problems, root)
