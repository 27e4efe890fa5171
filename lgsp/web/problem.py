"""Rejections as RFC 9457 ``application/problem+json``, every problem listed."""

from __future__ import annotations

from aiohttp import web

from lgsp.errors import LgspError, Unavailable
from lgsp.problems import Problem

PROBLEM_TYPE = "application/problem+json"


def problem_response(error: LgspError, instance: str) -> web.Response:
    body = {
        "type": f"urn:lgsp:problem:{error.slug}",
        "title": error.title,
        "status": error.http_status,
        "detail": error.detail,
        "instance": instance,
        "errors": [problem.as_json() for problem in error.problems],
    }
    headers = {}
    if isinstance(error, Unavailable):
        headers["Retry-After"] = str(error.retry_after_seconds)
    if error.http_status == 401:
        headers["WWW-Authenticate"] = 'Bearer realm="lgsp"'
    return web.json_response(body, status=error.http_status, content_type=PROBLEM_TYPE, headers=headers)


def internal_error(incident: str) -> LgspError:
    return LgspError(
        f"internal error; the bus logged it as incident {incident}",
        [Problem("", "unexpected failure inside the bus; nothing was accepted")],
    )
