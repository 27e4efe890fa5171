"""The bus over real HTTP on 127.0.0.1, one instance per test."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from aiohttp.test_utils import TestClient, TestServer

from lgsp.assembly import build_bus
from lgsp.settings import Settings, load_settings
from lgsp.web import create_app
from tests.conftest import KEYS, SAMPLES, write_config


def auth(system: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {KEYS[system]}"}


def sample(format_name: str, name: str) -> bytes:
    return (SAMPLES / format_name / "valid" / name).read_bytes()


def first_valid(format_name: str) -> bytes:
    return sorted((SAMPLES / format_name / "valid").iterdir())[0].read_bytes()


async def start(settings: Settings) -> TestClient[object, object]:
    client: TestClient[object, object] = TestClient(TestServer(create_app(build_bus(settings)), host="127.0.0.1"))
    await client.start_server()
    return client


@pytest.fixture
async def client(settings: Settings) -> AsyncIterator[TestClient[object, object]]:
    client = await start(settings)
    yield client
    await client.close()


@pytest.fixture
async def small_client(tmp_path: Path) -> AsyncIterator[TestClient[object, object]]:
    """A bus whose body limit is 64 KiB, to test the limit without sending megabytes."""
    settings = load_settings(write_config(tmp_path, http={"max_body_bytes": 65536}))
    client = await start(settings)
    yield client
    await client.close()
