"""Managing sources by command: operators manage global ones, chat admins their chat's own."""

from __future__ import annotations

from bot.commands import Args, CommandSpec, Context, NotFound, Param, Permission, Refused, UsageError, counted
from bot.ingest.feeds import skipped_note
from bot.ingest.poller import ProbeError
from bot.model import BiasRating, Source
from bot.reply import Reply
from storage.repository import DuplicateSource

RATINGS = tuple(r.value for r in BiasRating)


def _rating(text: str | None) -> BiasRating:
    if text is None:
        return BiasRating.UNRATED
    try:
        return BiasRating.parse(text)
    except ValueError as exc:
        raise UsageError(str(exc)) from None


async def _operator(ctx: Context) -> bool:
    return ctx.core.is_operator(ctx.request.user)


async def _editable(ctx: Context, ref: str) -> Source:
    """A source the caller may change: any visible one for operators, this chat's own for admins."""
    source = await ctx.core.repo.find_source(ref, ctx.scope)
    if source is None:
        raise NotFound(f"No source {ref!r} here. /sources lists them.")
    if source.scope is None and not await _operator(ctx):
        raise Refused(f"Sorry, {source.name} is shared by every chat; only the bot's operators can change it.")
    return source


async def addsource(ctx: Context, args: Args) -> Reply:
    url = args["url"].strip("<>")
    if not url.startswith(("http://", "https://")):
        raise UsageError("the feed address must start with http:// or https://")
    if ctx.core.poller is None:
        return Reply.notice("This bot runs without feed fetching; sources cannot be added here.", ephemeral=True)
    scope = None if await _operator(ctx) else ctx.scope
    try:
        source, outcome = await ctx.core.poller.add(url, _rating(args.get("bias")), scope)
    except ProbeError as exc:
        return Reply.notice(f"Cannot add {url}: {exc}", ephemeral=True)
    except DuplicateSource as exc:
        return Reply.notice(f"Not added: {exc}.", ephemeral=True)
    where = "every chat" if scope is None else "this chat"
    return Reply.notice(f"Added source #{source.id} {source.name} ({source.bias.label}) for {where}: "
                        f"{counted(outcome.new, 'item')} found{skipped_note(outcome.skipped)};"
                        f" polled every {source.poll_interval // 60} minutes.")


async def removesource(ctx: Context, args: Args) -> Reply:
    source = await _editable(ctx, args["source"])
    filters = await ctx.core.repo.remove_source(source.id)
    removed = f"Removed source #{source.id} {source.name} and its stored summaries."
    if filters:
        removed += (f" {counted(filters, 'digest')} named it in /settings sources and no longer do; a digest that"
                    " named only it now follows every source.")
    return Reply.notice(removed)


async def setbias(ctx: Context, args: Args) -> Reply:
    source = await _editable(ctx, args["source"])
    rating = _rating(args["rating"])
    await ctx.core.repo.set_bias(source.id, rating)
    return Reply.notice(f"{source.name} is now rated {rating.label}.")


COMMANDS = (
    CommandSpec("addsource", "Add a feed (RSS, Atom, JSON Feed) as a source: /addsource <url> [bias]",
                (Param("url", "The feed's address"),
                 Param("bias", "AllSides rating: left, lean left, center, lean right, right, mixed", False,
                       "text", choices=RATINGS)),
                addsource, Permission.CHAT_ADMIN),
    CommandSpec("removesource", "Remove a source and its summaries",
                (Param("source", "Source number or name", kind="text", autocomplete="sources"),),
                removesource, Permission.CHAT_ADMIN),
    CommandSpec("setbias", "Set a source's AllSides bias rating",
                (Param("source", "Source number or name", kind="text", autocomplete="sources"),
                 Param("rating", "left, lean left, center, lean right, right, mixed", choices=RATINGS)),
                setbias, Permission.CHAT_ADMIN),
)
