"""How payload bodies are kept in the ledger: compressed with zstd.

zstd at level 1 compresses the ledger's typical bodies (JSON and XML around base64 attachments) as
well as zlib at level 1 did (a megabyte of base64: 0.75 of its size against 0.77) in 0.9 ms instead
of 22: zlib had cost more than all the rest of the ingress. Bodies written by older versions stay
zlib and are still read.
"""

from __future__ import annotations

import zlib

import zstandard

ENCODING = "zstd"
PURGED = "purged"  # retention removed the body; its hash stays in the ledger
_LEVEL = 1


def pack(body: bytes) -> bytes:
    return zstandard.compress(body, _LEVEL)


def unpack(encoding: str, stored: bytes) -> bytes:
    """The body as received; ``ValueError`` for a purged body or an unknown encoding."""
    if encoding == ENCODING:
        return zstandard.decompress(stored)
    if encoding == "zlib":
        return zlib.decompress(stored)
    raise ValueError(f"no body to read: the payload's encoding is {encoding!r}")
