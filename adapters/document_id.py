"""The national DocumentId: ``{issuer OrganId},{yyyy/MM/dd},{CodeNumber}/{CodeNotation}`` (DOMAIN.md §2.1)."""

from __future__ import annotations


def build_document_id(organ_id: str, promulgation_date: str, code_number: str, code_notation: str) -> str:
    """``promulgation_date`` as the axis writes it, ``yyyy/MM/dd``."""
    return f"{organ_id},{promulgation_date},{code_number}/{code_notation}"


def organ_of_dossier(dossier_no: str) -> str:
    """The agency part of a dossier number ``{agencyCode}-{yyMMdd}-{seq}``."""
    return dossier_no.split("-", 1)[0]
