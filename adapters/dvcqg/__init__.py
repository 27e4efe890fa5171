"""The national public-service portal's records (DVCQG): DongBoHoSoMC dossiers, CapNhatTienDoHoSoMC progress."""

from __future__ import annotations

from datetime import date
from typing import Any

from adapters.document_id import dossier_agency
from adapters.dvcqg.codec import DOSSIER_CODEC, PROGRESS_CODEC
from adapters.dvcqg.times import portal_time
from lgsp.formats import FormatSpec, MessageFacts
from lgsp.problems import Problem

_DATE_PREFIXES = ("Ngay", "ThoiDiem")


def is_dossier(document: dict[str, Any]) -> bool:
    return "MaHoSo" in document and "MaTTHC" in document


def is_progress(document: dict[str, Any]) -> bool:
    return "MaHoSo" in document and "ThoiDiemXuLy" in document and "MaTTHC" not in document


def dossier_facts(document: dict[str, Any]) -> MessageFacts:
    dossier_no = document["MaHoSo"]
    return MessageFacts(
        sender_organ=dossier_agency(dossier_no),
        sender_path="/MaHoSo",
        dossier_no=dossier_no,
        procedure_code=document.get("MaTTHC"),
        natural_key=(dossier_no, document.get("TrangThaiHoSo", "")),
        content_in_key=True,
    )


def progress_facts(document: dict[str, Any]) -> MessageFacts:
    dossier_no = document["MaHoSo"]
    return MessageFacts(
        sender_organ=dossier_agency(dossier_no),
        sender_path="/MaHoSo",
        dossier_no=dossier_no,
        natural_key=(dossier_no, document.get("TrangThai", ""), document.get("ThoiDiemXuLy", "")),
    )


def _real_time(digits: str) -> bool:
    try:
        portal_time(digits)
    except ValueError:
        return False
    return True


def calendar_problems(value: Any, path: str = "") -> list[Problem]:
    """Every ``Ngay…``/``ThoiDiem…`` field holding 14 digits must be a real time (no 31 February)."""
    problems: list[Problem] = []
    items = value.items() if isinstance(value, dict) else enumerate(value) if isinstance(value, list) else ()
    for key, item in items:
        if isinstance(item, str):
            if (
                isinstance(key, str)
                and key.startswith(_DATE_PREFIXES)
                and len(item) == 14
                and item.isdigit()
                and not _real_time(item)
            ):
                problems.append(
                    Problem(f"{path}/{key}", "not a real date and time", expected="yyyyMMddHHmmss", found=item)
                )
        elif isinstance(item, dict | list):
            problems.extend(calendar_problems(item, f"{path}/{key}"))
    return problems


def _calendar_rules(document: dict[str, Any], today: date) -> list[Problem]:
    return calendar_problems(document)


FORMATS = [
    FormatSpec(
        name="dvcqg.dossier",
        syntax="json",
        schema="dvcqg/dossier.schema.json",
        summary="national portal dossier record (DongBoHoSoMC)",
        detect=is_dossier,
        facts=dossier_facts,
        rules=_calendar_rules,
    ),
    FormatSpec(
        name="dvcqg.progress",
        syntax="json",
        schema="dvcqg/progress.schema.json",
        summary="national portal progress record (CapNhatTienDoHoSoMC)",
        detect=is_progress,
        facts=progress_facts,
        rules=_calendar_rules,
        ordering="dossier",
    ),
]

CODECS = [DOSSIER_CODEC, PROGRESS_CODEC]
