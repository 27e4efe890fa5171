"""How payload bodies are kept in the ledger: compressed with zstd.

zstd at level 1 compresses the ledger's typical bodies (JSON and XML around base64 attachments) as
well as zlib at level 1 did, at about ten times the speed: zlib took 28 ms a megabyte, more than all
the rest of the ingress. Bodies written by older versions stay zlib and are still read.
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
