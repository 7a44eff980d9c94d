"""A fake Telegram Bot API server for end-to-end tests and benchmarks.

It speaks the HTTP API the way python-telegram-bot uses it: `POST {base}{token}/{method}` with
form fields whose values are JSON-encoded (plain strings stay raw), or a JSON body; answers are
`{"ok": true, "result": ...}` or `{"ok": false, "error_code", "description", "parameters"}` with
the descriptions the real server uses, so the client library raises its real exceptions
(RetryAfter, ChatMigrated, Forbidden, BadRequest).

What a test can script:
- chats (`add_chat`): private, group, supergroup (optionally a forum with topics) or channel,
  with an owner, admins and members, the bot's own status and post right, kicked (403) or
  migrated to a supergroup (400 with migrate_to_chat_id);
- flood caps (`Caps`, fixed when the fake is made) checked against an injectable clock: at most
  N messages in any window of a period, overall, per chat and per group or channel; a message
  over a cap is answered 429 with retry_after and counted in `too_many_requests`;
- one-off failures (`fail_next`), e.g. a 502 to exercise network retries;
- incoming updates (`inject_text`, `inject_migration`, `inject_bot_removed`, `inject`),
  handed out by getUpdates, which waits up to its timeout when there is nothing to hand out.

What a test can inspect: `sent` (every accepted message: chat, thread, HTML source and the text
after entity parsing, parse mode, options), `calls` (every request with its status code and
clock time), `commands` (the last setMyCommands), `too_many_requests`, `unknown_methods`.

Per-request work is O(1) in the number of chats and messages (dict look-ups, bounded deques),
plus the length of the text, so a benchmark can drive ten thousand chats through it.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import math
import re
import time
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from html.parser import HTMLParser
from typing import Any

from aiohttp import web

MESSAGE_LIMIT = 4096
COMMAND_NAME = re.compile(r"^[a-z0-9_]{1,32}$")
RAW_FIELDS = frozenset({"text", "parse_mode", "caption", "language_code", "secret_token", "url"})
HTML_TAGS = frozenset({"b", "strong", "i", "em", "u", "ins", "s", "strike", "del", "span", "tg-spoiler", "a",
                       "code", "pre", "blockquote", "tg-emoji"})
KICKED = {
    "private": "Forbidden: bot was blocked by the user",
    "group": "Forbidden: bot was kicked from the group chat",
    "supergroup": "Forbidden: bot was kicked from the supergroup chat",
    "channel": "Forbidden: bot was kicked from the channel chat",
}
ADMIN_RIGHTS = {
    "can_be_edited": False, "is_anonymous": False, "can_manage_chat": True, "can_delete_messages": True,
    "can_manage_video_chats": True, "can_restrict_members": True, "can_promote_members": False,
    "can_change_info": True, "can_invite_users": True, "can_post_stories": False, "can_edit_stories": False,
    "can_delete_stories": False,
}

Window = tuple[int, float]  # at most this many messages in any window of this many seconds


@dataclass(frozen=True)
class Caps:
    """Flood limits the fake enforces; None switches one off. Defaults are Telegram's."""

    overall: Window | None = (30, 1.0)
    per_chat: Window | None = (1, 1.0)
    per_group: Window | None = (20, 60.0)  # groups, supergroups and channels


NO_CAPS = Caps(None, None, None)


class ApiError(Exception):
    def __init__(self, code: int, description: str, parameters: dict[str, Any] | None = None) -> None:
        super().__init__(description)
        self.code = code
        self.description = description
        self.parameters = parameters


@dataclass
class FakeChat:
    id: int
    type: str  # private, group, supergroup, channel
    title: str = ""
    username: str | None = None
    is_forum: bool = False
    topics: set[int] = field(default_factory=set)
    owner: int | None = None
    admins: set[int] = field(default_factory=set)
    members: set[int] = field(default_factory=set)
    bot_status: str = "member"  # member or administrator (a channel needs administrator)
    bot_can_post: bool = True  # a channel admin's "Post Messages" right
    kicked: bool = False
    migrated_to: int | None = None

    @property
    def is_group(self) -> bool:
        return self.type != "private"


@dataclass(frozen=True)
class SentMessage:
    message_id: int
    chat_id: int
    thread_id: int | None
    text: str  # as sent: HTML source for parse_mode HTML
    plain: str  # after entity parsing: what the reader sees, what the 4096 limit counts
    parse_mode: str | None
    options: dict[str, Any]  # every other parameter: disable_notification, link_preview_options...
    at: float


