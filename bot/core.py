"""The platform-neutral bot: parses and authorises commands, runs them, never lets one crash it."""

from __future__ import annotations

import logging
import shlex
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import UTC, datetime

from bot.commands import (Args, CommandSpec, Context, NotFound, Param, Permission, Refused, Request,
                          UsageError, sentence, whole_number)
from bot.config import Settings
from bot.ingest.poller import FeedPoller
from bot.model import ChatRef, UserRef
from bot.reply import Reply
from storage.repository import Repository

log = logging.getLogger(__name__)

Clock = Callable[[], datetime]


def utc_now() -> datetime:
    return datetime.now(UTC)


def parse_command_line(text: str, bot_username: str | None = None) -> tuple[str, list[str]] | None:
    """Split '/cmd@bot args' into ('cmd', [args]); None when it is not a command for this bot."""
    text = text.strip()
    if not text.startswith("/") or len(text) < 2:
        return None
    head, *after = text[1:].split(maxsplit=1)  # any whitespace ends the command, as on Telegram
    rest = after[0] if after else ""
    name, _, addressee = head.partition("@")
    if addressee and bot_username and addressee.lower() != bot_username.lower():
        return None
    try:
        words = shlex.split(rest)
    except ValueError:  # an unbalanced quote: take the words as typed
        words = rest.split()
    return name.lower(), words


def bind_args(spec: CommandSpec, words: Sequence[str]) -> dict[str, str]:
    """Give each parameter its words: leading ones from the front, a text one the middle."""
    params = list(spec.params)
    words = list(words)
    bound: dict[str, str] = {}
    text_at = next((i for i, p in enumerate(params) if p.kind == "text"), None)
    head = params if text_at is None else params[:text_at]
    tail = [] if text_at is None else params[text_at + 1:]
    for param in head:
        if words:
            bound[param.name] = words.pop(0)
    for param in reversed(tail):
        if words and len(words) > 1:
            bound[param.name] = _take_choice_from_end(param, words)
    if text_at is not None and words:
        bound[params[text_at].name] = " ".join(words)
        words = []
    if words:
        raise UsageError("too many arguments")
    missing = [p.shown for p in params if p.required and p.name not in bound]
    if missing:
        raise UsageError("missing " + ", ".join(missing))
    for param in params:
        value = bound.get(param.name)
        if value is not None and param.kind == "int" and whole_number(value.removeprefix("#")) is None:
            raise UsageError(f"{param.shown} must be a number")
    return bound


def _take_choice_from_end(param: Param, words: list[str]) -> str:
    """A trailing choice may be two words ('lean left'); prefer the longer match."""
    if param.choices and len(words) > 2:
        pair = " ".join(words[-2:]).lower()
        if pair in param.choices:
            del words[-2:]
            return pair
    return words.pop()


class Core:
    def __init__(self, repo: Repository, settings: Settings, commands: Iterable[CommandSpec],
                 clock: Clock = utc_now, poller: FeedPoller | None = None) -> None:
        self.repo = repo
        self.settings = settings
        self.clock = clock
        self.poller = poller  # None where the bot runs without network access to feeds
        self.closed: str | None = None  # set when the bot shuts down: commands get this answer instead
        self.commands = tuple(commands)
        self._by_name = {name: spec for spec in self.commands for name in (spec.name, *spec.aliases)}

    def is_operator(self, user: UserRef) -> bool:
        """Operators are listed in NEWSDIGEST_ADMINS; whoever runs the local console is one."""
        return user.platform == "console" or user.key in self.settings.admins

    def commands_for(self, request: Request) -> list[CommandSpec]:
        operator = self.is_operator(request.user)
        return [spec for spec in self.commands if operator or spec.permission is not Permission.OPERATOR]

    async def handle_text(self, request: Request, text: str, bot_username: str | None = None) -> Reply | None:
        parsed = parse_command_line(text, bot_username)
        if parsed is None:
            return None
        name, words = parsed
        spec = self._by_name.get(name)
        if spec is None:
            return Reply.notice(f"Unknown command /{name[:32]}. Send /help for the list.", ephemeral=True)
        try:
            args = bind_args(spec, words)
        except UsageError as exc:
            return Reply.notice(f"{sentence(str(exc))}. Usage: {spec.usage}", ephemeral=True)
        return await self.run(spec, request, args)

    async def handle(self, request: Request, name: str, args: Mapping[str, str]) -> Reply:
        """For platforms that deliver arguments already named (Discord's slash options)."""
        spec = self._by_name.get(name)
        if spec is None:
            return Reply.notice(f"Unknown command /{name[:32]}. Send /help for the list.", ephemeral=True)
        return await self.run(spec, request, {k: v for k, v in args.items() if v not in (None, "")})

    async def run(self, spec: CommandSpec, request: Request, args: Args) -> Reply:
        if self.closed:
            return Reply.notice(self.closed, ephemeral=True)
        try:
            await self._authorise(spec, request)
            return await spec.handler(Context(self, request), args)
        except UsageError as exc:
            return Reply.notice(f"{sentence(str(exc))}. Usage: {spec.usage}", ephemeral=True)
        except (Refused, NotFound) as exc:
            return Reply.notice(str(exc), ephemeral=True)
        except Exception:
            log.exception("/%s failed in %s for %s", spec.name, request.chat.scope, request.user.key)
            return Reply.notice(f"Sorry, /{spec.name} failed on our side. It has been logged; "
                                "please try again later.", ephemeral=True)

    async def chat_moved(self, old: ChatRef, new_chat_id: str) -> None:
        """The platform moved a chat (Telegram group -> supergroup): follow it."""
        log.info("chat %s moved to %s", old.scope, new_chat_id)
        await self.repo.move_chat(old, new_chat_id)

    async def chat_gone(self, chat: ChatRef, reason: str) -> None:
        """The bot can no longer post there (kicked, blocked, no permission): stop trying."""
        disabled = await self.repo.disable_chat(chat, reason)
        log.warning("chat %s unreachable (%s): %d subscription(s) disabled", chat.scope, reason, disabled)

    async def _authorise(self, spec: CommandSpec, request: Request) -> None:
        if spec.permission is Permission.EVERYONE or self.is_operator(request.user):
            return
        if spec.permission is Permission.OPERATOR:
            raise Refused(f"Sorry, only the bot's operators can use /{spec.name}.")
        if not await request.access.is_chat_admin():
            raise Refused(f"Sorry, only this chat's admins can use /{spec.name}.")

