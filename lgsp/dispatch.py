"""From an admitted message to what must be sent: routes decided, each target format rendered once.

Shared by the ingress, ``lgsp routes explain`` and ``lgsp routes test`` so that what an operator
previews is exactly what the bus does.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from lgsp.errors import InvalidMessage
from lgsp.formats import FormatRegistry, FormatSpec, MessageFacts
from lgsp.inspection import Inspector
from lgsp.problems import Problem
from lgsp.routing import Decision, Router, RoutingInput
from lgsp.translation import Translation, TranslationContext, Translator


@dataclass(frozen=True, slots=True)
class Rendered:
    """A message in one target format, as it will be delivered."""

    format: str
    media_type: str
    body: bytes
    warnings: tuple[Problem, ...] = ()


@dataclass(frozen=True, slots=True)
class Dispatch:
    decision: Decision
    rendered: Mapping[str, Rendered]  # by format


class Dispatcher:
    def __init__(self, formats: FormatRegistry, translator: Translator, inspector: Inspector) -> None:
        self._formats = formats
        self._translator = translator
        self._inspector = inspector

    def routing_input(
        self, system_id: str, spec: FormatSpec, facts: MessageFacts, headers: Mapping[str, str]
    ) -> RoutingInput:
        return RoutingInput(
            source=system_id,
            format=spec.name,
            recipients=facts.recipient_organs,
            procedure=facts.procedure_code,
            headers=headers,
        )

    def dispatch(
        self,
        router: Router,
        message: RoutingInput,
        document: Any,
        body: bytes,
        media_type: str,
        context: TranslationContext,
    ) -> Dispatch:
        decision = router.decide(message, lambda name: self._formats.get(name).ordering)
        rendered: dict[str, Rendered] = {}
        for planned in decision.deliveries:
            if planned.format in rendered:
                continue
            if planned.format == message.format:
                rendered[planned.format] = Rendered(planned.format, media_type, body)
                continue
            translation = self._translator.translate(message.format, planned.format, document, context)
            if planned.validate_output:
                self._check_output(translation)
            rendered[planned.format] = Rendered(
                translation.format, translation.media_type, translation.body, translation.warnings
            )
        return Dispatch(decision, rendered)

    def _check_output(self, translation: Translation) -> None:
        target = self._formats.get(translation.format)
        problems = self._inspector.inspect(translation.body, target.syntax, target.name).problems
        if problems:
            raise InvalidMessage(
                f"the message cannot be delivered as {target.name}: its translation has {len(problems)} problem(s)",
                problems,
            )
