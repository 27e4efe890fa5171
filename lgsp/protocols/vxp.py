"""The national document axis's signed headers (DOMAIN.md §3) and the codes of its answers.

A call carries each of its parameters as a header twice, bare and prefixed ``XroadVnpt-``, together
with ``systemid``, ``timestamp`` and ``operation``; then three signature headers:

- ``XroadVnpt-sign-header-key``: the signed parameter names, bare, joined by ``;``;
- ``XroadVnpt-sign-header``: a JSON object of the prefixed headers and their values;
- ``XroadVnpt-hash-header``: hex HMAC-SHA256(secret, the UTF-8 bytes of that JSON).

Where DOMAIN.md leaves room, this module chooses, and the client and the simulator both use it:

- ``timestamp``: the national SDK's Java pattern ``ddMMyyyy'T'HHmmss+SSSS`` read literally: Vietnam
  local time, a literal ``+`` and the milliseconds on four digits (``07032025T143005+0123``). It
  is not a UTC offset. The verifier accepts a timestamp within ``window`` of its own clock, either way.
- the operation (``sendEdoc``, ``getEdoc``...) is the signed parameter ``operation``: every call goes
  to the same adapter address, and a captured signature cannot be replayed as another operation.
- the JSON is compact and ASCII-only, in signing order. The verifier computes the HMAC over the
  header's text as received, never over a re-serialisation. It then checks that every signed
  value is the value actually sent, both bare and prefixed.
- a call with a body (sendEdoc) signs ``hash-file``, the SHA-256 hex of the body, so the signature
  covers the body.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from lgsp.ids import VIETNAM

PREFIX = "XroadVnpt-"
SIGNED_NAMES = PREFIX + "sign-header-key"
SIGNED_VALUES = PREFIX + "sign-header"
SIGNATURE = PREFIX + "hash-header"

OPERATION = "operation"
SYSTEM_ID = "systemid"
TIMESTAMP = "timestamp"
SENDER = "from"
RECIPIENTS = "to"
SERVICE_TYPE = "servicetype"
MESSAGE_TYPE = "messagetype"
HASH_FILE = "hash-file"
DOC_ID = "docid"
STATUS = "status"

SERVICE_TYPE_EDOC = "eDoc"
# messagetype of the bus's edXML formats: a document package, or a status package (DOMAIN.md §2.4).
MESSAGE_TYPES = {"edxml.document": "edoc", "edxml.status": "status"}

DEFAULT_WINDOW = timedelta(minutes=5)
_ALWAYS_SIGNED = (OPERATION, SYSTEM_ID, TIMESTAMP)
_TIMESTAMP = re.compile(r"^(\d{2})(\d{2})(\d{4})T(\d{2})(\d{2})(\d{2})\+(\d{4})$")


class ErrorCode(StrEnum):
    """``ErrorCode`` of the axis's JSON answers: "0" is the national one, the others are this project's."""

    OK = "0"
    BAD_REQUEST = "1"  # a parameter missing or malformed, an unknown operation
    UNAUTHENTICATED = "2"  # unknown systemid, a missing or wrong signature
    STALE_TIMESTAMP = "3"  # a timestamp outside the window, or not in the protocol's format
    WRONG_SENDER = "4"  # ``from`` is not the OrganId registered for the systemid
    HASH_MISMATCH = "5"  # the body is not the one ``hash-file`` was computed from
    REFUSED_CONTENT = "6"  # the package is invalid, or not addressed to agencies the axis knows
    NOT_FOUND = "7"  # no such document for the caller
    UNAVAILABLE = "9"  # the axis cannot serve the call now


class Refusal(Exception):
    """The axis refuses a call: the code its answer carries and why."""

    def __init__(self, code: ErrorCode, reason: str) -> None:
        super().__init__(reason)
        self.code = code
        self.reason = reason


@dataclass(frozen=True, slots=True)
class RegisteredSystem:
    systemid: str
    secret: str
    organ_id: str


@dataclass(frozen=True, slots=True)
class VerifiedCall:
    system: RegisteredSystem
    operation: str
    params: Mapping[str, str]  # the signed values by bare name: only these may be trusted


def body_hash(body: bytes) -> str:
    return hashlib.sha256(body).hexdigest()


def format_timestamp(moment: datetime) -> str:
    local = moment.astimezone(VIETNAM)
    return f"{local:%d%m%YT%H%M%S}+{local.microsecond // 1000:04d}"


def parse_timestamp(text: str) -> datetime | None:
    match = _TIMESTAMP.match(text)
    if match is None:
        return None
    day, month, year, hour, minute, second, millisecond = (int(part) for part in match.groups())
    try:
        return datetime(year, month, day, hour, minute, second, millisecond * 1000, tzinfo=VIETNAM)
    except ValueError:
        return None


def _mac(secret: str, signed_json: str) -> bytes:
    return hmac.new(secret.encode(), signed_json.encode(), hashlib.sha256).hexdigest().encode()


def sign(
    operation: str, params: Mapping[str, str], systemid: str, secret: str, now: datetime | None = None
) -> dict[str, str]:
    """The headers of one call: its parameters bare and prefixed, and the signature over them."""
    moment = now if now is not None else datetime.now(VIETNAM)
    values = {**params, OPERATION: operation, SYSTEM_ID: systemid, TIMESTAMP: format_timestamp(moment)}
    signed_json = json.dumps({PREFIX + name: value for name, value in values.items()}, separators=(",", ":"))
    headers: dict[str, str] = {}
    for name, value in values.items():
        headers[name] = value
        headers[PREFIX + name] = value
    headers[SIGNED_NAMES] = ";".join(values)
    headers[SIGNED_VALUES] = signed_json
    headers[SIGNATURE] = _mac(secret, signed_json).decode()
    return headers


def verify(
    headers: Mapping[str, str],
    body: bytes,
    system_of: Callable[[str], RegisteredSystem | None],
    now: datetime,
    window: timedelta = DEFAULT_WINDOW,
) -> VerifiedCall:
    """Check one call's signature, timestamp, sender and body; raise ``Refusal`` saying what is wrong."""
    signed_json, names, signature = (headers.get(name) for name in (SIGNED_VALUES, SIGNED_NAMES, SIGNATURE))
    if not signed_json or not names or not signature:
        raise Refusal(
            ErrorCode.UNAUTHENTICATED, f"the call is not signed: {SIGNED_NAMES}, {SIGNED_VALUES} and {SIGNATURE} needed"
        )
    signed = _signed_values(signed_json)
    systemid = signed.get(PREFIX + SYSTEM_ID, "")
    system = system_of(systemid) if systemid else None
    if system is None:
        raise Refusal(ErrorCode.UNAUTHENTICATED, f"unknown systemid {systemid!r}")
    if not hmac.compare_digest(_mac(system.secret, signed_json), signature.lower().encode("utf-8", "replace")):
        raise Refusal(ErrorCode.UNAUTHENTICATED, f"{SIGNATURE} is not the HMAC of {SIGNED_VALUES} with this secret")
    params = _sent_as_signed(signed, names, headers)
    _check_fresh(params[TIMESTAMP], now, window)
    sender = params.get(SENDER)
    if sender is not None and sender != system.organ_id:
        raise Refusal(
            ErrorCode.WRONG_SENDER, f"from {sender!r} is not {system.organ_id}, the OrganId registered for {systemid}"
        )
    _check_body(params, body)
    return VerifiedCall(system, params[OPERATION], params)


