"""The fake Bot API itself, spoken to over raw HTTP: request encodings and the real error shapes."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest

from fake_bot_api import Caps, FakeBotAPI
from telegram_harness import TOKEN, ManualClock, serving


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock()


@pytest.fixture
async def api(clock: ManualClock) -> AsyncIterator[FakeBotAPI]:
    async with serving(Caps(), clock.now) as fake:
        fake.add_chat(-100300, "supergroup")
        yield fake


async def call(api: FakeBotAPI, method: str, as_json: bool = False, token: str = TOKEN,
               **params: Any) -> tuple[int, dict[str, Any]]:
    url = f"{api.base_url}{token}/{method}"
    async with aiohttp.ClientSession() as session:
        if as_json:
            response = await session.post(url, json=params)
        else:  # python-telegram-bot's way: JSON-encoded values, strings raw
            form = {k: v if isinstance(v, str) else json.dumps(v) for k, v in params.items()}
            response = await session.post(url, data=form)
        async with response:
            return response.status, await response.json()


@pytest.mark.parametrize("as_json", [False, True])
async def test_form_and_json_requests(api: FakeBotAPI, as_json: bool) -> None:
    status, body = await call(api, "sendMessage", as_json, chat_id=42, text="123", parse_mode="HTML",
                              disable_notification=True, link_preview_options={"is_disabled": True})
    assert status == 200 and body["ok"] and body["result"]["text"] == "123"
    [sent] = api.sent
    assert (sent.chat_id, sent.text, sent.parse_mode) == (42, "123", "HTML")  # "123" stays text
    assert sent.options == {"disable_notification": True, "link_preview_options": {"is_disabled": True}}


async def test_the_limit_counts_visible_text(api: FakeBotAPI) -> None:
    fits = "<b>" + "&amp;" * 4096 + "</b>"  # 4096 characters once parsed
    status, _ = await call(api, "sendMessage", chat_id=42, text=fits, parse_mode="HTML")
    assert status == 200
    status, body = await call(api, "sendMessage", chat_id=-100300, text="x" * 4097)
    assert (status, body["description"]) == (400, "Bad Request: message is too long")


async def test_error_shapes(api: FakeBotAPI) -> None:
    api.add_chat(-5, "group").migrated_to = -1005
    api.add_chat(-6, "group").kicked = True
    assert await call(api, "sendMessage", chat_id=-5, text="hi") == (400, {
        "ok": False, "error_code": 400, "description": "Bad Request: group chat was upgraded to a supergroup chat",
        "parameters": {"migrate_to_chat_id": -1005}})
    assert (await call(api, "sendMessage", chat_id=-6, text="hi"))[1]["description"] == \
        "Forbidden: bot was kicked from the group chat"
    assert (await call(api, "sendMessage", chat_id=-7, text="hi"))[1]["description"] == "Bad Request: chat not found"
    assert (await call(api, "sendMessage", chat_id=42, text="<b>open", parse_mode="HTML"))[0] == 400
    assert (await call(api, "getMe", token="1:wrong"))[0] == 401
    assert (await call(api, "sendPhoto", chat_id=42))[0] == 404 and api.unknown_methods == ["sendphoto"]


async def test_flood_caps_answer_429_with_retry_after(api: FakeBotAPI, clock: ManualClock) -> None:
    assert (await call(api, "sendMessage", chat_id=42, text="one"))[0] == 200
    status, body = await call(api, "sendMessage", chat_id=42, text="two")
    assert (status, body) == (429, {"ok": False, "error_code": 429, "description": "Too Many Requests: retry after 1",
                                    "parameters": {"retry_after": 1}})
    clock.advance(1)
    assert (await call(api, "sendMessage", chat_id=42, text="two"))[0] == 200
    for n in range(19):
        clock.advance(1)
        assert (await call(api, "sendMessage", chat_id=-100300, text=str(n)))[0] == 200
    clock.advance(1)
    status, body = await call(api, "sendMessage", chat_id=-100300, text="20th")
    assert status == 200
    clock.advance(1)
    status, body = await call(api, "sendMessage", chat_id=-100300, text="21st")
    assert (status, body["parameters"]["retry_after"]) == (429, 40)  # the first of 20 leaves the window at 60 s
    assert api.too_many_requests == 2


async def test_get_updates_hands_out_injected_updates_and_waits_when_empty(api: FakeBotAPI) -> None:
    first = api.inject_text(42, "/help")
    _, body = await call(api, "getUpdates", offset=0, timeout=0)
    [update] = body["result"]
    assert update["update_id"] == first and update["message"]["entities"][0]["type"] == "bot_command"
    api.max_poll_wait = 0.05
    _, body = await call(api, "getUpdates", offset=first + 1, timeout=30)
    assert body["result"] == []
