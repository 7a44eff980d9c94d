"""Settings from the environment and an optional `.env`, validated once at start."""

from __future__ import annotations

import logging
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import Field, SecretStr, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict
from typing import Annotated, Literal


class ConfigError(ValueError):
    """A setting is missing or wrong; the message names the variable."""


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_file=".env", env_file_encoding="utf-8", extra="ignore", populate_by_name=True)

    database_url: str = Field("sqlite:///newsdigest.db", validation_alias="DATABASE_URL")
    telegram_bot_token: SecretStr | None = Field(None, validation_alias="TELEGRAM_BOT_TOKEN")
    telegram_api_base_url: str | None = Field(None, validation_alias="TELEGRAM_API_BASE_URL")
    telegram_webhook_url: str | None = Field(None, validation_alias="TELEGRAM_WEBHOOK_URL")
    telegram_webhook_secret: SecretStr | None = Field(None, validation_alias="TELEGRAM_WEBHOOK_SECRET")
    telegram_webhook_listen: str = Field("127.0.0.1", validation_alias="TELEGRAM_WEBHOOK_LISTEN")
    telegram_webhook_port: int = Field(8443, ge=1, le=65535, validation_alias="TELEGRAM_WEBHOOK_PORT")
    discord_bot_token: SecretStr | None = Field(None, validation_alias="DISCORD_BOT_TOKEN")
    discord_api_base_url: str | None = Field(None, validation_alias="DISCORD_API_BASE_URL")
    discord_sync_guild: int | None = Field(None, validation_alias="DISCORD_SYNC_GUILD")
    admins: Annotated[frozenset[str], NoDecode] = Field(frozenset(), validation_alias="NEWSDIGEST_ADMINS")
    timezone: str = Field("UTC", validation_alias="NEWSDIGEST_TIMEZONE")
    log_level: str = Field("INFO", validation_alias="LOG_LEVEL")
    log_format: Literal["text", "json"] = Field("text", validation_alias="LOG_FORMAT")
    allow_private_sources: bool = Field(False, validation_alias="NEWSDIGEST_ALLOW_PRIVATE_SOURCES")
    catchup_hours: float = Field(6.0, ge=0, le=168, validation_alias="NEWSDIGEST_CATCHUP_HOURS")
    status_file: Path | None = Field(None, validation_alias="NEWSDIGEST_STATUS_FILE")
    shutdown_seconds: float = Field(20.0, ge=0, le=600, validation_alias="NEWSDIGEST_SHUTDOWN_SECONDS")

    @field_validator("database_url")
    @classmethod
    def _sqlite_only(cls, value: str) -> str:
        if not value.startswith("sqlite:///"):
            raise ValueError("must look like sqlite:///path/to/file.db (only SQLite is supported)")
        if not value.removeprefix("sqlite:///"):
            raise ValueError("names no file after sqlite:///")
        return value

    @field_validator("admins", mode="before")
    @classmethod
    def _admin_list(cls, value: object) -> frozenset[str]:
        if isinstance(value, (set, frozenset, list, tuple)):
            value = ",".join(value)
        entries = [part.strip() for part in str(value or "").split(",") if part.strip()]
        for entry in entries:
            platform, _, user = entry.partition(":")
            if platform not in ("telegram", "discord", "console") or not user:
                raise ValueError(f"{entry!r} is not platform:user_id (e.g. telegram:123,discord:456)")
        return frozenset(entries)

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"{value!r} is not an IANA time zone such as Europe/Berlin") from None
        return value

    @field_validator("log_level")
    @classmethod
    def _known_level(cls, value: str) -> str:
        level = value.upper()
        if level not in logging.getLevelNamesMapping():
            raise ValueError(f"{value!r} is not a log level (DEBUG, INFO, WARNING, ERROR)")
        return level

    @field_validator("telegram_bot_token", "discord_bot_token", "discord_sync_guild", "status_file",
                     "telegram_webhook_url", "telegram_webhook_secret", mode="before")
    @classmethod
    def _blank_is_unset(cls, value: object) -> object:
        return None if isinstance(value, str) and not value.strip() else value

    @model_validator(mode="after")
    def _webhook_needs_a_secret(self) -> Settings:
        if self.telegram_webhook_url and self.telegram_webhook_secret is None:
            raise ValueError("TELEGRAM_WEBHOOK_URL needs TELEGRAM_WEBHOOK_SECRET (a long random string)")
        if self.telegram_webhook_url and not self.telegram_webhook_url.startswith("https://"):
            raise ValueError("TELEGRAM_WEBHOOK_URL must be an https:// address")
        return self

    @property
    def database_path(self) -> Path | str:
        path = self.database_url.removeprefix("sqlite:///")
        return path if path == ":memory:" else Path(path)

    @property
    def status_path(self) -> Path:
        """Where `run` keeps its status for `health`: by default beside the database."""
        return self.status_file or Path(self.database_path).with_suffix(".status.json")


def load_settings(**overrides: object) -> Settings:
    """Read and validate settings; errors become one ConfigError naming each bad variable."""
    try:
        return Settings(**overrides)
    except ValidationError as exc:
        problems = []
        for error in exc.errors():
            message = error["msg"].removeprefix("Value error, ")
            if not error["loc"]:  # a rule across settings: its message names the variables
                problems.append(message)
                continue
            name = str(error["loc"][0])
            field = Settings.model_fields.get(name)
            variable = field.validation_alias if field and field.validation_alias else name
            problems.append(f"{variable}: {message}")
        raise ConfigError("; ".join(problems)) from None
