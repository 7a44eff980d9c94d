"""The tests' fake Telegram Bot API in its own process, so it does not share the bot's core.

Prints its base URL, serves until a line arrives on stdin, then prints its figures as JSON.

    python -m bench.fake_telegram --chats 10000 --overall 150
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests" / "telegram"))

from fake_bot_api import Caps, FakeBotAPI  # noqa: E402  (lives with the tests that own it)

TOKEN = "7000000009:AAFakeTokenForTheBenchmarks_012345678"


async def main(chats: int, overall: float | None) -> None:
    caps = Caps(overall=(int(overall), 1.0) if overall else None, per_chat=(1, 1.0), per_group=(20, 60.0))
    api = FakeBotAPI(TOKEN, caps=caps, max_poll_wait=1.0)
    print(await api.start(), flush=True)
    for chat_id in range(1, chats + 1):
        api.add_chat(chat_id, "private", title=f"reader {chat_id}")
    await asyncio.get_running_loop().run_in_executor(None, sys.stdin.readline)
    times = [m.at for m in api.sent]
    print(json.dumps({"sent": len(api.sent), "chats": len({m.chat_id for m in api.sent}),
                      "too_many_requests": api.too_many_requests,
                      "first": min(times, default=0.0), "last": max(times, default=0.0)}), flush=True)
    await api.stop()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--chats", type=int, default=10_000)
    parser.add_argument("--overall", type=float, default=30, help="messages/s overall; 0 lifts the cap")
    args = parser.parse_args()
    asyncio.run(main(args.chats, args.overall))
