"""Reading a request body within bounds and telling its syntax from its media type."""

from __future__ import annotations

from aiohttp import web

from lgsp.errors import PayloadTooLarge, UnsupportedMediaType
from lgsp.formats import Syntax
from lgsp.problems import Problem

_JSON_TYPES = frozenset({"application/json"})
_XML_TYPES = frozenset({"application/xml", "text/xml"})
_SUPPORTED = "application/json, application/xml, text/xml (UTF-8)"


def syntax_of(request: web.Request) -> Syntax:
    media_type = request.content_type
    charset = request.charset
    if charset is not None and charset.lower() not in ("utf-8", "utf8"):
        raise UnsupportedMediaType(
            "messages are UTF-8", [Problem("Content-Type", "unsupported charset", expected="utf-8", found=charset)]
        )
    if media_type in _JSON_TYPES or media_type.endswith("+json"):
        return "json"
    if media_type in _XML_TYPES or media_type.endswith("+xml"):
        return "xml"
    raise UnsupportedMediaType(
        f"unsupported media type {media_type or '(none)'}",
        [
            Problem(
                "Content-Type",
                "the body must be JSON or XML",
                expected=_SUPPORTED,
                found=request.headers.get("Content-Type", "(missing)"),
            )
        ],
    )


async def read_bounded(request: web.Request, limit: int) -> bytes:
    declared = request.content_length
    if declared is not None and declared > limit:
        raise _too_large(limit, declared)
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.content.iter_chunked(256 * 1024):
        size += len(chunk)
        if size > limit:
            raise _too_large(limit, size)
        chunks.append(chunk)
    return b"".join(chunks)


def _too_large(limit: int, size: int) -> PayloadTooLarge:
    return PayloadTooLarge(
        f"the body exceeds {limit} bytes",
        [Problem("", "message too large", expected=f"at most {limit} bytes", found=f"{size} bytes or more")],
    )
