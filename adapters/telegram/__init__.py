"""Telegram for newsdigest: python-telegram-bot composed around the core (see docs/telegram.md)."""

from adapters.telegram.adapter import TelegramAdapter
from adapters.telegram.settings import RateSettings, WebhookSettings

__all__ = ["RateSettings", "TelegramAdapter", "WebhookSettings"]