def _no_duplicate_keys(pairs: list[tuple[str, object]]) -> dict[str, object]:
    keys = [key for key, _ in pairs]
    if len(set(keys)) != len(keys):
        raise ValueError("a header is signed twice")
    return dict(pairs)


def _signed_values(signed_json: str) -> dict[str, str]:
    try:
        signed = json.loads(signed_json, object_pairs_hook=_no_duplicate_keys)
    except ValueError:
        signed = None
    if not isinstance(signed, dict) or not all(
        key.startswith(PREFIX) and isinstance(value, str) for key, value in signed.items()
    ):
        raise Refusal(
            ErrorCode.UNAUTHENTICATED,
            f"{SIGNED_VALUES} must be a JSON object of {PREFIX}* headers with string values, each once",
        )
    return signed


def _sent_as_signed(signed: Mapping[str, str], names: str, headers: Mapping[str, str]) -> dict[str, str]:
    listed = names.split(";")
    if sorted(listed) != sorted(key.removeprefix(PREFIX) for key in signed):
        raise Refusal(ErrorCode.UNAUTHENTICATED, f"{SIGNED_NAMES} does not name exactly the headers of {SIGNED_VALUES}")
    unsigned = [name for name in _ALWAYS_SIGNED if name not in listed]
    if unsigned:
        raise Refusal(ErrorCode.UNAUTHENTICATED, f"every call signs {', '.join(_ALWAYS_SIGNED)}; missing: {unsigned}")
    params: dict[str, str] = {}
    for name in listed:
        value = signed[PREFIX + name]
        for sent in (name, PREFIX + name):
            if headers.get(sent) != value:
                raise Refusal(ErrorCode.UNAUTHENTICATED, f"header {sent} is missing or not the value that was signed")
        params[name] = value
    return params


def _check_fresh(timestamp: str, now: datetime, window: timedelta) -> None:
    moment = parse_timestamp(timestamp)
    if moment is None:
        raise Refusal(
            ErrorCode.STALE_TIMESTAMP, f"timestamp {timestamp!r} is not ddMMyyyy'T'HHmmss+SSSS (Vietnam time)"
        )
    skew = abs(now - moment)
    if skew > window:
        raise Refusal(
            ErrorCode.STALE_TIMESTAMP,
            f"timestamp {timestamp} is {skew.total_seconds():.0f} s from the axis's clock"
            f" (at most {window.total_seconds():.0f} s)",
        )


def _check_body(params: Mapping[str, str], body: bytes) -> None:
    declared = params.get(HASH_FILE)
    if declared is None:
        if body:
            raise Refusal(ErrorCode.BAD_REQUEST, f"a call with a body must sign its {HASH_FILE}")
        return
    if not hmac.compare_digest(declared.lower().encode("utf-8", "replace"), body_hash(body).encode()):
        raise Refusal(ErrorCode.HASH_MISMATCH, f"the body's SHA-256 is not the signed {HASH_FILE}")
