"""Command definitions shared by every adapter: one spec per command, one handler each.

A spec names the command, describes its parameters (adapters publish them: Telegram's menu,
Discord's slash options) and says who may run it. Handlers receive parsed arguments and return a
Reply; they never see a platform object.
"""

from __future__ import annotations

import enum
import re
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal, Protocol

from bot.model import ChatRef, UserRef
from bot.reply import Reply

if TYPE_CHECKING:
    from bot.core import Core


class Permission(enum.Enum):
    EVERYONE = "everyone"
    CHAT_ADMIN = "chat admins"  # operators pass too
    OPERATOR = "operators"


class UsageError(ValueError):
    """Wrong or missing arguments: answered with the command's one-line usage."""


_WHOLE_NUMBER = re.compile(r"[0-9]{1,18}")  # ASCII only ("²" is a digit to str.isdigit); fits SQLite


def whole_number(text: str) -> int | None:
    """A number as a user types one, or None: not one, or too long for any id or count."""
    return int(text) if _WHOLE_NUMBER.fullmatch(text) else None


def counted(number: int, noun: str) -> str:
    """'1 source', '3 sources': every count a reply states."""
    return f"{number} {noun}{'' if number == 1 else 's'}"


def sentence(text: str) -> str:
    """`text` with a capital first letter and the rest as written: str.capitalize() would lower
    what the user typed ("Mars/Olympus") and the names quoted back ("Europe/Berlin")."""
    return text[:1].upper() + text[1:]


class NotFound(LookupError):
    """What the caller asked for does not exist here; the message says where to look."""


class Refused(PermissionError):
    """The caller may not do this; the message says why, politely."""


class ChatAccess(Protocol):
    """What only the platform can answer about who may do what; supplied by the adapter."""

    async def is_chat_admin(self) -> bool:
        """Whether the caller administers the chat the command came from."""
        ...

    async def resolve_chat(self, ref: str, to_post: bool = True) -> ChatRef:
        """Another chat named by the caller (`@channel`, `#channel`), checked for rights: the
        caller's admin rights, and unless `to_post` is False (to unsubscribe a chat the bot has
        lost its rights in), the bot's right to post there.

        Raises Refused saying what is missing.
        """
        ...


@dataclass(frozen=True)
class Request:
    chat: ChatRef
    user: UserRef
    access: ChatAccess


@dataclass(frozen=True)
class Param:
    name: str
    description: str
    required: bool = True
    kind: Literal["word", "int", "text", "chat"] = "word"  # text takes the rest; chat names another chat
    choices: tuple[str, ...] = ()
    autocomplete: Literal["sources", "timezones"] | None = None
    hint: str = ""  # how usage lines show it, when the name alone would not say

    @property
    def shown(self) -> str:
        return self.hint or self.name


Args = Mapping[str, str]

Handler = Callable[["Context", Args], Awaitable[Reply]]


@dataclass(frozen=True)
class CommandSpec:
    name: str
    summary: str  # at most 100 characters: Discord's description limit
    params: tuple[Param, ...]
    handler: Handler
    permission: Permission = Permission.EVERYONE
    aliases: tuple[str, ...] = ()

    @property
    def usage(self) -> str:
        shown = [f"<{p.shown}>" if p.required else f"[{p.shown}]" for p in self.params]
        return " ".join(["/" + self.name, *shown])


@dataclass(frozen=True)
class Context:
    """One command call: the core's services plus who asked and where."""

    core: Core
    request: Request

    @property
    def scope(self) -> str:
        return self.request.chat.scope
