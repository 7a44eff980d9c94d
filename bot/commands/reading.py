"""Commands anyone may run: reading articles, outlets and digests."""

from __future__ import annotations

from bot import limits
from bot.commands import Args, CommandSpec, Context, NotFound, Param, UsageError, counted, whole_number
from bot.digest import article_card, article_lines, build_digest, item_lines, source_card
from bot.model import Article, DigestOptions
from bot.reply import Heading, Notice, Reply, SourceLine


def _count(text: str | None, default: int, maximum: int) -> int:
    if text is None:
        return default
    count = whole_number(text)
    if count is None or not 1 <= count <= maximum:
        raise UsageError(f"the count must be a whole number from 1 to {maximum}")
    return count


async def _visible_article(ctx: Context, ref: str) -> Article:
    number = whole_number(ref.removeprefix("#"))
    if number is None:
        raise UsageError("give the article's number, as shown after # in a list")
    article = await ctx.core.repo.get_article(number)
    if article is not None:
        source = await ctx.core.repo.get_source(article.source_id)
        if source is not None and source.scope in (None, ctx.scope):
            return article
    raise NotFound(f"No article #{ref.lstrip('#')} here. /latest lists recent ones.")


async def help_(ctx: Context, args: Args) -> Reply:
    """Every command the asker may use, or the one named. Other words are no error: Telegram sends
    /start with the payload of the t.me link that opened the chat."""
    specs = ctx.core.commands_for(ctx.request)
    wanted = args.get("command", "").removeprefix("/").lower()
    if named := [spec for spec in specs if wanted in (spec.name, *spec.aliases)]:
        return Reply(tuple(Notice(f"{spec.usage} — {spec.summary}") for spec in named))
    lines = [Heading("newsdigest: compact news digests with each outlet's bias rating")]
    lines += [Notice(f"{spec.usage} — {spec.summary}") for spec in specs]
    return Reply(tuple(lines))


async def latest(ctx: Context, args: Args) -> Reply:
    count = _count(args.get("count"), limits.LATEST_DEFAULT, limits.LATEST_MAX)
    articles = await ctx.core.repo.latest_articles(ctx.scope, count)
    if not articles:
        return Reply.notice("No articles stored yet.")
    sources = await ctx.core.repo.sources_by_id({a.source_id for a in articles})
    return Reply((Heading(f"Latest {len(articles)}"), *article_lines(articles, sources)))


async def article(ctx: Context, args: Args) -> Reply:
    found = await _visible_article(ctx, args["id"])
    source = await ctx.core.repo.get_source(found.source_id)
    assert source is not None
    return Reply((article_card(found, source),))


async def story(ctx: Context, args: Args) -> Reply:
    """Every article of the story an article belongs to: who covered it, from which side, where."""
    found = await _visible_article(ctx, args["id"])
    articles = await ctx.core.repo.story_articles(ctx.scope, [found.story])
    sources = await ctx.core.repo.sources_by_id({a.source_id for a in articles})
    heading = Heading(f"Story #{found.story}: {counted(len(articles), 'article')}"
                      f" from {counted(len(sources), 'outlet')}")
    return Reply((heading, *article_lines(articles, sources)))


async def source(ctx: Context, args: Args) -> Reply:
    ref = args["ref"].strip()
    if whole_number(ref.removeprefix("#")) is not None:
        found = await _visible_article(ctx, ref)
        outlet = await ctx.core.repo.get_source(found.source_id)
        assert outlet is not None
        return Reply((source_card(outlet, found.url),))
    outlet = await ctx.core.repo.find_source(ref, ctx.scope)
    if outlet is None:
        raise NotFound(f"No outlet named {ref!r}. /sources lists them.")
    return Reply((source_card(outlet),))


async def sources(ctx: Context, args: Args) -> Reply:
    found = await ctx.core.repo.list_sources(ctx.scope)
    if not found:
        return Reply.notice("No sources yet.")
    lines = [SourceLine(s.id, s.name, s.bias, s.health) for s in found]
    return Reply((Heading(counted(len(found), "source")), *lines))


async def search(ctx: Context, args: Args) -> Reply:
    words = [w for w in args["words"].split() if any(c.isalnum() for c in w)]
    if not words:
        raise UsageError("give at least one word to search for")
    found = await ctx.core.repo.search_articles(ctx.scope, words[:10], limits.SEARCH_RESULTS)
    if not found:
        return Reply.notice(f"Nothing found for {' '.join(words)!r}.")
    sources = await ctx.core.repo.sources_by_id({a.source_id for a in found})
    return Reply((Heading(f"{len(found)} found for {' '.join(words)!r}"), *article_lines(found, sources)))


async def digest(ctx: Context, args: Args) -> Reply:
    subscription = await ctx.core.repo.get_subscription(ctx.request.chat)
    options = subscription.options if subscription else DigestOptions()
    after = subscription.last_article_id if subscription else 0
    preview = await build_digest(ctx.core.repo, ctx.scope, options, after)
    if preview.empty:
        if after:
            return Reply.notice("Nothing new since the last digest.")
        return Reply.notice("Nothing to show: no stored summary fits this digest's settings. /settings shows them.")
    return Reply((Heading("Your next digest (preview)"), *item_lines(preview.articles, preview.sources)))


COMMANDS = (
    CommandSpec("help", "What this bot does and the commands you can use",
                (Param("command", "A command to explain", required=False, kind="text"),), help_, aliases=("start",)),
    CommandSpec("latest", "The newest summaries", (Param("count", "How many (1-25)", False, "int"),), latest),
    CommandSpec("article", "A summary in full: lead and every key point", (Param("id", "Article number", kind="int"),),
                article),
    CommandSpec("story", "Every outlet's article on a story, with ratings and links",
                (Param("id", "A story or article number", kind="int"),), story),
    CommandSpec("source", "An outlet: description, bias rating, website",
                (Param("ref", "An article number or an outlet name", kind="text", autocomplete="sources",
                       hint="article id | outlet"),), source),
    CommandSpec("sources", "Every outlet this chat reads, with its bias rating", (), sources),
    CommandSpec("search", "Find summaries by words", (Param("words", "Words to look for", kind="text"),), search),
    CommandSpec("digest", "Preview this chat's next digest now", (), digest),
)
