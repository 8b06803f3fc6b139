"""An ASGI live server for browser tests that need WebSockets: uvicorn serving ``config.asgi.application``
(plus the static files) in a thread, on a free port, against the test database.

Django's ``live_server`` is WSGI only, so the room's socket cannot reach it. This server runs the real
application: HTTP through Django, ``/ws/...`` through Channels with the configured channel layer (the
test settings' Redis, or the in-memory layer: both work, it is one process). The fixture needs
``transactional_db`` so the server's threads see what the test wrote.
"""

from __future__ import annotations

import asyncio
import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass

import pytest

HOST = "127.0.0.1"


@dataclass(frozen=True)
class AsgiLiveServer:
    host: str
    port: int

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    @property
    def ws_url(self) -> str:
        return f"ws://{self.host}:{self.port}"


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((HOST, 0))
        return int(sock.getsockname()[1])


def _application():  # type: ignore[no-untyped-def]
    from django.contrib.staticfiles.handlers import ASGIStaticFilesHandler

    from config.asgi import application

    # DEBUG is off under pytest, so Django does not serve /static/: the handler does, like runserver.
    return ASGIStaticFilesHandler(application)


@pytest.fixture
def asgi_live_server(transactional_db, settings) -> Iterator[AsgiLiveServer]:
    import uvicorn
    from channels.layers import channel_layers

    settings.ALLOWED_HOSTS = [*settings.ALLOWED_HOSTS, HOST, "localhost"]
    # A channel layer's receive lock belongs to the first event loop that receives on it: a layer left over
    # from an earlier server's loop would make this server's consumers fail ("bound to a different event
    # loop"). Each server starts with, and leaves behind, a fresh one.
    channel_layers.backends.clear()
    port = _free_port()
    config = uvicorn.Config(
        _application(), host=HOST, port=port, log_level="warning", lifespan="off", ws="websockets-sansio",
        ws_ping_interval=None,  # the room protocol has its own heartbeat
    )
    server = uvicorn.Server(config)
    errors: list[BaseException] = []

    def run() -> None:
        try:
            asyncio.run(server.serve())
        except BaseException as exc:
            errors.append(exc)

    thread = threading.Thread(target=run, name="asgi-live-server", daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        if errors or not thread.is_alive():
            raise RuntimeError(f"the ASGI live server did not start: {errors[:1]}")
        if time.monotonic() > deadline:
            raise RuntimeError("the ASGI live server did not start within 10 s")
        time.sleep(0.02)
    try:
        yield AsgiLiveServer(HOST, port)
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        channel_layers.backends.clear()
