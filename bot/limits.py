"""Every platform and product limit, in one place."""

# Telegram Bot API
TELEGRAM_MESSAGE = 4096  # characters after entity parsing; we count the HTML source, which is longer
TELEGRAM_COMMANDS = 100

# Discord
DISCORD_CONTENT = 2000
DISCORD_EMBEDS_PER_MESSAGE = 10
DISCORD_EMBED_TITLE = 256
DISCORD_EMBED_DESCRIPTION = 4096
DISCORD_EMBED_FIELDS = 25
DISCORD_FIELD_NAME = 256
DISCORD_FIELD_VALUE = 1024
DISCORD_EMBED_FOOTER = 2048
DISCORD_EMBED_AUTHOR = 256
DISCORD_EMBEDS_TOTAL = 6000  # across all embeds of one message
DISCORD_COMMAND_NAME = 32
DISCORD_COMMAND_DESCRIPTION = 100

# Console: a terminal has no limit, but a wall of text helps nobody
CONSOLE_MESSAGE = 8000

# Product
DIGEST_ITEMS_DEFAULT = 8
DIGEST_ITEMS_MAX = 25
LATEST_DEFAULT = 5
LATEST_MAX = 25
SEARCH_RESULTS = 10
LEAD_LINE = 220  # characters of the lead shown on a digest line
TITLE_LINE = 250
COVERED_LINE = 400  # the "covered by" line of a story: outlets past it are counted, not named
OUTLET_NAME = 60  # an outlet's name within that line
URL_MAX = 1000  # longer links are shown without the link rather than blowing a message budget
