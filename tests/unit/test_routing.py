"""Routing: the matching semantics of docs/ROUTING.md, the linter's findings, explain agreeing with decide."""

from __future__ import annotations

import textwrap
from typing import Literal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from lgsp.errors import NoRoute
from lgsp.routing import Router, RouteTable, RoutingInput, check_text, explain
from tests.conftest import ROOT

SCHEMAS = ROOT / "schemas"


class Vocabulary:
    def has_format(self, name: str) -> bool:
        return name in {
            "docflow.document",
            "edxml.document",
            "docflow.status",
            "edxml.status",
            "onestop.dossier",
            "dvcqg.dossier",
            "onestop.progress",
            "dvcqg.progress",
        }

    def can_translate(self, source: str, target: str) -> bool:
        return source.split(".")[1] == target.split(".")[1]

    def has_system(self, system_id: str) -> bool:
        return system_id in {"qlvb", "motcua", "archive"}


ENDPOINTS = """
endpoints:
  - {name: axis, kind: vxp, url: "http://axis/"}
  - {name: local, kind: rest, url: "http://local/"}
  - {name: portal, kind: dvcqg, url: "http://portal/"}
  - {name: archive, kind: rest, url: "http://archive/", retry: {attempts: 3, initial_seconds: 5}}
"""


def table(routes: str) -> RouteTable:
    findings, loaded = check_text(ENDPOINTS + "routes:\n" + textwrap.dedent(routes), Vocabulary(), SCHEMAS)
    assert loaded is not None, findings
    return loaded


def findings(text: str) -> list[str]:
    found, _ = check_text(textwrap.dedent(text), Vocabulary(), SCHEMAS)
    return [f"{finding.line}:{finding.column}: {finding.message}" for finding in found]


def ordering_of(name: str) -> Literal["document", "dossier"] | None:
    return "dossier" if name.endswith("progress") else "document" if name.endswith("status") else None


DOCUMENT_ROUTES = """
  - name: local
    match: {format: [docflow.document], recipients: ["000.*.*.H41", "H41.**"]}
    deliver: [local]
  - name: outside
    match: {format: [docflow.document], recipients: ["*"]}
    translate: edxml.document
    deliver: [axis]
"""


def document(*recipients: str, source: str = "qlvb") -> RoutingInput:
    return RoutingInput(source=source, format="docflow.document", recipients=recipients)


def test_each_recipient_goes_to_the_first_route_that_matches_it() -> None:
    decision = Router(table(DOCUMENT_ROUTES)).decide(
        document("000.00.06.H41", "000.00.00.H56", "H41.14", "000.00.00.G22"), ordering_of
    )
    assert decision.routes == ("local", "outside")
    by_endpoint = {planned.endpoint: planned for planned in decision.deliveries}
    assert by_endpoint["local"].recipients == ("000.00.06.H41", "H41.14")
    assert by_endpoint["local"].format == "docflow.document"
    assert by_endpoint["axis"].recipients == ("000.00.00.H56", "000.00.00.G22")
    assert by_endpoint["axis"].format == "edxml.document"


def test_deliveries_to_one_endpoint_in_one_format_are_merged() -> None:
    routes = DOCUMENT_ROUTES.replace("deliver: [local]", "translate: edxml.document\n    deliver: [axis]")
    [planned] = Router(table(routes)).decide(document("000.00.06.H41", "000.00.00.H56"), ordering_of).deliveries
    assert planned.endpoint == "axis"
    assert planned.routes == ("local", "outside")
    assert planned.recipients == ("000.00.06.H41", "000.00.00.H56")


ARCHIVE_COPY = """
  - name: archive-everything
    match: {format: [docflow.document]}
    deliver: [archive]
    continue: true
"""


def test_continue_lets_a_later_route_take_a_copy() -> None:
    routes = ARCHIVE_COPY + DOCUMENT_ROUTES
    decision = Router(table(routes)).decide(document("000.00.06.H41"), ordering_of)
    assert decision.routes == ("archive-everything", "local")
    assert {planned.endpoint for planned in decision.deliveries} == {"archive", "local"}


