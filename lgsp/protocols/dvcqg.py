"""The national public-service portal's adapter protocol (DOMAIN.md §4), as the client and the simulator speak it.

- Login: ``POST {adapter}{auth_endpoint}`` with ``{"username", "password"}`` answers
  ``{"session", "error_code"}``.
- Every other call: ``POST {adapter}{integration_endpoint}`` with ``{"session", "madonvi", "service", ...}``
  answers ``{"error_code", "message", "result"}``.

The portal has no documented error codes beyond success, so a client has to read the ``message``
text to tell an expired session or an existing dossier from a refusal. The phrases it looks for are
below. The simulator's messages contain them in Vietnamese and in English.
"""

from __future__ import annotations

SYNC_DOSSIERS = "DongBoHoSoMC"
UPDATE_PROGRESS = "CapNhatTienDoHoSoMC"
LOOKUP_DOSSIER = "TraCuuHoSo"
# The service that takes each of the bus's portal formats, one record per item of ``data``.
SERVICE_OF_FORMAT = {"dvcqg.dossier": SYNC_DOSSIERS, "dvcqg.progress": UPDATE_PROGRESS}

_SUCCESS_CODES = frozenset({"0", "00"})  # older adapters answer "00"
_SESSION_PHRASES = ("session", "phiên")
_EXISTS_PHRASES = ("already exists", "đã tồn tại")


def succeeded(error_code: object) -> bool:
    """``error_code`` 0, "0" or "00"."""
    return isinstance(error_code, int | str) and not isinstance(error_code, bool) and str(error_code) in _SUCCESS_CODES


def is_session_problem(message: str) -> bool:
    """The session is unknown or expired: log in again and repeat the call."""
    text = message.casefold()
    return any(phrase in text for phrase in _SESSION_PHRASES)


def says_already_exists(message: str) -> bool:
    """A new dossier the portal already has: send it again as an update."""
    text = message.casefold()
    return any(phrase in text for phrase in _EXISTS_PHRASES)


def flag(value: bool) -> str:
    """``isUpdating`` as the portal takes it."""
    return "True" if value else "False"
