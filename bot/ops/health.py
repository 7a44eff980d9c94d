"""`newsdigest health`: is the database usable by this build, and how is the running bot?

Cheap and token-free, so a container HEALTHCHECK can call it every minute: it opens the
database read-only, compares schema versions, and reads the status file `run` keeps fresh.
Healthy means the database opens at the current schema; with `live`, also that `run` is up
(status file fresh) and every adapter is connected.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from bot.ops.database import DatabaseProblem, open_readonly
from bot.ops.runtime import describe, read_status, when


@dataclass
class HealthReport:
    lines: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)

    @property
    def healthy(self) -> bool:
        return not self.problems

    def text(self) -> str:
        verdict = "healthy" if self.healthy else "unhealthy: " + "; ".join(self.problems)
        return "\n".join([*self.lines, verdict])


async def check(database: Path, status_path: Path, now: datetime, live: bool = False) -> HealthReport:
    report = HealthReport()
    try:
        async with open_readonly(database) as (_, schema):
            report.lines.append(f"database {database}: {schema.describe()}")
            if not schema.current:
                report.problems.append(schema.describe())
    except DatabaseProblem as exc:
        report.lines.append(f"database: {exc}")
        report.problems.append(str(exc))
    status = read_status(status_path)
    if status is None:
        report.lines.append(f"bot: no status at {status_path} (`newsdigest run` writes it)")
        if live:
            report.problems.append("the bot is not running")
        return report
    report.lines += describe(status, now)
    if live:
        if status.state != "running":
            report.problems.append(f"the bot is {status.state}")
        elif status.stale(now):
            report.problems.append(f"no heartbeat from the bot since {when(status.updated_at)}")
        report.problems += [f"{p} is {a.state}" for p, a in sorted(status.adapters.items()) if not a.connected]
    elif status.stale(now) and status.state != "stopped":
        report.lines.append(f"  (stale: no heartbeat since {when(status.updated_at)}; is `newsdigest run` up?)")
    return report
