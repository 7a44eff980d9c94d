"""Commands for the bot's operators (NEWSDIGEST_ADMINS): how the whole bot is doing."""

from __future__ import annotations

from bot.commands import Args, CommandSpec, Context, Permission
from bot.ops.runtime import read_status
from bot.ops.status import overview
from bot.reply import Reply

CHAT_SOURCE_LIMIT = 20  # a chat message stays readable; the terminal's `newsdigest status` lists all


async def status(ctx: Context, args: Args) -> Reply:
    runtime = read_status(ctx.core.settings.status_path)
    return await overview(ctx.core.repo, runtime, ctx.core.clock(), source_limit=CHAT_SOURCE_LIMIT)


COMMANDS = (
    CommandSpec("status", "Operators: bot health, sources, subscriptions, deliveries and failures", (), status,
                Permission.OPERATOR),
)
