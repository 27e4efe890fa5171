"""Operators change the routing table without a restart or a lost message, and see who changed what."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from aiohttp.test_utils import TestClient

from lgsp.routing.loader import version_of
from lgsp.settings import load_settings
from tests.api.conftest import auth, first_valid, start
from tests.conftest import OPERATOR_TOKEN, TEST_ROUTES, write_config

Client = TestClient[object, object]
OPERATOR = {"Authorization": f"Bearer {OPERATOR_TOKEN}"}
YAML = {**OPERATOR, "Content-Type": "application/yaml"}
RENAMED = TEST_ROUTES.replace("name: everything", "name: everything-v2")


async def post_dossier(client: Client, key: str) -> dict[str, object]:
    response = await client.post(
        "/v1/messages",
        data=first_valid("dvcqg.dossier"),
        headers={**auth("motcua"), "Content-Type": "application/json", "Idempotency-Key": key},
    )
    assert response.status == 202, await response.text()
    return await response.json()  # type: ignore[no-any-return]


async def message(client: Client, message_id: object) -> dict[str, object]:
    response = await client.get(f"/v1/messages/{message_id}", headers=auth("motcua"))
    return await response.json()  # type: ignore[no-any-return]


@pytest.mark.parametrize(
    ("headers", "status"),
    [({}, 401), ({"Authorization": "Bearer nope"}, 401), (auth("qlvb"), 403), (OPERATOR, 200)],
    ids=["no-token", "unknown-token", "system-key", "operator"],
)
async def test_only_operators_reach_the_admin_api(client: Client, headers: dict[str, str], status: int) -> None:
    assert (await client.get("/admin/routes", headers=headers)).status == status


async def test_a_new_table_applies_at_once_and_is_written_back(client: Client, settings: object) -> None:
    before = await (await client.get("/admin/routes", headers=OPERATOR)).json()
    response = await client.put("/admin/routes", data=RENAMED, headers=YAML)
    assert response.status == 200, await response.text()
    applied = await response.json()
    assert applied["version"] == version_of(RENAMED) != before["version"]
    assert applied["author"] == "operator:ops"
    assert load_settings_file(client).read_text() == RENAMED
    seen = await message(client, (await post_dossier(client, "after-put"))["id"])
    assert (seen["route"], seen["route_version"]) == ("everything-v2", applied["version"])


def load_settings_file(client: Client) -> Path:
    from lgsp.web.context import BUS

    return client.app[BUS].settings.routes.file  # type: ignore[index,union-attr]


async def test_a_bad_table_is_refused_with_positions_and_the_old_one_keeps_running(client: Client) -> None:
    broken = TEST_ROUTES.replace("deliver: [sink]", "deliver: [nowhere]")
    response = await client.put("/admin/routes", data=broken, headers=YAML)
    assert response.status == 422
    [problem] = (await response.json(content_type="application/problem+json"))["errors"]
    assert (problem["line"], problem["column"], problem["message"]) == (7, 15, "unknown endpoint 'nowhere'")
    assert load_settings_file(client).read_text() == TEST_ROUTES
    seen = await message(client, (await post_dossier(client, "after-refusal"))["id"])
    assert seen["route_version"] == version_of(TEST_ROUTES)


async def test_a_json_edit_keeps_the_files_comments(client: Client) -> None:
    edit = {"routes": [{"name": "everything", "match": {}, "deliver": ["sink"], "priority": 3}]}
    response = await client.put("/admin/routes", json=edit, headers=OPERATOR)
    assert response.status == 200, await response.text()
    text = load_settings_file(client).read_text()
    assert text.startswith("# test routing table\n")
    assert "priority: 3" in text


async def test_history_shows_author_action_and_diff_and_rollback_restores(client: Client) -> None:
    first = version_of(TEST_ROUTES)
    await client.put("/admin/routes", data=RENAMED, headers=YAML)
    rolled = await client.post(f"/admin/routes/rollback/{first}", headers=OPERATOR)
    assert rolled.status == 200
    history = await (await client.get("/admin/routes/history", headers=OPERATOR)).json()
    assert [(entry["author"], entry["action"]) for entry in history] == [
        ("operator:ops", f"rolled back to {first}"),
        ("operator:ops", "applied"),
        ("bus:start", "started"),
    ]
    assert "-  - name: everything-v2\n+  - name: everything\n" in history[0]["diff"]
    assert "+  - name: everything-v2" in history[1]["diff"]
    assert (await client.post("/admin/routes/rollback/0000000000000000", headers=OPERATOR)).status == 404


async def test_an_edited_file_is_picked_up_and_a_broken_one_ignored(client: Client) -> None:
    path = load_settings_file(client)
    path.write_text(TEST_ROUTES.replace("deliver: [sink]", "deliver: [nowhere]"))
    await asyncio.sleep(1.0)
    assert (await (await client.get("/admin/routes", headers=OPERATOR)).json())["version"] == version_of(TEST_ROUTES)
    path.write_text(RENAMED)
    for _ in range(50):
        current = await (await client.get("/admin/routes", headers=OPERATOR)).json()
        if current["version"] == version_of(RENAMED):
            break
        await asyncio.sleep(0.1)
    assert current["version"] == version_of(RENAMED)
    history = await (await client.get("/admin/routes/history?limit=1", headers=OPERATOR)).json()
    assert (history[0]["author"], history[0]["action"]) == ("file", "reloaded")


async def test_reload_through_the_api(client: Client) -> None:
    unchanged = await (await client.post("/admin/routes/reload", headers=OPERATOR)).json()
    assert unchanged["changed"] is False
    load_settings_file(client).write_text(RENAMED)
    changed = await (await client.post("/admin/routes/reload", headers=OPERATOR)).json()
    assert (changed["changed"], changed["version"]) == (True, version_of(RENAMED))


async def test_every_message_is_routed_by_exactly_one_version(client: Client) -> None:
    async def switch() -> None:
        for text in (RENAMED, TEST_ROUTES, RENAMED):
            await asyncio.sleep(0.02)
            assert (await client.put("/admin/routes", data=text, headers=YAML)).status == 200

    posts = [post_dossier(client, f"switch-{index}") for index in range(60)]
    results = await asyncio.gather(switch(), *posts)
    routes_by_version = {version_of(TEST_ROUTES): "everything", version_of(RENAMED): "everything-v2"}
    for accepted in results[1:]:
        seen = await message(client, accepted["id"])  # type: ignore[index]
        assert seen["route"] == routes_by_version[str(seen["route_version"])]


@pytest.fixture
async def two_instances(tmp_path: Path, postgres_url: str) -> AsyncIterator[tuple[Client, Client]]:
    first_dir, second_dir = tmp_path / "a", tmp_path / "b"
    first_dir.mkdir()
    second_dir.mkdir()
    first = await start(load_settings(write_config(first_dir, ledger_url=postgres_url)))
    second = await start(load_settings(write_config(second_dir, ledger_url=postgres_url)))
    yield first, second
    await first.close()
    await second.close()


@pytest.mark.integration
async def test_a_change_on_one_instance_reaches_the_other_within_five_seconds(
    two_instances: tuple[Client, Client],
) -> None:
    first, second = two_instances
    assert (await first.put("/admin/routes", data=RENAMED, headers=YAML)).status == 200
    for _ in range(50):
        current = await (await second.get("/admin/routes", headers=OPERATOR)).json()
        if current["version"] == version_of(RENAMED):
            break
        await asyncio.sleep(0.1)
    assert current["version"] == version_of(RENAMED)
    assert load_settings_file(second).read_text() == RENAMED
