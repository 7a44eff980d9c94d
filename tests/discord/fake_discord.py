"""A fake Discord on 127.0.0.1: enough REST and gateway for discord.py 2.7, recording what the bot sends.

One guild ("Test Guild") with text channels, a thread, a forum with a post, roles and members.
Tests inject slash commands and autocomplete over the gateway (`invoke`, `autocomplete`), script
failures for a route (`fail`), and read what the bot sent: `requests` (every call, in order),
`posted` (channel messages by channel id), `commands` (synced definitions by scope) and one
`InteractionLog` per interaction. Per-request work is O(1), so benchmarks can reuse it.

Wire details discord.py depends on: REST responses carry `Content-Type: application/json`
exactly, 429s carry a `Via` header (otherwise discord.py takes them for a Cloudflare ban), and
interaction payloads carry `attachment_size_limit`.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import socket
import time
from collections import defaultdict, deque
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from aiohttp import WSMsgType, web

API = "/api/v10"

# permission bits used by the fake world
ADMINISTRATOR = 1 << 3
MANAGE_CHANNELS = 1 << 4
MANAGE_GUILD = 1 << 5
VIEW_CHANNEL = 1 << 10
SEND_MESSAGES = 1 << 11
EMBED_LINKS = 1 << 14
READ_HISTORY = 1 << 16
USE_COMMANDS = 1 << 31
SEND_IN_THREADS = 1 << 38
ALL_PERMISSIONS = (1 << 51) - 1

APP_ID = 900000000000000001  # the application and the bot user share this id
GUILD_ID = 100000000000000001
BOT_ROLE, MOD_ROLE, CHANNEL_MOD_ROLE, ADMIN_ROLE = (100000000000000010 + i for i in range(4))
GENERAL, NEWS, LOCKED, FORUM, THREAD, FORUM_POST, DM = (200000000000000001 + i for i in range(7))
OPERATOR, PLAIN, MOD, CHANNEL_MOD, ADMIN = 1, 300000000000000001, 300000000000000002, 300000000000000003, 300000000000000004

TEXT, DM_TYPE, PUBLIC_THREAD, FORUM_TYPE = 0, 1, 11, 15
EPHEMERAL = 1 << 6

RATE_LIMITED = {"message": "You are being rate limited.", "retry_after": 0.2, "global": False}
MISSING_PERMISSIONS = {"message": "Missing Permissions", "code": 50013}
MISSING_ACCESS = {"message": "Missing Access", "code": 50001}
UNKNOWN_CHANNEL = {"message": "Unknown Channel", "code": 10003}
SERVER_ERROR = {"message": "503: Service Unavailable", "code": 0}

NOW = datetime(2026, 11, 20, 9, 0, tzinfo=UTC).isoformat()


def _json(data: Any, status: int = 200, headers: dict[str, str] | None = None) -> web.Response:
    """A JSON response the way Discord sends it: no charset on the content type."""
    return web.Response(status=status, body=json.dumps(data).encode(),
                        headers={"Content-Type": "application/json", **(headers or {})})


def _user(user_id: int, name: str, bot: bool = False) -> dict[str, Any]:
    return {"id": str(user_id), "username": name, "global_name": name, "discriminator": "0", "avatar": None,
            "bot": bot, "flags": 0, "public_flags": 0}


def _role(role_id: int, name: str, permissions: int, position: int) -> dict[str, Any]:
    return {"id": str(role_id), "name": name, "color": 0, "hoist": False, "position": position,
            "permissions": str(permissions), "managed": False, "mentionable": False, "flags": 0}


def _channel(channel_id: int, name: str, kind: int = TEXT, parent: int | None = None,
             overwrites: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    data: dict[str, Any] = {"id": str(channel_id), "type": kind, "guild_id": str(GUILD_ID), "name": name,
                            "position": 0, "permission_overwrites": overwrites or [], "nsfw": False,
                            "parent_id": str(parent) if parent else None, "rate_limit_per_user": 0,
                            "last_message_id": None, "topic": None, "flags": 0}
    if kind == FORUM_TYPE:
        data.update(available_tags=[], default_reaction_emoji=None, default_sort_order=None,
                    default_forum_layout=0, default_thread_rate_limit_per_user=0)
    if kind == PUBLIC_THREAD:
        data.update(owner_id=str(PLAIN), message_count=0, member_count=1, total_message_sent=0,
                    thread_metadata={"archived": False, "auto_archive_duration": 1440,
                                     "archive_timestamp": NOW, "locked": False})
    return data


@dataclass
class Recorded:
    """One request the bot made."""

    method: str
    path: str  # without the /api/v10 prefix or query
    body: Any
    status: int
    at: float  # time.monotonic()


@dataclass
class Shown:
    """A message the user sees as the answer to an interaction."""

    body: dict[str, Any]
    ephemeral: bool

    @property
    def content(self) -> str:
        return self.body.get("content") or ""

    @property
    def embeds(self) -> list[dict[str, Any]]:
        return self.body.get("embeds") or []


@dataclass
class InteractionLog:
    """What the bot did with one injected interaction, in order."""

    id: int
    token: str
    injected_at: float
    events: list[tuple[str, dict[str, Any] | None, float]] = field(default_factory=list)

    @property
    def answered_after(self) -> float | None:
        """Seconds from injection to the interaction callback (Discord allows 3)."""
        return next((at - self.injected_at for kind, _, at in self.events if kind == "callback"), None)

    @property
    def callback_types(self) -> list[int]:
        return [body["type"] for kind, body, _ in self.events if kind == "callback" and body]

    @property
    def choices(self) -> list[dict[str, Any]] | None:
        """The autocomplete suggestions, once answered."""
        for kind, body, _ in self.events:
            if kind == "callback" and body and body["type"] == 8:
                return body["data"]["choices"]
        return None

    def shown(self) -> list[Shown]:
        """The messages as Discord would show them, with its deferral rules.

        A deferred response is a placeholder whose visibility the defer fixed; an edit of
        @original or the first follow-up replaces it (keeping that visibility); deleting it
        removes it; later follow-ups are messages of their own.
        """
        shown: list[Shown] = []
        placeholder: Shown | None = None
        for kind, body, _ in self.events:
            body = body or {}
            flags = (body.get("data") or body).get("flags") or 0
            if kind == "callback" and body.get("type") == 4:
                shown.append(Shown(body["data"], bool(flags & EPHEMERAL)))
            elif kind == "callback" and body.get("type") == 5:
                placeholder = Shown({"content": None, "loading": True}, bool(flags & EPHEMERAL))
                shown.append(placeholder)
            elif kind in ("edit", "followup") and placeholder is not None and placeholder.body.get("loading"):
                placeholder.body = body
            elif kind == "delete" and placeholder is not None:
                shown.remove(placeholder)
                placeholder = None
            elif kind == "followup":
                shown.append(Shown(body, bool(flags & EPHEMERAL)))
        return shown


class FakeDiscord:
    """Start with `await fake.start()` (or `async with`); point the bot at `fake.base_url`."""

    def __init__(self, *, global_limit: int | None = None) -> None:
        """global_limit: answer a global 429 when channel requests exceed this many per second."""
        self.global_limit = global_limit
        self.requests: list[Recorded] = []
        self.posted: dict[int, list[dict[str, Any]]] = defaultdict(list)
        self.commands: dict[int | None, list[dict[str, Any]]] = {}  # by guild id; None = global
        self.interactions: dict[int, InteractionLog] = {}
        self.identify: dict[str, Any] | None = None
        self.unknown_routes: list[str] = []
        self.changed = asyncio.Condition()
        self._failures: dict[tuple[str, str], deque[tuple[int, dict[str, Any], dict[str, str]] | None]] = {}
        self._by_token: dict[str, InteractionLog] = {}
        self._ids = itertools.count(500000000000000001)
        self._posts_to_delete = 0
        self._seq = itertools.count(1)
        self._window = (0, 0)  # (second, requests in it) for the global limit
        self._ws: web.WebSocketResponse | None = None
        self._runner: web.AppRunner | None = None
        self.port = 0
        self._build_world()

    # the world

    def _build_world(self) -> None:
        everyone = VIEW_CHANNEL | SEND_MESSAGES | READ_HISTORY | USE_COMMANDS | SEND_IN_THREADS
        self.roles = {
            GUILD_ID: _role(GUILD_ID, "@everyone", everyone, 0),
            BOT_ROLE: _role(BOT_ROLE, "newsdigest", VIEW_CHANNEL | SEND_MESSAGES | EMBED_LINKS | SEND_IN_THREADS, 1),
            MOD_ROLE: _role(MOD_ROLE, "moderator", MANAGE_GUILD, 2),
            CHANNEL_MOD_ROLE: _role(CHANNEL_MOD_ROLE, "channel keeper", 0, 3),
            ADMIN_ROLE: _role(ADMIN_ROLE, "admin", ADMINISTRATOR, 4),
        }
        self.users = {APP_ID: _user(APP_ID, "newsdigest", bot=True), OPERATOR: _user(OPERATOR, "operator"),
                      PLAIN: _user(PLAIN, "plain"), MOD: _user(MOD, "mod"),
                      CHANNEL_MOD: _user(CHANNEL_MOD, "keeper"), ADMIN: _user(ADMIN, "admin")}
        self.member_roles = {APP_ID: [BOT_ROLE], OPERATOR: [], PLAIN: [], MOD: [MOD_ROLE],
                             CHANNEL_MOD: [CHANNEL_MOD_ROLE], ADMIN: [ADMIN_ROLE]}
        keeper = {"id": str(CHANNEL_MOD_ROLE), "type": 0, "allow": str(MANAGE_CHANNELS), "deny": "0"}
        no_bot = {"id": str(BOT_ROLE), "type": 0, "allow": "0", "deny": str(SEND_MESSAGES)}
        self.channels = {
            GENERAL: _channel(GENERAL, "general"),
            NEWS: _channel(NEWS, "news", overwrites=[keeper]),
            LOCKED: _channel(LOCKED, "locked", overwrites=[keeper, no_bot]),
            FORUM: _channel(FORUM, "forum", FORUM_TYPE),
            THREAD: _channel(THREAD, "a thread", PUBLIC_THREAD, parent=GENERAL),
            FORUM_POST: _channel(FORUM_POST, "a forum post", PUBLIC_THREAD, parent=FORUM),
        }

    def permissions(self, user_id: int, channel_id: int) -> int:
        """Discord's computation: roles, then administrator, then the channel's overwrites."""
        roles = self.member_roles.get(user_id, [])
        base = int(self.roles[GUILD_ID]["permissions"])
        for role in roles:
            base |= int(self.roles[role]["permissions"])
        if base & ADMINISTRATOR:
            return ALL_PERMISSIONS
        channel = self.channels[channel_id]
        if channel["type"] == PUBLIC_THREAD:
            channel = self.channels[int(channel["parent_id"])]
        overwrites = {int(o["id"]): o for o in channel["permission_overwrites"]}
        for target in (GUILD_ID, *roles, user_id):
            if target in overwrites:
                base = (base & ~int(overwrites[target]["deny"])) | int(overwrites[target]["allow"])
        return base

    def _member(self, user_id: int, with_permissions: int | None = None) -> dict[str, Any]:
        member = {"user": self.users[user_id], "roles": [str(r) for r in self.member_roles[user_id]],
                  "joined_at": NOW, "deaf": False, "mute": False, "flags": 0, "nick": None, "avatar": None,
                  "pending": False}
        if with_permissions is not None:
            member["permissions"] = str(with_permissions)
        return member

    def _guild(self) -> dict[str, Any]:
        listed = [{k: v for k, v in c.items() if k != "guild_id"} for c in self.channels.values()
                  if c["type"] != PUBLIC_THREAD]
        threads = [c for c in self.channels.values() if c["type"] == PUBLIC_THREAD]
        return {"id": str(GUILD_ID), "name": "Test Guild", "icon": None, "owner_id": str(ADMIN),
                "roles": list(self.roles.values()), "channels": listed, "threads": threads,
                "members": [self._member(user) for user in self.users], "member_count": len(self.users),
                "large": False,
                "unavailable": False, "joined_at": NOW, "features": [], "emojis": [], "stickers": [],
                "voice_states": [], "presences": [], "stage_instances": [], "guild_scheduled_events": [],
                "soundboard_sounds": [], "mfa_level": 0, "verification_level": 0, "explicit_content_filter": 0,
                "default_message_notifications": 0, "system_channel_flags": 0, "premium_tier": 0,
                "preferred_locale": "en-US", "nsfw_level": 0, "afk_timeout": 300}

    def _message(self, channel_id: int, body: dict[str, Any]) -> dict[str, Any]:
        return {"id": str(next(self._ids)), "channel_id": str(channel_id), "author": self.users[APP_ID],
                "content": body.get("content") or "", "embeds": body.get("embeds") or [], "attachments": [],
                "mentions": [], "mention_roles": [], "mention_everyone": False, "pinned": False, "tts": False,
                "timestamp": NOW, "edited_timestamp": None, "type": 0, "flags": body.get("flags") or 0,
                "components": []}

    # lifecycle

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}{API}"

    @property
    def gateway_url(self) -> str:
        return f"ws://127.0.0.1:{self.port}/gateway"

    async def start(self) -> FakeDiscord:
        app = web.Application()
        app.router.add_get("/gateway", self._gateway)
        app.router.add_route("*", API + "/{path:.*}", self._rest)
        self._runner = web.AppRunner(app, handle_signals=False)
        await self._runner.setup()
        sock = socket.socket()
        sock.bind(("127.0.0.1", 0))
        self.port = sock.getsockname()[1]
        await web.SockSite(self._runner, sock).start()
        return self

    async def stop(self) -> None:
        if self._ws is not None:
            await self._ws.close()
        if self._runner is not None:
            await self._runner.cleanup()

    async def __aenter__(self) -> FakeDiscord:
        return await self.start()

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    # scripting and waiting

    def fail(self, method: str, path: str, status: int, body: dict[str, Any], times: int = 1, after: int = 0,
             headers: dict[str, str] | None = None) -> None:
        """Answer `times` calls of `method path` (e.g. "/channels/1/messages") with an error.

        The first `after` calls are served normally; scripts for one route queue up in order.
        """
        if status == 429:
            headers = {"Retry-After": str(body["retry_after"]), "X-RateLimit-Limit": "5",
                       "X-RateLimit-Remaining": "0", "X-RateLimit-Reset-After": str(body["retry_after"]),
                       "X-RateLimit-Bucket": "fakebucket", "X-RateLimit-Scope": "user", "Via": "1.1 google",
                       **(headers or {})}
        queue = self._failures.setdefault((method, path), deque())
        queue.extend([None] * after)
        queue.extend([(status, body, headers or {})] * times)

    def delete_new_posts(self, times: int = 1) -> None:
        """A moderator deletes the next `times` forum posts the moment they open: the post's next
        message is answered 404 Unknown Channel."""
        self._posts_to_delete += times

    async def until(self, predicate: Callable[[], bool], timeout: float = 5.0) -> None:
        """Wait until `predicate()` holds after some request; TimeoutError otherwise."""
        async with self.changed:
            await asyncio.wait_for(self.changed.wait_for(predicate), timeout)

    async def _notify(self) -> None:
        async with self.changed:
            self.changed.notify_all()

    def calls(self, method: str, path: str) -> list[Recorded]:
        return [r for r in self.requests if r.method == method and r.path == path]

    # gateway

    async def _gateway(self, request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse()
        await ws.prepare(request)
        await ws.send_json({"op": 10, "d": {"heartbeat_interval": 41250}, "s": None, "t": None})
        async for message in ws:
            if message.type is not WSMsgType.TEXT:
                break
            op = json.loads(message.data)
            if op["op"] == 1:
                await ws.send_json({"op": 11, "d": None, "s": None, "t": None})
            elif op["op"] == 2:
                self.identify = op["d"]
                self._ws = ws
                await self._dispatch("READY", {
                    "v": 10, "user": self.users[APP_ID], "guilds": [{"id": str(GUILD_ID), "unavailable": True}],
                    "session_id": "fake-session", "resume_gateway_url": self.gateway_url,
                    "application": {"id": str(APP_ID), "flags": 0}, "private_channels": [], "relationships": [],
                })
                await self._dispatch("GUILD_CREATE", self._guild())
            elif op["op"] == 6:
                self._ws = ws
                await self._dispatch("RESUMED", {})
        return ws

    async def _dispatch(self, event: str, data: dict[str, Any]) -> None:
        assert self._ws is not None, "the bot has not identified yet"
        await self._ws.send_json({"op": 0, "t": event, "s": next(self._seq), "d": data})

    def _synced(self, name: str) -> dict[str, Any]:
        for scope in (None, *[k for k in self.commands if k is not None]):
            for command in self.commands.get(scope, []):
                if command["name"] == name:
                    return command
        raise KeyError(f"/{name} was never synced")

    def _options(self, command: dict[str, Any], values: dict[str, Any], focused: str | None,
                 resolved: dict[str, Any], user_id: int) -> list[dict[str, Any]]:
        types = {o["name"]: o["type"] for o in command.get("options", [])}
        options = []
        for name, value in values.items():
            kind = types[name]  # KeyError: the bot did not publish that option
            option: dict[str, Any] = {"name": name, "type": kind, "value": str(value) if kind == 7 else value}
            if name == focused:
                option["focused"] = True
            if kind == 7:
                entry = {**self.channels[int(value)], "permissions": str(self.permissions(user_id, int(value)))}
                resolved.setdefault("channels", {})[str(value)] = entry
            options.append(option)
        return options

    async def _inject(self, kind: int, name: str, values: dict[str, Any], focused: str | None, user: int,
                      channel: int, permissions: int | None) -> InteractionLog:
        command = self._synced(name)
        interaction_id = next(self._ids)
        resolved: dict[str, Any] = {}
        data: dict[str, Any] = {"id": command["id"], "name": name, "type": 1,
                                "options": self._options(command, values, focused, resolved, user)}
        if resolved:
            data["resolved"] = resolved
        payload: dict[str, Any] = {
            "id": str(interaction_id), "application_id": str(APP_ID), "type": kind,
            "token": f"token-{interaction_id}", "version": 1, "data": data, "locale": "en-US",
            "entitlements": [], "attachment_size_limit": 8 * 1024 * 1024,
        }
        if channel == DM:
            payload.update(channel_id=str(DM), channel={"id": str(DM), "type": DM_TYPE,
                                                         "recipients": [self.users[user]]},
                           user=self.users[user], context=1, app_permissions=str(ALL_PERMISSIONS),
                           authorizing_integration_owners={"0": str(APP_ID)})
        else:
            computed = self.permissions(user, channel) if permissions is None else permissions
            info = self.channels[channel]
            payload.update(guild_id=str(GUILD_ID), guild_locale="en-US", channel_id=str(channel),
                           channel={**info, "permissions": str(computed)}, member=self._member(user, computed),
                           context=0, app_permissions=str(self.permissions(APP_ID, channel)),
                           authorizing_integration_owners={"0": str(GUILD_ID)})
        log = InteractionLog(interaction_id, payload["token"], time.monotonic())
        self.interactions[interaction_id] = log
        self._by_token[log.token] = log
        await self._dispatch("INTERACTION_CREATE", payload)
        return log

    async def invoke(self, name: str, *, user: int = PLAIN, in_channel: int = GENERAL,
                     permissions: int | None = None, **options: Any) -> InteractionLog:
        """A slash command as `user` in `in_channel` (DM for a direct message); options by Discord name.

        `permissions` overrides the member permissions Discord would compute (e.g. ADMINISTRATOR
        alone). Channel options take a channel id.
        """
        return await self._inject(2, name, options, None, user, in_channel, permissions)

    async def autocomplete(self, name: str, focused: str, *, user: int = PLAIN, in_channel: int = GENERAL,
                           **options: Any) -> InteractionLog:
        """The user typing into option `focused` of /name (its value among `options`)."""
        return await self._inject(4, name, options, focused, user, in_channel, None)

    # REST

    async def _rest(self, request: web.Request) -> web.StreamResponse:
        path = "/" + request.match_info["path"]
        body = await self._body(request)
        response = self._scripted(request.method, path) or self._over_global_limit(path)
        if response is None:
            response = await self._route(request.method, path, body, request)
        self.requests.append(Recorded(request.method, path, body, response.status, time.monotonic()))
        await self._notify()
        return response

    @staticmethod
    async def _body(request: web.Request) -> Any:
        if not request.can_read_body:
            return None
        if request.content_type == "multipart/form-data":
            form = await request.post()
            return json.loads(str(form["payload_json"]))
        return await request.json()

    def _scripted(self, method: str, path: str) -> web.Response | None:
        queue = self._failures.get((method, path))
        if not queue:
            return None
        scripted = queue.popleft()
        return None if scripted is None else _json(scripted[1], scripted[0], scripted[2])

    def _over_global_limit(self, path: str) -> web.Response | None:
        if self.global_limit is None or not path.startswith("/channels/"):
            return None
        now = time.monotonic()
        second, count = self._window
        count = count + 1 if int(now) == second else 1
        self._window = (int(now), count)
        if count <= self.global_limit:
            return None
        retry = round(int(now) + 1 - now, 3)
        return _json({"message": "You are being rate limited.", "retry_after": retry, "global": True}, 429,
                     {"Retry-After": str(retry), "X-RateLimit-Global": "true", "X-RateLimit-Scope": "global",
                      "Via": "1.1 google"})

    async def _route(self, method: str, path: str, body: Any, request: web.Request) -> web.Response:
        parts = path.strip("/").split("/")
        match method, parts:
            case "GET", ["gateway", "bot"]:
                return _json({"url": self.gateway_url, "shards": 1, "session_start_limit": {
                    "total": 1000, "remaining": 999, "reset_after": 0, "max_concurrency": 1}})
            case "GET", ["users", "@me"]:
                return _json(self.users[APP_ID])
            case "GET", ["oauth2", "applications", "@me"]:
                return _json({"id": str(APP_ID), "name": "newsdigest", "icon": None, "description": "",
                              "bot_public": True, "bot_require_code_grant": False, "owner": self.users[ADMIN],
                              "verify_key": "0" * 64, "flags": 0, "team": None, "summary": "",
                              "interactions_endpoint_url": None})
            case "PUT", ["applications", _, "commands"]:
                return _json(self._store_commands(None, body))
            case "PUT", ["applications", _, "guilds", guild, "commands"]:
                return _json(self._store_commands(int(guild), body))
            case "GET", ["applications", _, "commands"]:
                return _json(self.commands.get(None, []))
            case "GET", ["applications", _, "guilds", guild, "commands"]:
                return _json(self.commands.get(int(guild), []))
            case "GET", ["channels", channel]:
                if int(channel) not in self.channels:
                    return _json(UNKNOWN_CHANNEL, 404)
                return _json(self.channels[int(channel)])
            case "POST", ["channels", channel, "messages"]:
                return self._post_message(int(channel), body)
            case "POST", ["channels", channel, "threads"]:
                return self._post_forum_thread(int(channel), body)
            case "POST", ["interactions", _, token, "callback"]:
                return self._interaction_event(token, "callback", body)
            case "POST", ["webhooks", _, token]:
                return self._interaction_event(token, "followup", body)
            case "PATCH", ["webhooks", _, token, "messages", "@original"]:
                return self._interaction_event(token, "edit", body)
            case "DELETE", ["webhooks", _, token, "messages", "@original"]:
                return self._interaction_event(token, "delete", None)
        self.unknown_routes.append(f"{method} {path}")
        return _json({"message": "404: Not Found", "code": 0}, 404)

    def _store_commands(self, guild: int | None, definitions: list[dict[str, Any]]) -> list[dict[str, Any]]:
        stored = [{**d, "id": str(next(self._ids)), "application_id": str(APP_ID), "version": "1",
                   **({"guild_id": str(guild)} if guild else {})} for d in definitions]
        self.commands[guild] = stored
        return stored

    def _bot_can_post(self, channel_id: int) -> bool:
        granted = self.permissions(APP_ID, channel_id)
        needed = SEND_IN_THREADS if self.channels[channel_id]["type"] == PUBLIC_THREAD else SEND_MESSAGES
        return granted & VIEW_CHANNEL and granted & needed == needed

    def _post_message(self, channel_id: int, body: dict[str, Any]) -> web.Response:
        if channel_id not in self.channels:
            return _json(UNKNOWN_CHANNEL, 404)
        if not self._bot_can_post(channel_id):
            return _json(MISSING_PERMISSIONS, 403)
        self.posted[channel_id].append(body)
        return _json(self._message(channel_id, body), headers={
            "X-RateLimit-Limit": "5", "X-RateLimit-Remaining": "4", "X-RateLimit-Reset-After": "1",
            "X-RateLimit-Bucket": f"channel-{channel_id}"})

    def _post_forum_thread(self, forum_id: int, body: dict[str, Any]) -> web.Response:
        if forum_id not in self.channels:
            return _json(UNKNOWN_CHANNEL, 404)
        if not self._bot_can_post(forum_id):
            return _json(MISSING_PERMISSIONS, 403)
        thread_id = next(self._ids)
        thread = _channel(thread_id, body["name"], PUBLIC_THREAD, parent=forum_id)
        self.channels[thread_id] = thread
        self.posted[thread_id].append(body["message"])
        if self._posts_to_delete:
            self._posts_to_delete -= 1
            del self.channels[thread_id]
        # as on Discord, a forum post's first message has the post's own id
        return _json({**thread, "message": {**self._message(thread_id, body["message"]), "id": str(thread_id)}})

    def _interaction_event(self, token: str, kind: str, body: dict[str, Any] | None) -> web.Response:
        log = self._by_token.get(token)
        if log is None:
            return _json({"message": "Unknown Webhook", "code": 10015}, 404)
        log.events.append((kind, body, time.monotonic()))
        if kind == "callback":
            return _json({"interaction": {"id": str(log.id), "type": 2,
                                          "response_message_loading": body is not None and body["type"] == 5,
                                          "response_message_ephemeral": False}})
        if kind == "delete":
            return web.Response(status=204)
        return _json(self._message(DM, body or {}))
