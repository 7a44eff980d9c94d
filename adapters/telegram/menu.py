"""The '/' command menu Telegram shows, published from the core's command list."""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable

from telegram import BotCommand

from bot import limits
from bot.commands import CommandSpec, Permission

log = logging.getLogger(__name__)

COMMAND_NAME = re.compile(r"^[a-z0-9_]{1,32}$")  # what setMyCommands accepts
DESCRIPTION_MAX = 256


def menu_commands(specs: Iterable[CommandSpec]) -> list[BotCommand]:
    """Every command a chat member may try, in the core's order, at most Telegram's 100.

    Operator-only commands stay out of the menu (as they stay out of /help); operators type them.
    Aliases are not listed: the menu shows one name per command.
    """
    published = []
    for spec in specs:
        if spec.permission is Permission.OPERATOR:
            continue
        if not COMMAND_NAME.match(spec.name):
            log.warning("/%s cannot be in Telegram's menu: names are 1-32 of a-z, 0-9 and _", spec.name)
            continue
        published.append(BotCommand(spec.name, spec.summary[:DESCRIPTION_MAX] or spec.name))
    if len(published) > limits.TELEGRAM_COMMANDS:
        log.warning("Telegram's menu holds %d commands; %d left out", limits.TELEGRAM_COMMANDS,
                    len(published) - limits.TELEGRAM_COMMANDS)
    return published[:limits.TELEGRAM_COMMANDS]
