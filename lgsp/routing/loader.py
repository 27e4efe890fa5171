"""Reading and checking routes.yaml. Every finding carries the line and column it is about.

Checks beyond the JSON Schema (schemas/routes.schema.json): duplicate names, unknown endpoints,
formats, systems and translations, invalid patterns, credentials written inline, and routes that
an earlier route shadows (they could never take anything).
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from io import StringIO
from pathlib import Path
from typing import Any, Protocol

import jsonschema_rs
import orjson
from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.error import MarkedYAMLError

from lgsp.patterns import DottedPattern
from lgsp.routing.index import RouteIndex
from lgsp.routing.model import CircuitPolicy, Endpoint, Match, RetryPolicy, Route, RouteTable, SecretRef

SCHEMA_FILE = "routes.schema.json"
_SECRET_WORDS = ("password", "secret", "token", "apikey", "api_key", "private_key", "passwd")


class Vocabulary(Protocol):
    """What the rest of the bus knows, against which a table is checked."""

    def has_format(self, name: str) -> bool: ...

    def can_translate(self, source: str, target: str) -> bool: ...

    def has_system(self, system_id: str) -> bool: ...


@dataclass(frozen=True, slots=True)
class Finding:
    line: int
    column: int
    message: str

    def render(self, file: str) -> str:
        return f"{file}:{self.line}:{self.column}: {self.message}"


class RoutesInvalid(Exception):
    def __init__(self, file: str, findings: Sequence[Finding]) -> None:
        super().__init__("\n".join(finding.render(file) for finding in findings))
        self.file = file
        self.findings = tuple(findings)


def version_of(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]


def _positions(text: str) -> Any:
    """The text parsed again, slowly, keeping every node's line and column: only when reporting."""
    return YAML(typ="rt").load(StringIO(text))


def _position(document: Any, path: Sequence[str | int]) -> tuple[int, int]:
    """1-based line and column of the node at ``path`` (of its key, for a mapping entry)."""
    node, line, column = document, 0, 0
    if isinstance(node, CommentedMap | CommentedSeq):
        line, column = node.lc.line, node.lc.col
    for step in path:
        if isinstance(node, CommentedMap) and step in node:
            line, column = node.lc.key(step)
            node = node[step]
        elif isinstance(node, CommentedSeq) and isinstance(step, int) and step < len(node):
            line, column = node.lc.item(step)
            node = node[step]
        else:
            break
    return line + 1, column + 1


class _Checker:
    def __init__(self, text: str, vocabulary: Vocabulary) -> None:
        self.text = text
        self.vocabulary = vocabulary
        self.findings: list[Finding] = []
        self._document: Any = None

    def report(self, path: Sequence[str | int], message: str) -> None:
        if self._document is None:
            self._document = _positions(self.text)
        line, column = _position(self._document, path)
        self.findings.append(Finding(line, column, message))

    def patterns(self, values: Iterable[str], path: list[str | int]) -> tuple[DottedPattern, ...]:
        parsed = []
        for index, text in enumerate(values):
            try:
                parsed.append(DottedPattern.parse(text))
            except ValueError as error:
                self.report([*path, index], str(error))
        return tuple(parsed)


def _retry(raw: dict[str, Any] | None) -> RetryPolicy | None:
    return None if raw is None else RetryPolicy(**raw)


def _endpoint(raw: dict[str, Any], index: int, checker: _Checker) -> Endpoint:
    for key, value in (raw.get("options") or {}).items():
        if isinstance(value, str) and any(word in key.lower().replace("-", "_") for word in _SECRET_WORDS):
            checker.report(
                ["endpoints", index, "options", key],
                f"credentials written inline: move {key!r} under credentials as {{env: NAME}} or {{file: PATH}}",
            )
    return Endpoint(
        name=raw["name"],
        kind=raw["kind"],
        url=raw["url"],
        timeout_seconds=float(raw.get("timeout_seconds", 30)),
        concurrency=int(raw.get("concurrency", 8)),
        credentials={name: SecretRef(**ref) for name, ref in (raw.get("credentials") or {}).items()},
        options=dict(raw.get("options") or {}),
        retry=_retry(raw.get("retry")) or RetryPolicy(),
        circuit=CircuitPolicy(**raw["circuit"]) if "circuit" in raw else CircuitPolicy(),
    )


def _route(raw: dict[str, Any], index: int, checker: _Checker) -> Route:
    match = raw["match"]
    path: list[str | int] = ["routes", index, "match"]
    return Route(
        name=raw["name"],
        position=index,
        match=Match(
            sources=frozenset(match["source"]) if "source" in match else None,
            formats=frozenset(match["format"]) if "format" in match else None,
            recipients=checker.patterns(match["recipients"], [*path, "recipients"]) if "recipients" in match else None,
            procedures=checker.patterns(match["procedure"], [*path, "procedure"]) if "procedure" in match else None,
            headers=dict(match["headers"]) if "headers" in match else None,
        ),
        deliver=tuple(raw["deliver"]),
        translate=raw.get("translate"),
        validate_output=bool(raw.get("validate_output", True)),
        ordering=raw.get("ordering_key", "auto"),
        priority=int(raw.get("priority", 0)),
        retry=_retry(raw.get("retry")),
        continue_=bool(raw.get("continue", False)),
        description=raw.get("description", ""),
    )