def test_a_message_without_recipients_goes_to_the_first_route_without_recipient_criteria() -> None:
    routes = """
      - name: by-recipient
        match: {recipients: ["*"]}
        deliver: [axis]
      - name: land-procedures
        match: {format: [onestop.dossier], procedure: ["1.004227.**"]}
        translate: dvcqg.dossier
        deliver: [portal]
      - name: other-dossiers
        match: {format: [onestop.dossier]}
        deliver: [local]
    """
    router = Router(table(routes))
    land = RoutingInput(source="motcua", format="onestop.dossier", procedure="1.004227.000.00.00.H41")
    other = RoutingInput(source="motcua", format="onestop.dossier", procedure="2.000477")
    assert router.decide(land, ordering_of).routes == ("land-procedures",)
    assert router.decide(other, ordering_of).routes == ("other-dossiers",)


def test_headers_must_hold_exactly() -> None:
    routes = """
      - name: urgent
        match: {format: [onestop.dossier], headers: {X-Lane: urgent}}
        deliver: [portal]
      - name: normal
        match: {format: [onestop.dossier]}
        deliver: [local]
    """
    router = Router(table(routes))
    urgent = RoutingInput(source="motcua", format="onestop.dossier", headers={"X-Lane": "urgent"})
    assert router.decide(urgent, ordering_of).routes == ("urgent",)
    assert router.decide(RoutingInput(source="motcua", format="onestop.dossier"), ordering_of).routes == ("normal",)


def test_a_recipient_no_route_takes_rejects_the_message_naming_it() -> None:
    routes = DOCUMENT_ROUTES.replace('recipients: ["*"]', 'recipients: ["000.*.*.H56"]')
    with pytest.raises(NoRoute) as caught:
        Router(table(routes)).decide(document("000.00.06.H41", "000.00.00.G22"), ordering_of)
    assert [problem.found for problem in caught.value.problems] == ["000.00.00.G22"]
    assert "source=qlvb, format=docflow.document" in caught.value.detail


def test_no_route_names_what_the_message_was_matched_on() -> None:
    with pytest.raises(NoRoute) as caught:
        Router(table(DOCUMENT_ROUTES)).decide(
            RoutingInput(source="motcua", format="onestop.dossier", procedure="2.000477"), ordering_of
        )
    assert (
        caught.value.detail == "no route takes this message (source=motcua, format=onestop.dossier, procedure=2.000477)"
    )


def test_ordering_follows_the_format_unless_the_route_says_otherwise() -> None:
    routes = """
      - name: progress
        match: {format: [onestop.progress]}
        deliver: [portal]
      - name: dossiers
        match: {format: [onestop.dossier]}
        ordering_key: dossier
        priority: 7
        deliver: [archive]
    """
    router = Router(table(routes))
    [progress] = router.decide(RoutingInput(source="motcua", format="onestop.progress"), ordering_of).deliveries
    [dossier] = router.decide(RoutingInput(source="motcua", format="onestop.dossier"), ordering_of).deliveries
    assert progress.ordering == "dossier"
    assert (dossier.ordering, dossier.priority) == ("dossier", 7)
    assert dossier.retry.attempts == 3  # the endpoint's policy, since the route sets none


