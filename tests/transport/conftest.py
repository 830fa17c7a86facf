"""Fixtures: a live HTTP server (uvicorn on a free loopback port) around the memory service."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
import uvicorn
from fastapi import FastAPI

from cimmeter.transport.http import HttpSettings, Mount, create_app
from cimmeter.transport.inbound import Role
from tests.transport.memory import MemoryService

TOKEN = "test-token-123"
AUTH = {"Authorization": f"Bearer {TOKEN}"}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class LiveServer:
    url: str
    service: MemoryService
    headend: MemoryService


def serve_in_thread(app: FastAPI) -> Iterator[str]:
    """Run `app` with uvicorn on a free port in a thread; yields its base URL; stops it."""
    port = free_port()
    config = uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="off")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        if time.monotonic() > deadline:
            raise RuntimeError("uvicorn did not start within 10 s")
        time.sleep(0.01)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(10)


def make_app(
    service: MemoryService, headend: MemoryService | None = None, **settings: object
) -> FastAPI:
    mounts = [Mount(Role.MDM, service)]
    if headend is not None:
        mounts.append(Mount(Role.HEADEND, headend, "/headend"))
    options = {"tokens": (TOKEN,), **settings}
    return create_app(mounts, read_side=service, settings=HttpSettings(**options))  # type: ignore[arg-type]


@pytest.fixture(scope="module")
def live() -> Iterator[LiveServer]:
    service, headend = MemoryService(), MemoryService()
    for url in serve_in_thread(make_app(service, headend)):
        yield LiveServer(url, service, headend)
