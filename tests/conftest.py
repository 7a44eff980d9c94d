"""Shared fixtures: a real SQLite file per test and the core on top of it."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bot.commands import Request
from bot.commands.all import COMMANDS
from bot.config import Settings, load_settings
from bot.core import Core
from bot.model import ChatRef, UserRef
from storage.sqlite import SQLiteRepository


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return load_settings(database_url=f"sqlite:///{tmp_path / 'test.db'}", admins="telegram:1,discord:1")


@pytest.fixture
async def repo(tmp_path: Path) -> AsyncIterator[SQLiteRepository]:
    repository = await SQLiteRepository.open(tmp_path / "test.db")
    yield repository
    await repository.close()


@pytest.fixture
def core(repo: SQLiteRepository, settings: Settings) -> Core:
    return Core(repo, settings, COMMANDS)


class AllowAll:
    """Chat access for a chat where the caller is admin and every named chat resolves."""

    def __init__(self, platform: str = "console") -> None:
        self.platform = platform

    async def is_chat_admin(self) -> bool:
        return True

    async def resolve_chat(self, ref: str, to_post: bool = True) -> ChatRef:
        return ChatRef(self.platform, ref.lstrip("@#"))


class DenyAll(AllowAll):
    async def is_chat_admin(self) -> bool:
        return False


def console_request(chat_id: str = "local", admin: bool = True, user: str = "someone",
                    platform: str = "console") -> Request:
    access = AllowAll(platform) if admin else DenyAll(platform)
    return Request(ChatRef(platform, chat_id), UserRef(platform, user), access)
