"""Knobs an operator (or a test, or a benchmark) may turn: send rates and the webhook endpoint."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class RateSettings:
    """Telegram's flood limits as the bot paces itself; tests and benchmarks raise the caps.

    The defaults are the limits Telegram documents for bots: about 30 messages a second in
    total, one a second per chat, 20 a minute per group or channel.
    """

    overall_per_second: float = 30
    per_chat_per_second: float = 1
    per_group_per_minute: float = 20
    max_retries: int = 3  # after a 429 or a network error; then the send is reported RETRY_LATER
    max_retry_after: float = 60  # a longer flood wait is not slept through but reported RETRY_LATER
    backoff: float = 0.5  # first pause after a network error, doubled each time, at most 8 s

    def __post_init__(self) -> None:
        for name in ("overall_per_second", "per_chat_per_second", "per_group_per_minute"):
            if getattr(self, name) <= 0:
                raise ValueError(f"{name} must be positive")
        if self.max_retries < 0 or self.max_retry_after < 0 or self.backoff < 0:
            raise ValueError("max_retries, max_retry_after and backoff cannot be negative")


@dataclass(frozen=True)
class WebhookSettings:
    """Receive updates by webhook instead of long polling (needs python-telegram-bot[webhooks]).

    Telegram posts to `url`, which a TLS-terminating proxy forwards to http://listen:port/path.
    Telegram sends `secret_token` in a header on every call; other callers are turned away.
    """

    url: str
    secret_token: str
    listen: str = "127.0.0.1"
    port: int = 8443
    path: str = "telegram"
