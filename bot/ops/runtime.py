"""The status file `newsdigest run` keeps fresh, so `newsdigest health` can see the live bot.

The running process rewrites one small JSON file (atomically) on every lifecycle change and on a
heartbeat, and after each job. Another process reads it without touching the bot: no socket, no
token (errors pass the log's token mask), no lock.
A file whose `updated_at` is older than a few heartbeats means the bot is gone or stuck.
"""

from __future__ import annotations

import asyncio
import logging
import os
from datetime import UTC, datetime, timedelta
from pathlib import Path
from collections.abc import Mapping
from typing import Literal, Protocol

from pydantic import BaseModel, Field, ValidationError

from bot.logs import redact
from bot.model import ChatRef
from bot.outbox import Messenger, Outcome, SendResult
from bot.reply import Reply

log = logging.getLogger(__name__)

HEARTBEAT_SECONDS = 15.0
STALE_AFTER = timedelta(seconds=4 * HEARTBEAT_SECONDS)  # a few missed heartbeats: the bot is gone or stuck

RunState = Literal["starting", "running", "stopping", "stopped"]
AdapterPhase = Literal["starting", "connected", "disconnected", "stopping", "stopped"]


def _now() -> datetime:
    return datetime.now(UTC)


class AdapterStatus(BaseModel):
    """One platform link: its lifecycle, and how the last send went (the live signal of trouble)."""

    state: AdapterPhase = "starting"
    since: datetime = Field(default_factory=_now)
    last_send_at: datetime | None = None
    last_outcome: Outcome | None = None
    last_error: str | None = None  # the reason of the last send that was not sent; never a token

    def enter(self, state: AdapterPhase) -> None:
        self.state, self.since = state, _now()

    def record(self, outcome: Outcome, reason: str = "") -> None:
        self.last_send_at, self.last_outcome = _now(), outcome
        if outcome is not Outcome.SENT:
            self.last_error = reason or outcome.value

    @property
    def connected(self) -> bool:
        return self.state == "connected"


class JobStatus(BaseModel):
    running: bool = False
    last_started_at: datetime | None = None
    last_finished_at: datetime | None = None
    last_error: str | None = None


class RuntimeStatus(BaseModel):
    pid: int = Field(default_factory=os.getpid)
    state: RunState = "starting"
    started_at: datetime = Field(default_factory=_now)
    updated_at: datetime = Field(default_factory=_now)
    adapters: dict[str, AdapterStatus] = Field(default_factory=dict)
    jobs: dict[str, JobStatus] = Field(default_factory=dict)

    def stale(self, now: datetime) -> bool:
        return now - self.updated_at > STALE_AFTER

    def adapter(self, platform: str) -> AdapterStatus:
        return self.adapters.setdefault(platform, AdapterStatus())

    def job_started(self, name: str) -> None:
        job = self.jobs.setdefault(name, JobStatus())
        job.running, job.last_started_at = True, _now()

    def job_finished(self, name: str, error: str | None = None) -> None:
        job = self.jobs.setdefault(name, JobStatus())
        job.running, job.last_finished_at, job.last_error = False, _now(), error


class Linked(Protocol):
    """An adapter that can say whether its platform connection is up."""

    @property
    def connected(self) -> bool: ...


class StatusFile:
    """The writer side, owned by `run`: every write replaces the whole file at once."""

    def __init__(self, path: Path, status: RuntimeStatus | None = None) -> None:
        self.path = path
        self.status = status or RuntimeStatus()

    def write(self) -> None:
        self.status.updated_at = _now()
        partial = self.path.with_name(f".{self.path.name}.partial")
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            partial.write_text(redact(self.status.model_dump_json(indent=1)), encoding="utf-8")
            os.replace(partial, self.path)
        except OSError as exc:  # a full disk must not stop the bot; health will see a stale file
            log.warning("cannot write the status file %s: %s", self.path, exc)

    def enter(self, state: RunState) -> None:
        self.status.state = state
        self.write()

    async def heartbeat(self, links: Mapping[str, Linked], seconds: float = HEARTBEAT_SECONDS) -> None:
        """Rewrite the file every few seconds until cancelled: its age is the bot's pulse, and each
        running adapter's link is read afresh, so a dropped connection shows within a beat."""
        while True:
            for platform, adapter in links.items():
                link = self.status.adapter(platform)
                if link.state in ("connected", "disconnected"):
                    state: AdapterPhase = "connected" if adapter.connected else "disconnected"
                    if state != link.state:
                        log.warning("%s adapter is %s", platform, state)
                        link.enter(state)
            self.write()
            await asyncio.sleep(seconds)


def read_status(path: Path) -> RuntimeStatus | None:
    """The last status `run` wrote, or None when there is none (never started, or unreadable)."""
    try:
        return RuntimeStatus.model_validate_json(path.read_bytes())
    except (OSError, ValidationError):
        return None


def when(moment: datetime) -> str:
    return f"{moment:%Y-%m-%d %H:%M:%S} UTC"


def adapter_line(platform: str, adapter: AdapterStatus) -> str:
    line = f"  {platform}: {adapter.state} since {when(adapter.since)}"
    if adapter.last_send_at is not None and adapter.last_outcome is not None:
        line += f"; last send {when(adapter.last_send_at)}: {adapter.last_outcome.value}"
        if adapter.last_outcome is not Outcome.SENT and adapter.last_error:
            line += f" ({adapter.last_error})"
    return line


def job_line(name: str, job: JobStatus) -> str:
    if job.running and job.last_started_at:
        return f"  job {name}: running since {when(job.last_started_at)}"
    if job.last_finished_at is None:
        return f"  job {name}: not run yet"
    outcome = f"failed: {job.last_error}" if job.last_error else "ok"
    return f"  job {name}: last ran {when(job.last_finished_at)}, {outcome}"


def describe(status: RuntimeStatus, now: datetime) -> list[str]:
    age = int((now - status.updated_at).total_seconds())
    lines = [f"bot: {status.state}, pid {status.pid}, up since {when(status.started_at)}, status {age} s old"]
    lines += [adapter_line(p, a) for p, a in sorted(status.adapters.items())]
    lines += [job_line(n, j) for n, j in sorted(status.jobs.items())]
    return lines


class TrackedMessenger:
    """A messenger that notes each send's outcome in its adapter's status."""

    def __init__(self, messenger: Messenger, status: AdapterStatus) -> None:
        self.messenger = messenger
        self.status = status
        self.platform = messenger.platform

    async def send(self, chat: ChatRef, reply: Reply, sent: tuple[str, ...] = ()) -> SendResult:
        try:
            result = await self.messenger.send(chat, reply, sent)
        except Exception as exc:
            self.status.record(Outcome.RETRY_LATER, f"internal error: {type(exc).__name__}")
            raise
        self.status.record(result.outcome, result.reason)
        return result
