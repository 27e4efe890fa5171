"""Payload bodies in the ledger: what is stored is given back byte for byte, whatever wrote it."""

from __future__ import annotations

import os
import zlib

import pytest

from lgsp.audit import bodies


@pytest.mark.parametrize("body", [b"", b'{"a": 1}', os.urandom(300_000), b"<x>" * 100_000])
def test_a_body_comes_back_as_it_was_stored(body: bytes) -> None:
    assert bodies.unpack(bodies.ENCODING, bodies.pack(body)) == body


def test_text_is_stored_smaller() -> None:
    body = b"<Attachment>" + b"QUJDREVGR0hJSktMTU5PUA==" * 4000 + b"</Attachment>"
    assert len(bodies.pack(body)) < len(body) / 4


def test_bodies_a_former_version_stored_with_zlib_are_still_read() -> None:
    assert bodies.unpack("zlib", zlib.compress(b"older ledger", 1)) == b"older ledger"


def test_a_purged_body_cannot_be_read() -> None:
    with pytest.raises(ValueError, match="'purged'"):
        bodies.unpack(bodies.PURGED, b"")