@dataclass(frozen=True)
class Call:
    method: str
    params: dict[str, Any]
    status: int
    at: float
    parameters: dict[str, Any] | None = None  # of an error answer: retry_after, migrate_to_chat_id


class _Flood:
    """A sliding window: the times of the last `limit` accepted messages."""

    __slots__ = ("period", "limit", "times")

    def __init__(self, window: Window) -> None:
        self.limit, self.period = window
        self.times: deque[float] = deque(maxlen=self.limit)

    def wait(self, now: float) -> float:
        if len(self.times) < self.limit:
            return 0.0
        return max(0.0, self.times[0] + self.period - now)


class _Entities(HTMLParser):
    """Telegram's HTML parse mode, strictly enough to catch unescaped text: the visible text."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.open: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag not in HTML_TAGS:
            raise ApiError(400, f"Bad Request: can't parse entities: Unsupported start tag \"{tag}\"")
        self.open.append(tag)

    def handle_endtag(self, tag: str) -> None:
        if not self.open or self.open[-1] != tag:
            raise ApiError(400, f"Bad Request: can't parse entities: Unmatched end tag \"{tag}\"")
        self.open.pop()

    def handle_data(self, data: str) -> None:
        self.parts.append(data)


def visible_text(text: str, parse_mode: str | None) -> str:
    if (parse_mode or "").upper() != "HTML":
        return text
    parser = _Entities()
    parser.feed(text)
    parser.close()
    if parser.open:
        raise ApiError(400, f"Bad Request: can't parse entities: Can't find end tag corresponding to start tag "
                            f"\"{parser.open[-1]}\"")
    return "".join(parser.parts)


def utf16_length(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


def _decode(name: str, value: Any) -> Any:
    """Form values are JSON except plain strings, which arrive raw."""
    if not isinstance(value, str) or name in RAW_FIELDS:
        return value
    try:
        return json.loads(value)
    except ValueError:
        return value


class FakeBotAPI:
    def __init__(self, token: str, *, username: str = "newsdigest_bot", bot_id: int | None = None,
                 caps: Caps = Caps(), clock: Callable[[], float] = time.monotonic,
                 max_poll_wait: float = 10.0) -> None:
        self.token = token
        self.username = username
        self.bot_id = bot_id if bot_id is not None else int(token.partition(":")[0])
        self.caps = caps
        self.clock = clock
        self.max_poll_wait = max_poll_wait
        self.chats: dict[int, FakeChat] = {}
        self.users: dict[int, str] = {}
        self.sent: list[SentMessage] = []
        self._sent_by_chat: dict[int, list[SentMessage]] = {}
        self.calls: list[Call] = []
        self.commands: list[dict[str, str]] | None = None
        self.allowed_updates: list[str] | None = None
        self.too_many_requests = 0
        self.unknown_methods: list[str] = []
        self._usernames: dict[str, int] = {}
        self._updates: deque[dict[str, Any]] = deque()
        self._update_ids = itertools.count(1)
        self._message_ids = itertools.count(1)
        self._failures: dict[str, deque[ApiError | None]] = {}
        self._overall = _Flood(caps.overall) if caps.overall else None
        self._per_chat: dict[int, _Flood] = {}
        self._per_group: dict[int, _Flood] = {}
        self._new_update = asyncio.Event()
        self._new_message = asyncio.Event()
        self._closing = False
        self._runner: web.AppRunner | None = None
        self._port = 0
        self._methods: dict[str, Callable[[dict[str, Any]], Any]] = {
            "getme": self._get_me,
            "deletewebhook": lambda params: True,
            "setwebhook": lambda params: True,  # recorded in `calls`, like every request
            "getupdates": self._get_updates,  # async: awaited below
            "sendmessage": self._send_message,
            "setmycommands": self._set_my_commands,
            "getmycommands": lambda params: self.commands or [],
            "getchatmember": self._get_chat_member,
            "getchat": self._get_chat,
        }

    # lifecycle

    async def start(self) -> str:
        """Listen on a random local port; returns the base URL to give the client."""
        app = web.Application()
        app.router.add_route("*", "/bot{token}/{method}", self._handle)
        self._runner = web.AppRunner(app, access_log=None, shutdown_timeout=1.0)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        self._port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        return self.base_url

    async def stop(self) -> None:
        self._closing = True
        self._new_update.set()
        if self._runner is not None:
            await self._runner.cleanup()

    @property
    def base_url(self) -> str:
        """What TELEGRAM_API_BASE_URL would be: the client appends the token and the method."""
        return f"http://127.0.0.1:{self._port}/bot"

    # scripting chats and users

    def add_user(self, user_id: int, name: str) -> None:
        self.users[user_id] = name

    def add_chat(self, chat_id: int, type: str = "private", *, title: str = "", username: str | None = None,
                 forum: bool = False, topics: Iterable[int] = (), owner: int | None = None,
                 admins: Iterable[int] = (), members: Iterable[int] = (), bot_status: str | None = None,
                 bot_can_post: bool = True) -> FakeChat:
        if type not in KICKED:
            raise ValueError(f"unknown chat type {type!r}")
        chat = FakeChat(chat_id, type, title or f"{type} {chat_id}", username, forum, set(topics), owner,
                        set(admins), set(members),
                        bot_status or ("administrator" if type == "channel" else "member"), bot_can_post)
        self.chats[chat_id] = chat
        if username:
            self._usernames[username.lower()] = chat_id
        return chat

    def fail_next(self, method: str, code: int, description: str, times: int = 1,
                  parameters: dict[str, Any] | None = None, after: int = 0) -> None:
        """After `after` more calls of `method`, the next `times` fail this way before any other check."""
        queue = self._failures.setdefault(method.lower(), deque())
        queue.extend([None] * after)
        queue.extend(ApiError(code, description, parameters) for _ in range(times))

    # injecting updates

    def inject(self, update: dict[str, Any]) -> int:
        update_id = next(self._update_ids)
        self._updates.append({"update_id": update_id, **update})
        self._new_update.set()
        return update_id

    def inject_text(self, chat_id: int, text: str, *, user_id: int | None = None, thread_id: int | None = None,
                    sender_chat_id: int | None = None) -> int:
        """A message typed in a chat; in a channel it arrives as a channel_post with no sender."""
        chat = self.chats[chat_id]
        message = self._message(chat)
        message["text"] = text
        if text.startswith("/"):
            command = text.split()[0]
            message["entities"] = [{"type": "bot_command", "offset": 0, "length": utf16_length(command)}]
        if chat.type == "channel":
            message["sender_chat"] = self._chat_json(chat)
            return self.inject({"channel_post": message})
        sender = user_id if user_id is not None else (chat_id if chat.type == "private" else None)
        if sender is None:
            raise ValueError("a message in a group needs a user_id")
        message["from"] = self._user_json(sender)
        if sender_chat_id is not None:
            message["sender_chat"] = self._chat_json(self.chats[sender_chat_id])
        if thread_id is not None:
            message["message_thread_id"] = thread_id
            message["is_topic_message"] = True
        return self.inject({"message": message})

    def inject_migration(self, chat_id: int, new_chat_id: int, user_id: int) -> int:
        """The service message a group gets when it becomes a supergroup; the fake follows it."""
        chat = self.chats[chat_id]
        chat.migrated_to = new_chat_id
        message = self._message(chat)
        message["from"] = self._user_json(user_id)
        message["migrate_to_chat_id"] = new_chat_id
        return self.inject({"message": message})

    def inject_bot_removed(self, chat_id: int, by_user: int, status: str = "kicked") -> int:
        """A my_chat_member update: the bot was kicked (or blocked, in a private chat) or left."""
        chat = self.chats[chat_id]
        chat.kicked = True
        old = self._member_json(chat, self.bot_id)
        new = {"status": status, "user": self._user_json(self.bot_id)}
        if status == "kicked":
            new["until_date"] = 0
        change = {"chat": self._chat_json(chat), "from": self._user_json(by_user), "date": int(time.time()),
                  "old_chat_member": old, "new_chat_member": new}
        return self.inject({"my_chat_member": change})

    # waiting for the bot

    async def wait_for_messages(self, count: int, chat_id: int | None = None,
                                timeout: float = 5.0) -> list[SentMessage]:
        """Until at least `count` messages (to `chat_id`, if given) were accepted; returns them."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            found = self.sent if chat_id is None else self._sent_by_chat.get(chat_id, [])
            if len(found) >= count:
                return list(found)
            remaining = deadline - loop.time()
            if remaining <= 0:
                raise AssertionError(f"expected {count} message(s) to {chat_id}, got {len(found)}: "
                                     f"{[m.plain[:80] for m in found]}")
            self._new_message.clear()
            try:
                await asyncio.wait_for(self._new_message.wait(), remaining)
            except TimeoutError:
                pass

    def sent_to(self, chat_id: int) -> list[SentMessage]:
        return list(self._sent_by_chat.get(chat_id, []))

    def calls_of(self, method: str, **params: Any) -> list[Call]:
        return [c for c in self.calls
                if c.method == method.lower() and all(c.params.get(k) == v for k, v in params.items())]

    # HTTP

    async def _handle(self, request: web.Request) -> web.Response:
        method = request.match_info["method"].lower()
        try:
            params = await self._params(request)
        except ConnectionResetError:  # the client gave up on the request (e.g. polling stopped)
            return web.Response(status=499)
        try:
            if request.match_info["token"] != self.token:
                raise ApiError(401, "Unauthorized")
            failures = self._failures.get(method)
            failure = failures.popleft() if failures else None
            if failure is not None:
                raise failure
            handler = self._methods.get(method)
            if handler is None:
                self.unknown_methods.append(method)
                raise ApiError(404, "Not Found")
            result = handler(params)
            if asyncio.iscoroutine(result):
                result = await result
        except ApiError as exc:
            self.calls.append(Call(method, params, exc.code, self.clock(), exc.parameters))
            body: dict[str, Any] = {"ok": False, "error_code": exc.code, "description": exc.description}
            if exc.parameters:
                body["parameters"] = exc.parameters
            return web.json_response(body, status=exc.code)
        self.calls.append(Call(method, params, 200, self.clock()))
        return web.json_response({"ok": True, "result": result})

    @staticmethod
    async def _params(request: web.Request) -> dict[str, Any]:
        params = {k: _decode(k, v) for k, v in request.query.items()}
        if request.content_type == "application/json":
            params.update(await request.json() or {})
        elif request.content_type in ("application/x-www-form-urlencoded", "multipart/form-data"):
            form = await request.post()
            params.update({k: _decode(k, v) for k, v in form.items()})
        return params

    # methods

    def _get_me(self, params: dict[str, Any]) -> dict[str, Any]:
        return {"id": self.bot_id, "is_bot": True, "first_name": "Newsdigest", "username": self.username,
                "can_join_groups": True, "can_read_all_group_messages": False, "supports_inline_queries": False}

    async def _get_updates(self, params: dict[str, Any]) -> list[dict[str, Any]]:
        offset = int(params.get("offset") or 0)
        limit = int(params.get("limit") or 100)
        timeout = min(float(params.get("timeout") or 0), self.max_poll_wait)
        if "allowed_updates" in params:
            self.allowed_updates = params["allowed_updates"]
        while self._updates and self._updates[0]["update_id"] < offset:
            self._updates.popleft()  # confirmed by the offset
        if not self._updates and timeout > 0 and not self._closing:
            self._new_update.clear()
            try:
                await asyncio.wait_for(self._new_update.wait(), timeout)
            except TimeoutError:
                pass
        if self._closing:
            return []
        allowed = self.allowed_updates
        return [u for u in itertools.islice(self._updates, limit)
                if not allowed or any(kind in u for kind in allowed)]

    def _send_message(self, params: dict[str, Any]) -> dict[str, Any]:
        chat = self._reachable_chat(params.get("chat_id"))
        if chat.type == "channel" and not (chat.bot_status == "administrator" and chat.bot_can_post):
            raise ApiError(400, "Bad Request: need administrator rights in the channel chat")
        thread_id = params.get("message_thread_id")
        if thread_id is not None and not (chat.is_forum and int(thread_id) in chat.topics):
            raise ApiError(400, "Bad Request: message thread not found")
        text = params.get("text")
        if not text:
            raise ApiError(400, "Bad Request: message text is empty")
        parse_mode = params.get("parse_mode")
        plain = visible_text(str(text), parse_mode)
        if utf16_length(plain) > MESSAGE_LIMIT:
            raise ApiError(400, "Bad Request: message is too long")
        now = self.clock()
        self._check_flood(chat, now)
        message_id = next(self._message_ids)
        options = {k: v for k, v in params.items() if k not in ("chat_id", "text", "parse_mode", "message_thread_id")}
        sent = SentMessage(message_id, chat.id, int(thread_id) if thread_id is not None else None, str(text), plain,
                           parse_mode, options, now)
        self.sent.append(sent)
        self._sent_by_chat.setdefault(chat.id, []).append(sent)
        self._new_message.set()
        message = self._message(chat, message_id)
        message.update(text=plain, **{"from": self._get_me({})})
        if thread_id is not None:
            message.update(message_thread_id=int(thread_id), is_topic_message=True)
        return message

    def _set_my_commands(self, params: dict[str, Any]) -> bool:
        commands = params.get("commands")
        if not isinstance(commands, list) or len(commands) > 100:
            raise ApiError(400, "Bad Request: too many commands" if isinstance(commands, list)
                           else "Bad Request: commands must be an array")
        for command in commands:
            if not COMMAND_NAME.match(str(command.get("command", ""))):
                raise ApiError(400, "Bad Request: BOT_COMMAND_INVALID")
            if not 1 <= len(str(command.get("description", ""))) <= 256:
                raise ApiError(400, "Bad Request: command description is invalid")
        self.commands = commands
        return True

    def _get_chat_member(self, params: dict[str, Any]) -> dict[str, Any]:
        chat = self._known_chat(params.get("chat_id"))
        return self._member_json(chat, int(params["user_id"]))

    def _get_chat(self, params: dict[str, Any]) -> dict[str, Any]:
        chat = self._known_chat(params.get("chat_id"))
        return {**self._chat_json(chat), "accent_color_id": 0, "max_reaction_count": 11,
                "accepted_gift_types": {"unlimited_gifts": False, "limited_gifts": False, "unique_gifts": False,
                                        "premium_subscription": False, "gifts_from_channels": False}}

    # rules

    def _known_chat(self, ref: Any) -> FakeChat:
        if isinstance(ref, str) and ref.startswith("@"):
            chat_id = self._usernames.get(ref[1:].lower())
        else:
            try:
                chat_id = int(ref)
            except (TypeError, ValueError):
                chat_id = None
        chat = self.chats.get(chat_id) if chat_id is not None else None
        if chat is None:
            raise ApiError(400, "Bad Request: chat not found")
        return chat

    def _reachable_chat(self, ref: Any) -> FakeChat:
        chat = self._known_chat(ref)
        if chat.migrated_to is not None:
            raise ApiError(400, "Bad Request: group chat was upgraded to a supergroup chat",
                           {"migrate_to_chat_id": chat.migrated_to})
        if chat.kicked:
            raise ApiError(403, KICKED[chat.type])
        return chat

    def _check_flood(self, chat: FakeChat, now: float) -> None:
        windows = []
        if self._overall is not None:
            windows.append(self._overall)
        if self.caps.per_chat:
            windows.append(self._per_chat.setdefault(chat.id, _Flood(self.caps.per_chat)))
        if self.caps.per_group and chat.is_group:
            windows.append(self._per_group.setdefault(chat.id, _Flood(self.caps.per_group)))
        wait = max((w.wait(now) for w in windows), default=0.0)
        if wait > 0:
            self.too_many_requests += 1
            retry_after = max(1, math.ceil(wait))
            raise ApiError(429, f"Too Many Requests: retry after {retry_after}", {"retry_after": retry_after})
        for window in windows:
            window.times.append(now)

    # JSON shapes

    def _user_json(self, user_id: int) -> dict[str, Any]:
        if user_id == self.bot_id:
            return {"id": user_id, "is_bot": True, "first_name": "Newsdigest", "username": self.username}
        return {"id": user_id, "is_bot": False, "first_name": self.users.get(user_id, f"User {user_id}")}

    @staticmethod
    def _chat_json(chat: FakeChat) -> dict[str, Any]:
        data: dict[str, Any] = {"id": chat.id, "type": chat.type}
        if chat.type == "private":
            data["first_name"] = chat.title
        else:
            data["title"] = chat.title
        if chat.username:
            data["username"] = chat.username
        if chat.is_forum:
            data["is_forum"] = True
        return data

    def _message(self, chat: FakeChat, message_id: int | None = None) -> dict[str, Any]:
        return {"message_id": message_id or next(self._message_ids), "date": int(time.time()),
                "chat": self._chat_json(chat)}

    def _member_json(self, chat: FakeChat, user_id: int) -> dict[str, Any]:
        user = self._user_json(user_id)
        if user_id == self.bot_id:
            if chat.kicked:
                return {"status": "kicked", "user": user, "until_date": 0}
            if chat.bot_status == "administrator":
                rights = dict(ADMIN_RIGHTS)
                if chat.type == "channel":
                    rights.update(can_post_messages=chat.bot_can_post, can_edit_messages=False)
                return {"status": "administrator", "user": user, **rights}
            return {"status": chat.bot_status, "user": user}
        if user_id == chat.owner:
            return {"status": "creator", "user": user, "is_anonymous": False}
        if user_id in chat.admins:
            return {"status": "administrator", "user": user, **ADMIN_RIGHTS}
        if user_id in chat.members or (chat.type == "private" and user_id == chat.id):
            return {"status": "member", "user": user}
        return {"status": "left", "user": user}
