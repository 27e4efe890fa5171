"""``lgsp routes test``: table tests of the routing table, the way Benthos tests its configs.

A test file (``routes.tests/*.yaml``) holds a list of cases::

    - name: a document for another province goes to the national axis as edXML
      from: qlvb-demo                      # the sending system
      message: ../tests/samples/docflow.document/valid/normal-document.json
      headers: {X-Priority: high}          # optional request headers routes may match on
      expect:
        routes: [docflow-out-of-province]
        deliveries:
          - endpoint: national-axis
            format: edxml.document
            recipients: [000.00.00.H56]    # optional
            output: expected/normal-document.edxml   # optional: the exact payload (JSON as data, XML as C14N)
    - name: a document for nobody we know is refused
      from: qlvb-demo
      message: samples/unknown-recipient.json
      expect:
        rejected: no-route                 # the problem type the ingress would answer

Paths are relative to the test file. Translations run at a fixed time (``now`` in the case, or
2025-10-01T09:00:00+07:00) so outputs are reproducible.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import orjson
from lxml import etree
from ruamel.yaml import YAML

from lgsp import xmlsafe
from lgsp.dispatch import Dispatcher
from lgsp.errors import RejectedMessage
from lgsp.formats import MEDIA_TYPES, syntax_of_file
from lgsp.ids import VIETNAM
from lgsp.inspection import Inspector
from lgsp.routing import Router
from lgsp.translation import TranslationContext

DEFAULT_NOW = datetime(2025, 10, 1, 9, 0, tzinfo=VIETNAM)


@dataclass(frozen=True, slots=True)
class CaseResult:
    file: Path
    name: str
    failures: list[str] = field(default_factory=list)

    @property
    def passed(self) -> bool:
        return not self.failures


def comparable(body: bytes, media_type: str) -> object:
    """A payload as it should be compared: JSON as data, XML canonicalised, anything else as bytes."""
    if media_type.endswith("json"):
        return orjson.loads(body)
    if media_type.endswith("xml"):
        return etree.canonicalize(etree.tostring(xmlsafe.parse(body)).decode("utf-8"), strip_text=True)
    return body


class RouteTestRunner:
    def __init__(self, inspector: Inspector, dispatcher: Dispatcher, router: Router, bus_organ_id: str) -> None:
        self._inspector = inspector
        self._dispatcher = dispatcher
        self._router = router
        self._bus_organ_id = bus_organ_id

    def run_dir(self, folder: Path) -> list[CaseResult]:
        results: list[CaseResult] = []
        for file in sorted(folder.glob("*.yaml")):
            cases = YAML(typ="safe").load(file.read_text(encoding="utf-8")) or []
            results.extend(self.run_case(file, case) for case in cases)
        return results

    def run_case(self, file: Path, case: dict[str, Any]) -> CaseResult:
        result = CaseResult(file, str(case.get("name", "(unnamed)")))
        expect = case.get("expect") or {}
        message_file = file.parent / case["message"]
        body = message_file.read_bytes()
        now = datetime.fromisoformat(case["now"]) if "now" in case else DEFAULT_NOW
        context = TranslationContext(bus_organ_id=self._bus_organ_id, now=now)
        try:
            inspection = self._inspector.inspect(body, syntax_of_file(message_file.name, body), case.get("format"))
            if inspection.problems:
                result.failures.append(f"the message is invalid: {inspection.problems[0].message}")
                return result
            facts = inspection.spec.facts(inspection.document)
            message = self._dispatcher.routing_input(
                str(case["from"]), inspection.spec, facts, case.get("headers") or {}
            )
            dispatch = self._dispatcher.dispatch(
                self._router,
                message,
                inspection.document,
                body,
                MEDIA_TYPES[inspection.spec.syntax],
                context,
            )
        except RejectedMessage as rejection:
            if expect.get("rejected") != rejection.slug:
                result.failures.append(f"rejected ({rejection.slug}: {rejection.detail}), expected {expect}")
            return result
        if "rejected" in expect:
            result.failures.append(f"accepted, expected a {expect['rejected']} rejection")
            return result
        if "routes" in expect and list(dispatch.decision.routes) != list(expect["routes"]):
            result.failures.append(f"routes {list(dispatch.decision.routes)}, expected {expect['routes']}")
        actual = {(planned.endpoint, planned.format): planned for planned in dispatch.decision.deliveries}
        wanted = expect.get("deliveries", [])
        if sorted(actual) != sorted((item["endpoint"], item["format"]) for item in wanted):
            result.failures.append(
                f"deliveries {sorted(actual)}, expected {sorted((item['endpoint'], item['format']) for item in wanted)}"
            )
            return result
        for item in wanted:
            planned = actual[(item["endpoint"], item["format"])]
            if "recipients" in item and list(planned.recipients) != list(item["recipients"]):
                result.failures.append(
                    f"{item['endpoint']}: recipients {list(planned.recipients)}, expected {item['recipients']}"
                )
            if "output" in item:
                rendered = dispatch.rendered[planned.format]
                expected_body = (file.parent / item["output"]).read_bytes()
                if comparable(rendered.body, rendered.media_type) != comparable(expected_body, rendered.media_type):
                    result.failures.append(
                        f"{item['endpoint']}: the {planned.format} output differs from {item['output']}"
                    )
        return result
