"""Every command the bot answers, in the order /help lists them."""

from bot.commands.operations import COMMANDS as OPERATIONS
from bot.commands.reading import COMMANDS as READING
from bot.commands.sources import COMMANDS as SOURCES
from bot.commands.subscriptions import COMMANDS as SUBSCRIPTIONS

COMMANDS = (*READING, *SUBSCRIPTIONS, *SOURCES, *OPERATIONS)
