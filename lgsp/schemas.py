"""Schema registry: every format's schema compiled once, from ``schemas/`` only.

XSD runs in lxml (libxml2); JSON Schema in jsonschema-rs, compiled. Both report every violation.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import jsonschema_rs
import orjson
from lxml import etree

from lgsp import xmlsafe
from lgsp.errors import ConfigError
from lgsp.formats import FormatSpec
from lgsp.problems import Problem

_PREFIX = re.compile(r"[A-Za-z_][\w.-]*:")
_NAMESPACE = re.compile(r"\{[A-Za-z][\w+.-]*:[^}\s]*\}")
_FOUND_LIMIT = 120


def _shorten(value: Any) -> str:
    text = value if isinstance(value, str) else orjson.dumps(value).decode()
    return text if len(text) <= _FOUND_LIMIT else text[:_FOUND_LIMIT] + "…"


class _XmlSchema:
    """An XSD, compiled once per thread: lxml's validator keeps its error log on the schema object,
    so two threads validating with one object could read each other's errors."""

    def __init__(self, path: Path) -> None:
        self._path = path
        self._local = threading.local()
        self._compiled()  # fail at start, not on the first message

    def _compiled(self) -> etree.XMLSchema:
        schema: etree.XMLSchema | None = getattr(self._local, "schema", None)
        if schema is None:
            try:
                schema = etree.XMLSchema(xmlsafe.load_trusted(str(self._path)))
            except (OSError, etree.XMLSyntaxError, etree.XMLSchemaParseError) as error:
                raise ConfigError(f"schema {self._path}: {error}") from None
            self._local.schema = schema
        return schema

    def problems(self, root: etree._Element) -> list[Problem]:
        schema = self._compiled()
        if schema.validate(root):
            return []
        tree = root.getroottree()
        return [
            Problem(
                path=_element_path(tree, entry.path),
                message=_NAMESPACE.sub("", entry.message),
                line=entry.line or None,
                column=entry.column or None,
            )
            for entry in schema.error_log
        ]


def _element_path(tree: etree._ElementTree, reported: str | None) -> str:
    """libxml2 reports ``/*/*[1]/*[6]`` for namespaced elements: name them by their local names."""
    if not reported:
        return ""
    root = tree.getroot()
    prefixes = {prefix: uri for prefix, uri in root.nsmap.items() if prefix} if root is not None else {}
    try:
        found = tree.xpath(reported, namespaces=prefixes)
    except etree.XPathError:
        return _PREFIX.sub("", reported)
    if isinstance(found, list) and found and isinstance(found[0], etree._Element):
        return xmlsafe.local_path(found[0])
    return _PREFIX.sub("", reported)


class _JsonSchema:
    def __init__(self, path: Path) -> None:
        try:
            schema = orjson.loads(path.read_bytes())
            self._validator = jsonschema_rs.validator_for(schema, validate_formats=True)
        except (OSError, orjson.JSONDecodeError, jsonschema_rs.ValidationError, ValueError) as error:
            raise ConfigError(f"schema {path}: {error}") from None

    def problems(self, document: Any) -> list[Problem]:
        if self._validator.is_valid(document):
            return []
        problems = []
        for error in self._validator.iter_errors(document):
            leaf = not isinstance(error.instance, dict | list)
            problems.append(
                Problem(
                    path="/" + "/".join(str(part) for part in error.instance_path) if error.instance_path else "",
                    message=error.message,
                    expected="/".join(str(part) for part in error.schema_path),
                    found=_shorten(error.instance) if leaf else None,
                )
            )
        return problems


class SchemaRegistry:
    def __init__(self, schemas_dir: Path, specs: Iterable[FormatSpec]) -> None:
        self._validators: dict[str, _XmlSchema | _JsonSchema] = {}
        for spec in specs:
            if spec.schema is None:
                continue
            path = schemas_dir / spec.schema
            if not path.is_file():
                raise ConfigError(f"format {spec.name}: schema file {path} does not exist")
            self._validators[spec.name] = _XmlSchema(path) if spec.syntax == "xml" else _JsonSchema(path)

    def problems(self, spec: FormatSpec, document: Any) -> list[Problem]:
        validator = self._validators.get(spec.name)
        return [] if validator is None else validator.problems(document)