def test_the_linter_reports_every_problem_with_its_line_and_column() -> None:
    text = ENDPOINTS + textwrap.dedent("""
    routes:
      - name: first
        match: {format: [docflow.document]}
        deliver: [axis, nowhere]
      - name: first
        match: {format: [docflow.document], source: [nobody]}
        deliver: [local]
      - name: bad-pattern
        match: {recipients: ["000.**.00.H41"]}
        translate: no.such
        deliver: [local]
      - name: untranslatable
        match: {format: [docflow.document]}
        translate: dvcqg.dossier
        deliver: [portal]
    """)
    assert findings(text) == [
        "11:21: unknown endpoint 'nowhere'",
        "12:5: route 'first' is defined twice",
        "12:5: route 'first' never applies: route 'first' (earlier) takes all it would",
        "13:41: unknown sending system 'nobody'",
        "16:26: invalid pattern '000.**.00.H41': segments are letters, digits, '_' or '-', '*' for one whole"
        " segment or a final '**' for the rest (e.g. 000.*.*.H41, 1.003560.**)",
        "17:5: unknown format or mapping 'no.such'",
        "19:5: route 'untranslatable' never applies: route 'first' (earlier) takes all it would",
        "21:5: no translation from docflow.document to dvcqg.dossier",
    ]


def test_credentials_written_inline_are_refused() -> None:
    text = """
    endpoints:
      - name: portal
        kind: dvcqg
        url: http://portal/
        credentials: {password: hunter2}
        options: {api_key: abc123}
    routes: []
    """
    found = findings(text)
    assert any(line.startswith("6:") and "hunter2" in line for line in found), found
    text = text.replace("{password: hunter2}", "{password: {env: PORTAL_PASSWORD}}")
    assert findings(text) == [
        "7:15: credentials written inline: move 'api_key' under credentials as {env: NAME} or {file: PATH}"
    ]


def test_yaml_errors_and_duplicate_keys_have_positions() -> None:
    assert findings("endpoints: [\n")[0].startswith("2:1: not valid YAML")
    assert findings("endpoints: []\nroutes: []\nroutes: []\n")[0].startswith("3:1: not valid YAML")


def test_schema_violations_point_at_the_field() -> None:
    found = findings(ENDPOINTS + "routes:\n  - name: x\n    match: {}\n    deliver: [axis]\n    priority: 12\n")
    assert found == ["11:5: 12 is greater than the maximum of 9"]


ORGANS = ["000.00.06.H41", "000.00.00.H56", "H41.14", "H41.14.02", "000.00.00.G22", "000.17.22.H41"]
PATTERNS = ["*", "000.*.*.H41", "H41.**", "000.00.00.H56", "000.*.*.*", "H41.*", "000.00.06.H41"]


@settings(max_examples=200, deadline=None)
@given(
    routes=st.lists(
        st.tuples(
            st.lists(st.sampled_from(PATTERNS), min_size=1, max_size=3, unique=True),
            st.booleans(),
            st.sampled_from(["axis", "local", "archive"]),
        ),
        min_size=1,
        max_size=8,
    ),
    recipients=st.lists(st.sampled_from(ORGANS), min_size=1, max_size=5, unique=True),
)
def test_the_indexed_decision_agrees_with_the_explanation(
    routes: list[tuple[list[str], bool, str]], recipients: list[str]
) -> None:
    text = (
        ENDPOINTS
        + "routes:\n"
        + "".join(
            f"  - name: r{index}\n    match: {{recipients: {patterns}}}\n    deliver: [{endpoint}]\n"
            f"    continue: {str(keep).lower()}\n"
            for index, (patterns, keep, endpoint) in enumerate(routes)
        )
    )
    loaded = check_text(text, Vocabulary(), SCHEMAS)[1]
    if loaded is None:  # a shadowed route: the linter refuses the table, which is right
        return
    message = document(*recipients)
    explained = {(verdict.route, recipient) for verdict in explain(loaded, message) for recipient in verdict.recipients}
    routed = {recipient for _, recipient in explained}
    if routed != set(recipients):
        with pytest.raises(NoRoute):
            Router(loaded).decide(message, ordering_of)
        return
    decision = Router(loaded).decide(message, ordering_of)
    decided = {
        (route, recipient)
        for planned in decision.deliveries
        for route in planned.routes
        for recipient in planned.recipients
        if recipient in {r for (name, r) in explained if name == route}
    }
    assert decided == explained
    assert set(decision.routes) == {route for route, _ in explained}
