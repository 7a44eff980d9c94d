"""`newsdigest run` as an operator starts it: a real process against the fake Telegram Bot API."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

from bot.model import ChatRef, DeliveryStatus, Schedule
from storage.sqlite import SQLiteRepository
from tests.factories import OUTLETS, draft
from tests.telegram.fake_bot_api import FakeBotAPI

TOKEN = "7000000002:AAFakeTokenForTheRunTest_0123456789"
GROUP = -100300


async def test_run_delivers_due_digests_answers_commands_and_stops_on_sigterm(tmp_path: Path) -> None:
    db = tmp_path / "run.db"
    repo = await SQLiteRepository.open(db)
    await repo.store_articles([draft(n, name) for n, name in enumerate(OUTLETS, 1)])
    due = datetime.now(UTC) - timedelta(minutes=5)  # missed while "down", well inside the grace window
    await repo.save_subscription(ChatRef("telegram", str(GROUP)), Schedule(("07:00",)), due)
    await repo.close()

    api = FakeBotAPI(TOKEN, max_poll_wait=1.0)
    await api.start()
    api.add_chat(GROUP, "supergroup", title="Newsroom", owner=500)
    env = {**os.environ, "DATABASE_URL": f"sqlite:///{db}", "TELEGRAM_BOT_TOKEN": TOKEN,
           "TELEGRAM_API_BASE_URL": api.base_url, "LOG_LEVEL": "DEBUG"}
    process = await asyncio.create_subprocess_exec(sys.executable, "-m", "bot", "run", env=env,
                                                   stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
    try:
        [digest] = await api.wait_for_messages(1, chat_id=GROUP, timeout=30)
        assert "News digest" in digest.text and "Outlets by rating" in digest.text
        api.inject_text(GROUP, "/latest 2", user_id=500)
        replies = await api.wait_for_messages(2, chat_id=GROUP, timeout=15)
        assert "Latest 2" in replies[1].text
        process.send_signal(signal.SIGTERM)
        _, err = await asyncio.wait_for(process.communicate(), 30)
    finally:
        if process.returncode is None:
            process.kill()
        await api.stop()
    assert process.returncode == 0, err.decode()[-2000:]
    log = err.decode()
    assert "newsdigest stopped" in log
    assert TOKEN not in log and TOKEN.split(":")[1] not in log  # not even at DEBUG
    repo = await SQLiteRepository.open(db)
    [delivery] = await repo.deliveries_for(1)
    await repo.close()
    assert delivery.status is DeliveryStatus.SENT and delivery.slot_at == due.replace(microsecond=0)


def free_port() -> int:
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


async def test_run_in_webhook_mode_accepts_only_calls_with_the_secret(tmp_path: Path) -> None:
    import aiohttp

    db = tmp_path / "hook.db"
    repo = await SQLiteRepository.open(db)
    await repo.store_articles([draft(1)])
    await repo.close()
    api = FakeBotAPI(TOKEN, max_poll_wait=1.0)
    await api.start()
    api.add_chat(42, "private", title="Ada")
    port = free_port()
    env = {**os.environ, "DATABASE_URL": f"sqlite:///{db}", "TELEGRAM_BOT_TOKEN": TOKEN,
           "TELEGRAM_API_BASE_URL": api.base_url, "TELEGRAM_WEBHOOK_URL": "https://bot.example/tg-hook",
           "TELEGRAM_WEBHOOK_SECRET": "s3cret-value", "TELEGRAM_WEBHOOK_PORT": str(port), "LOG_LEVEL": "INFO"}
    process = await asyncio.create_subprocess_exec(sys.executable, "-m", "bot", "run", env=env,
                                                   stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
    update = {"update_id": 1, "message": {"message_id": 1, "date": 0, "text": "/latest",
                                          "entities": [{"type": "bot_command", "offset": 0, "length": 7}],
                                          "chat": {"id": 42, "type": "private", "first_name": "Ada"},
                                          "from": {"id": 42, "is_bot": False, "first_name": "Ada"}}}
    try:
        for _ in range(100):
            if api.calls_of("setWebhook"):
                break
            await asyncio.sleep(0.1)
        [call] = api.calls_of("setWebhook")
        assert call.params["url"] == "https://bot.example/tg-hook"
        assert call.params["secret_token"] == "s3cret-value"
        async with aiohttp.ClientSession() as http:
            async with http.post(f"http://127.0.0.1:{port}/tg-hook", json=update) as refused:
                assert refused.status == 403
            headers = {"X-Telegram-Bot-Api-Secret-Token": "s3cret-value"}
            async with http.post(f"http://127.0.0.1:{port}/tg-hook", json=update, headers=headers) as accepted:
                assert accepted.status == 200
        [reply] = await api.wait_for_messages(1, chat_id=42, timeout=15)
        assert "Latest 1" in reply.text
        process.send_signal(signal.SIGTERM)
        _, err = await asyncio.wait_for(process.communicate(), 30)
    finally:
        if process.returncode is None:
            process.kill()
        await api.stop()
    assert process.returncode == 0, err.decode()[-2000:]
    assert len(api.sent_to(42)) == 1  # the call without the secret was never handled
    assert "s3cret-value" not in err.decode()
