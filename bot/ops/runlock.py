"""Proof that one `newsdigest run` owns a database: an advisory lock on a file beside it.

The kernel drops the lock when its holder exits, even by kill -9, so a run that gets the lock
knows that whatever the ledger shows as 'sending' was left by a process that is gone, and can
release those rows at once instead of waiting out their lease. A run that does not get it waits
(adapters.runner): two runs sending side by side could each take the other's rows for abandoned.
`restore` takes the same lock, so it never replaces the database under a running bot.
"""

from __future__ import annotations

import fcntl
import os
from pathlib import Path


def lock_path(database: Path | str) -> Path:
    return Path(database).with_suffix(".lock")


class RunLock:
    def __init__(self, path: Path) -> None:
        self.path = path
        self._fd: int | None = None

    def acquire(self) -> bool:
        """Take the lock without waiting; False when another process holds it."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            return False
        self._fd = fd
        return True

    def release(self) -> None:
        if self._fd is not None:
            os.close(self._fd)  # closing the descriptor drops the lock
            self._fd = None
