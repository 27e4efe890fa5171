"""Identifiers built from others: the national DocumentId (DOMAIN.md §2.1), a dossier number's agency (§1)."""

from __future__ import annotations

from lgsp.organs import is_organ_id


def build_document_id(organ_id: str, promulgation_date: str, code_number: str, code_notation: str) -> str:
    """``promulgation_date`` as the axis writes it, ``yyyy/MM/dd``."""
    return f"{organ_id},{promulgation_date},{code_number}/{code_notation}"


def dossier_agency(dossier_no: str) -> str | None:
    """The agency of a dossier number ``{agencyCode}-{yyMMdd}-{seq}``, when it names one."""
    organ = dossier_no.split("-", 1)[0]
    return organ if is_organ_id(organ) else None
