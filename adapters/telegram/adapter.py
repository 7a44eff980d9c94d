"""The Telegram adapter: python-telegram-bot wired around the core, never inside it."""

from __future__ import annotations

import logging

from telegram.ext import Application, ApplicationBuilder

from adapters.telegram.access import AdminCache
from adapters.telegram.clock import Clock, SystemClock
from adapters.telegram.menu import menu_commands
from adapters.telegram.rate_limit import MessageRateLimiter
from adapters.telegram.sender import TelegramSender
from adapters.telegram.settings import RateSettings, WebhookSettings
from adapters.telegram.updates import ALLOWED_UPDATES, UpdateRouter
from bot.core import Core
from bot.model import ChatRef
from bot.outbox import SendResult
from bot.reply import Reply

log = logging.getLogger(__name__)


class TelegramAdapter:
    """Commands in, replies and digests out; a Messenger for the delivery engine.

    `base_url` points at another Bot API server (a local tdlib/telegram-bot-api, or a fake in
    tests), e.g. "http://127.0.0.1:8081/bot"; the token is appended to it. `clock` paces sends
    and ages the admin cache; tests pass a virtual one.
    """

    platform = "telegram"

    def __init__(self, core: Core, token: str, *, base_url: str | None = None, rates: RateSettings = RateSettings(),
                 webhook: WebhookSettings | None = None, clock: Clock | None = None) -> None:
        if not token:
            raise ValueError("a Telegram bot token is required (TELEGRAM_BOT_TOKEN)")
        clock = clock or SystemClock()
        builder = (ApplicationBuilder().token(token).rate_limiter(MessageRateLimiter(rates, clock))
                   .concurrent_updates(True).job_queue(None))
        if base_url:
            builder = builder.base_url(base_url)
        self._app: Application = builder.build()  # type: ignore[type-arg]
        self._core = core
        self._webhook = webhook
        self._sender = TelegramSender(self._app.bot, core, rates, clock)
        router = UpdateRouter(core, self._sender, AdminCache(clock))
        self._app.add_handlers(router.handlers())
        self._app.add_error_handler(router.on_error)

    @property
    def username(self) -> str:
        """The bot's @username, known once started."""
        return self._app.bot.username

    @property
    def connected(self) -> bool:
        """Whether updates are being received (the status file reports it)."""
        return self._app.running and self._app.updater is not None and self._app.updater.running

    async def start(self) -> None:
        """Log in, publish the command menu and start receiving updates; returns once running."""
        await self._app.initialize()
        try:
            await self._app.bot.set_my_commands(menu_commands(self._core.commands))
            await self._app.start()
            updater = self._app.updater
            assert updater is not None  # the builder makes one unless told otherwise
            if self._webhook is None:
                await updater.start_polling(allowed_updates=list(ALLOWED_UPDATES))
            else:
                await updater.start_webhook(
                    listen=self._webhook.listen, port=self._webhook.port, url_path=self._webhook.path,
                    webhook_url=self._webhook.url, secret_token=self._webhook.secret_token,
                    allowed_updates=list(ALLOWED_UPDATES),
                )
        except BaseException:
            await self.stop()
            raise
        log.info("Telegram bot @%s is running (%s)", self.username,
                 "long polling" if self._webhook is None else "webhook")

    async def stop(self) -> None:
        """Stop receiving, finish the updates in hand, close the connections."""
        if self._app.updater is not None and self._app.updater.running:
            await self._app.updater.stop()
        if self._app.running:
            await self._app.stop()
        await self._app.shutdown()

    async def send(self, chat: ChatRef, reply: Reply, sent: tuple[str, ...] = ()) -> SendResult:
        """Messenger.send: see adapters.telegram.sender for how each error becomes an outcome."""
        return await self._sender.send(chat, reply, sent)
