"""The bus's error tree. Every error knows how it is answered and audited.

::

    LgspError
    ├── RejectedMessage             the sender's fault; answering it again won't help
    │   ├── Unauthenticated         401  no key, or a key the bus does not know
    │   ├── Forbidden               403  an OrganId or a format the system does not own
    │   ├── NotFound                404  no such message for this system
    │   ├── Gone                    410  a payload purged under retention (its hash remains)
    │   ├── PayloadTooLarge         413  body over ``http.max_body_bytes``
    │   ├── UnsupportedMediaType    415  neither JSON nor XML, or a charset other than UTF-8
    │   ├── MalformedMessage        400  not well-formed, hostile XML, bad encoding, bad header
    │   └── InvalidMessage          422  schema or business-rule violations, unknown format
    │       └── NoRoute             422  no route takes the message (or one of its recipients)
    ├── Unavailable                 503  the bus cannot make the message durable now; retry, same key
    └── ConfigError                 the bus refuses to start: a setting or a content file is wrong

Third-party exceptions are mapped to these at every boundary; nothing else escapes to a sender.
"""

from __future__ import annotations

from collections.abc import Iterable

from lgsp.problems import Problem


class LgspError(Exception):
    """Base of every error the bus raises on purpose."""

    http_status = 500
    title = "Internal error"
    slug = "internal-error"
    soap_sender_fault = False
    retryable = False

    def __init__(self, detail: str, problems: Iterable[Problem] = ()) -> None:
        super().__init__(detail)
        self.detail = detail
        self.problems: tuple[Problem, ...] = tuple(problems)

    @property
    def audit_code(self) -> str:
        return self.slug


class RejectedMessage(LgspError):
    soap_sender_fault = True
    title = "Message rejected"
    slug = "rejected"


class Unauthenticated(RejectedMessage):
    http_status = 401
    title = "Authentication required"
    slug = "unauthenticated"


class Forbidden(RejectedMessage):
    http_status = 403
    title = "Not allowed for this system"
    slug = "forbidden"


class NotFound(RejectedMessage):
    http_status = 404
    title = "Not found"
    slug = "not-found"


class Gone(RejectedMessage):
    http_status = 410
    title = "Gone"
    slug = "gone"


class PayloadTooLarge(RejectedMessage):
    http_status = 413
    title = "Message too large"
    slug = "payload-too-large"


class UnsupportedMediaType(RejectedMessage):
    http_status = 415
    title = "Unsupported media type"
    slug = "unsupported-media-type"


class MalformedMessage(RejectedMessage):
    http_status = 400
    title = "Malformed message"
    slug = "malformed-message"


class InvalidMessage(RejectedMessage):
    http_status = 422
    title = "Invalid message"
    slug = "invalid-message"


class NoRoute(InvalidMessage):
    title = "No route"
    slug = "no-route"


class Unavailable(LgspError):
    http_status = 503
    title = "Temporarily unavailable"
    slug = "unavailable"
    retryable = True

    def __init__(self, detail: str, retry_after_seconds: int = 5) -> None:
        super().__init__(detail)
        self.retry_after_seconds = retry_after_seconds


class ConfigError(LgspError):
    title = "Configuration error"
    slug = "config-error"
