"""Fixtures for the ingest tests: the local feed server and a port nothing listens on."""

from __future__ import annotations

import socket

import pytest

from .feedserver import feed_server  # noqa: F401  (a fixture, used by name)


@pytest.fixture
def unused_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]
