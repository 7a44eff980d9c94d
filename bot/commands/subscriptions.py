"""Chat admins subscribe a chat (or a channel they run) to scheduled digests and tune them."""

from __future__ import annotations

import dataclasses
from zoneinfo import ZoneInfo

from bot import limits
from bot.commands import (Args, CommandSpec, Context, NotFound, Param, Permission, Refused, UsageError,
                          sentence, whole_number)
from bot.model import ChatRef, DigestOptions, Schedule, Subscription
from bot.reply import Heading, Notice, Reply
from bot.schedule import ScheduleError, describe, next_due, parse_subscribe_words

DEFAULT_TIME = "08:00"
SWITCHES = {"balanced": "balanced", "quiet": "quiet", "previews": "previews", "empty": "announce_empty"}
ON, OFF = ("on", "yes", "true", "1"), ("off", "no", "false", "0")


def _where(chat: ChatRef, here: ChatRef) -> str:
    return "this chat" if chat == here else chat.chat_id


def _due_line(subscription: Subscription) -> str:
    if not subscription.enabled:
        return f"Paused: {subscription.disabled_reason or 'disabled'}. /subscribe again to resume."
    if subscription.next_due_at is None:
        return "No digest scheduled."
    local = subscription.next_due_at.astimezone(ZoneInfo(subscription.schedule.timezone))
    return f"Next digest: {local:%a %d %b %Y %H:%M} {subscription.schedule.timezone}."


async def subscribe(ctx: Context, args: Args) -> Reply:
    try:
        parts = parse_subscribe_words(args.values())
    except ScheduleError as exc:
        raise UsageError(str(exc)) from None
    chat = await ctx.request.access.resolve_chat(parts.target) if parts.target else ctx.request.chat
    existing = await ctx.core.repo.get_subscription(chat)
    base = existing.schedule if existing else Schedule((DEFAULT_TIME,), frozenset(range(7)), ctx.core.settings.timezone)
    schedule = Schedule(parts.times or base.times, parts.days or base.days, parts.timezone or base.timezone)
    now = ctx.core.clock()
    next_at = next_due(schedule, now)
    if existing and existing.enabled and existing.schedule == schedule and existing.next_due_at \
            and existing.next_due_at <= now:
        next_at = existing.next_due_at  # the same schedule restated: the digest just due is still sent
    saved = await ctx.core.repo.save_subscription(chat, schedule, next_at)
    verb = "Updated" if existing else "Subscribed"
    return Reply((Notice(f"{verb}: {_where(chat, ctx.request.chat)} gets a digest at {describe(schedule)}."),
                  Notice(_due_line(saved))))


async def unsubscribe(ctx: Context, args: Args) -> Reply:
    target = args.get("chat")
    chat = await ctx.request.access.resolve_chat(target, to_post=False) if target else ctx.request.chat
    if not await ctx.core.repo.remove_subscription(chat):
        raise NotFound(f"{sentence(_where(chat, ctx.request.chat))} has no digest subscription.")
    return Reply.notice(f"Unsubscribed: no more digests for {_where(chat, ctx.request.chat)}.")


def _switch(value: str, name: str) -> bool:
    if value.lower() in ON:
        return True
    if value.lower() in OFF:
        return False
    raise UsageError(f"{name} takes on or off")


def _number(value: str, name: str, maximum: int) -> int:
    number = whole_number(value)
    if number is None or not 1 <= number <= maximum:
        raise UsageError(f"{name} takes a whole number from 1 to {maximum}")
    return number


def _words(value: str) -> tuple[str, ...]:
    if value.lower() in ("none", "-", "clear"):
        return ()
    return tuple(w.strip() for w in value.replace(";", ",").split(",") if w.strip())[:20]


async def _source_ids(ctx: Context, value: str) -> tuple[int, ...]:
    if value.lower() in ("all", "none", "-"):
        return ()
    ids = []
    for ref in _words(value):
        source = await ctx.core.repo.find_source(ref, ctx.scope)
        if source is None:
            raise NotFound(f"No source {ref!r} here. /sources lists them.")
        ids.append(source.id)
    return tuple(ids)


async def _changed(ctx: Context, options: DigestOptions, key: str, value: str) -> DigestOptions:
    match key:
        case "items":
            return dataclasses.replace(options, items=_number(value, key, limits.DIGEST_ITEMS_MAX))
        case "per_source" | "per-source" | "peroutlet" | "per_outlet":
            return dataclasses.replace(options, per_source=_number(value, "per_source", limits.DIGEST_ITEMS_MAX))
        case "include" | "exclude":
            return dataclasses.replace(options, **{key: _words(value)})
        case "sources":
            return dataclasses.replace(options, sources=await _source_ids(ctx, value))
        case _ if key in SWITCHES:
            return dataclasses.replace(options, **{SWITCHES[key]: _switch(value, key)})
    raise UsageError(f"unknown setting {key!r}; settings are items, per_source, sources, include, exclude, "
                     + ", ".join(SWITCHES))


def _settings_view(subscription: Subscription) -> Reply:
    o = subscription.options
    lines = [
        Heading("Digest settings"),
        Notice(f"Schedule: {describe(subscription.schedule)}"),
        Notice(_due_line(subscription)),
        Notice(f"items {o.items} · per_source {o.per_source} · sources "
               f"{','.join(map(str, o.sources)) or 'all'}"),
        Notice(f"include {', '.join(o.include) or '-'} · exclude {', '.join(o.exclude) or '-'}"),
        Notice(" · ".join(f"{name} {'on' if getattr(o, field) else 'off'}" for name, field in SWITCHES.items())),
        Notice("Change one with /settings <name> <value>, e.g. /settings items 10"),
    ]
    return Reply(tuple(lines), ephemeral=True)


async def settings(ctx: Context, args: Args) -> Reply:
    subscription = await ctx.core.repo.get_subscription(ctx.request.chat)
    if subscription is None:
        raise NotFound(f"This chat has no digest subscription. /subscribe {DEFAULT_TIME} starts one.")
    key, value = args.get("name"), args.get("value")
    if key is None:
        return _settings_view(subscription)
    if value is None:
        raise UsageError(f"give a value for {key}")
    if not (ctx.core.is_operator(ctx.request.user) or await ctx.request.access.is_chat_admin()):
        raise Refused("Sorry, only this chat's admins can change its digest settings.")
    options = await _changed(ctx, subscription.options, key.lower(), value)
    await ctx.core.repo.set_options(subscription.id, options)
    updated = dataclasses.replace(subscription, options=options)
    return _settings_view(updated)


COMMANDS = (
    CommandSpec(
        "subscribe", "Daily digests here or in a channel you run: /subscribe 07:30 Europe/Berlin mon-fri",
        (Param("chat", "A channel to subscribe instead of this chat", False, "chat"),
         Param("time", "Times of day, HH:MM (several allowed)", False),
         Param("timezone", "IANA time zone, e.g. Europe/Berlin", False, autocomplete="timezones"),
         Param("days", "Days, e.g. mon-fri, weekends, daily", False, "text")),
        subscribe, Permission.CHAT_ADMIN,
    ),
    CommandSpec("unsubscribe", "Stop the digests here (or in a channel you run)",
                (Param("chat", "The channel to unsubscribe", False, "chat"),), unsubscribe, Permission.CHAT_ADMIN),
    CommandSpec("settings", "Show or change this chat's digest settings",
                (Param("name", "items, per_source, sources, include, exclude, balanced, quiet, previews, empty",
                       False),
                 Param("value", "The new value", False, "text")), settings),
)
