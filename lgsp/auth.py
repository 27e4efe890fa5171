"""Sending systems: who may send, as which agencies, in which formats. Keys are kept only as SHA-256."""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from lgsp.errors import ConfigError, Forbidden, Unauthenticated
from lgsp.patterns import DottedPattern
from lgsp.problems import Problem
from lgsp.settings import Auditor, Operator, SendingSystem


@dataclass(frozen=True, slots=True)
class SystemIdentity:
    id: str
    name: str
    organs: tuple[DottedPattern, ...]
    formats: frozenset[str]

    def require_format(self, format_name: str) -> None:
        if format_name not in self.formats:
            raise Forbidden(
                f"system {self.id} may not send {format_name}",
                [
                    Problem(
                        "",
                        "format not allowed for this system",
                        expected=", ".join(sorted(self.formats)),
                        found=format_name,
                    )
                ],
            )

    def require_organ(self, organ_id: str, path: str) -> None:
        if not any(pattern.matches(organ_id) for pattern in self.organs):
            raise Forbidden(
                f"system {self.id} may not send as {organ_id}",
                [
                    Problem(
                        path,
                        "this system does not send for that agency",
                        expected=", ".join(pattern.text for pattern in self.organs),
                        found=organ_id,
                    )
                ],
            )


def key_digest(key: str) -> str:
    return hashlib.sha256(key.encode("utf-8")).hexdigest()


def new_key() -> tuple[str, str]:
    """A fresh API key and the digest that goes into the configuration."""
    key = "lgsp_" + secrets.token_urlsafe(32)
    return key, key_digest(key)


def presented_key(headers: Mapping[str, str]) -> str | None:
    authorization = headers.get("Authorization")
    if authorization is not None:
        scheme, _, credentials = authorization.partition(" ")
        return credentials.strip() or None if scheme.lower() == "bearer" else None
    return headers.get("X-API-Key") or None


class SystemDirectory:
    def __init__(self, systems: Iterable[SendingSystem]) -> None:
        self._by_digest = {
            system.api_key_sha256: SystemIdentity(
                id=system.id,
                name=system.name,
                organs=tuple(DottedPattern.parse(organ) for organ in system.organs),
                formats=frozenset(system.formats),
            )
            for system in systems
        }

    def knows(self, digest: str) -> bool:
        return digest in self._by_digest

    def authenticate(self, headers: Mapping[str, str]) -> SystemIdentity:
        key = presented_key(headers)
        if key is None:
            raise Unauthenticated("send the system's key as 'Authorization: Bearer KEY' or 'X-API-Key: KEY'")
        identity = self._by_digest.get(key_digest(key))
        if identity is None:
            raise Unauthenticated("unknown key")
        return identity


@dataclass(frozen=True, slots=True)
class OperatorIdentity:
    id: str
    name: str


class OperatorDirectory:
    """Operators change the routing table; a sending system's key is refused here (403), not unknown."""

    def __init__(self, operators: Iterable[Operator], systems: SystemDirectory) -> None:
        self._by_digest = {
            operator.token_sha256: OperatorIdentity(operator.id, operator.name) for operator in operators
        }
        self._systems = systems

    def authenticate(self, headers: Mapping[str, str]) -> OperatorIdentity:
        key = presented_key(headers)
        if key is None:
            raise Unauthenticated("send an operator's token as 'Authorization: Bearer TOKEN'")
        digest = key_digest(key)
        operator = self._by_digest.get(digest)
        if operator is not None:
            return operator
        if self._systems.knows(digest):
            raise Forbidden("a sending system's key cannot administer the bus; use an operator's token")
        raise Unauthenticated("unknown token")


@dataclass(frozen=True, slots=True)
class AuditorIdentity:
    id: str
    name: str


class AuditorDirectory:
    """Auditors read the ledger; a sending system's key or an operator's token is refused here (403),
    so that nobody audits with the credentials of those they audit."""

    def __init__(self, auditors: Iterable[Auditor], systems: SystemDirectory, operators: Iterable[Operator]) -> None:
        self._by_digest = {auditor.token_sha256: AuditorIdentity(auditor.id, auditor.name) for auditor in auditors}
        self._systems = systems
        self._operator_digests = frozenset(operator.token_sha256 for operator in operators)
        for digest, auditor in self._by_digest.items():
            if digest in self._operator_digests or systems.knows(digest):
                raise ConfigError(f"auditors: {auditor.id!r} shares its token with an operator or a sending system")

    def authenticate(self, headers: Mapping[str, str]) -> AuditorIdentity:
        key = presented_key(headers)
        if key is None:
            raise Unauthenticated("send an auditor's token as 'Authorization: Bearer TOKEN'")
        digest = key_digest(key)
        auditor = self._by_digest.get(digest)
        if auditor is not None:
            return auditor
        if digest in self._operator_digests or self._systems.knows(digest):
            raise Forbidden("only an auditor's token reads the audit ledger")
        raise Unauthenticated("unknown token")
