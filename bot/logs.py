"""Logging set-up: one line per event, plain or JSON, and never a token."""

from __future__ import annotations

import json
import logging
import re

_TOKEN = re.compile(r"(bot)?\d{6,}:[A-Za-z0-9_-]{30,}|[A-Za-z0-9_-]{24,}\.[A-Za-z0-9_-]{6}\.[A-Za-z0-9_-]{27,}")


def redact(text: str) -> str:
    """Mask anything shaped like a Telegram or Discord bot token."""
    return _TOKEN.sub("[token]", text)


class RedactingFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        return redact(super().format(record))


class JsonFormatter(RedactingFormatter):
    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "time": self.formatTime(record, "%Y-%m-%dT%H:%M:%S"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        if record.exc_info:
            entry["error"] = self.formatException(record.exc_info)
        return redact(json.dumps(entry, ensure_ascii=False))


def configure(level: str = "INFO", fmt: str = "text") -> None:
    handler = logging.StreamHandler()
    if fmt == "json":
        handler.setFormatter(JsonFormatter())
    else:
        handler.setFormatter(RedactingFormatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    logging.captureWarnings(True)  # library warnings become log lines too, in the same format
    # httpx logs every request URL at INFO, and Telegram URLs carry the token
    logging.getLogger("httpx").setLevel(logging.WARNING)
    # APScheduler warns each time a tick is skipped because the last one still runs (a long
    # fan-out); that is the max_instances=1 rule working, not a fault
    logging.getLogger("apscheduler").setLevel(logging.ERROR)