def _covers(wide: tuple[DottedPattern, ...] | None, narrow: tuple[DottedPattern, ...] | None) -> bool:
    if wide is None:
        return True
    return narrow is not None and all(any(w.covers(n) for w in wide) for n in narrow)


def shadows(earlier: Route, later: Route) -> bool:
    """Whether ``earlier`` takes everything ``later`` could (so ``later`` never applies)."""
    if earlier.continue_:
        return False
    a, b = earlier.match, later.match
    return (
        (a.sources is None or (b.sources is not None and b.sources <= a.sources))
        and (a.formats is None or (b.formats is not None and b.formats <= a.formats))
        and _covers(a.recipients, b.recipients)
        and _covers(a.procedures, b.procedures)
        and (a.headers is None or (b.headers is not None and a.headers.items() <= b.headers.items()))
    )


def _semantics(checker: _Checker, endpoints: list[Endpoint], routes: list[Route]) -> None:
    vocabulary = checker.vocabulary
    seen: dict[str, int] = {}
    for index, endpoint in enumerate(endpoints):
        if endpoint.name in seen:
            checker.report(["endpoints", index, "name"], f"endpoint {endpoint.name!r} is defined twice")
        seen[endpoint.name] = index
    names: set[str] = set()
    for route in routes:
        at: list[str | int] = ["routes", route.position]
        if route.name in names:
            checker.report([*at, "name"], f"route {route.name!r} is defined twice")
        names.add(route.name)
        for position, endpoint_name in enumerate(route.deliver):
            if endpoint_name not in seen:
                checker.report([*at, "deliver", position], f"unknown endpoint {endpoint_name!r}")
        for source in sorted(route.match.sources or ()):
            if not vocabulary.has_system(source):
                checker.report([*at, "match", "source"], f"unknown sending system {source!r}")
        for format_name in sorted(route.match.formats or ()):
            if not vocabulary.has_format(format_name):
                checker.report([*at, "match", "format"], f"unknown format {format_name!r}")
        if route.translate is not None:
            if not vocabulary.has_format(route.translate):
                checker.report([*at, "translate"], f"unknown format or mapping {route.translate!r}")
            else:
                for format_name in sorted(route.match.formats or ()):
                    if (
                        format_name != route.translate
                        and vocabulary.has_format(format_name)
                        and not vocabulary.can_translate(format_name, route.translate)
                    ):
                        checker.report([*at, "translate"], f"no translation from {format_name} to {route.translate}")
    route_index = RouteIndex(routes)
    for route in routes:
        earlier = next(
            (candidate for candidate in route_index.possible_shadows(route) if shadows(candidate, route)), None
        )
        if earlier is not None:
            checker.report(
                ["routes", route.position, "name"],
                f"route {route.name!r} never applies: route {earlier.name!r} (earlier) takes all it would",
            )


def check_text(text: str, vocabulary: Vocabulary, schemas_dir: Path) -> tuple[list[Finding], RouteTable | None]:
    """Every finding of a routes.yaml text, and the table when there is none."""
    try:
        document = YAML(typ="safe", pure=False).load(text)  # libyaml: ten times the pure parser's speed
    except MarkedYAMLError as error:
        mark = error.problem_mark
        line, column = (mark.line + 1, mark.column + 1) if mark is not None else (1, 1)
        return [Finding(line, column, f"not valid YAML: {error.problem}")], None
    checker = _Checker(text, vocabulary)
    plain = orjson.loads(orjson.dumps(document if document is not None else {}))
    validator = jsonschema_rs.validator_for(orjson.loads((schemas_dir / SCHEMA_FILE).read_bytes()))
    for violation in validator.iter_errors(plain):
        checker.report(list(violation.instance_path), violation.message)
    if checker.findings:
        return checker.findings, None
    endpoints = [_endpoint(raw, index, checker) for index, raw in enumerate(plain["endpoints"])]
    routes = [_route(raw, index, checker) for index, raw in enumerate(plain["routes"])]
    _semantics(checker, endpoints, routes)
    if checker.findings:
        return sorted(checker.findings, key=lambda finding: (finding.line, finding.column)), None
    table = RouteTable(version_of(text), text, {endpoint.name: endpoint for endpoint in endpoints}, tuple(routes))
    return [], table


def load_table(text: str, file: str, vocabulary: Vocabulary, schemas_dir: Path) -> RouteTable:
    findings, table = check_text(text, vocabulary, schemas_dir)
    if table is None:
        raise RoutesInvalid(file, findings)
    return table
