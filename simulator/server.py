"""Running the app under uvicorn on a socket we bind ourselves (so callers know the port before it serves)."""

from __future__ import annotations

import ipaddress
import logging
import socket
from collections.abc import Callable

import uvicorn

from simulator.app import build_app
from simulator.world import World


def check_loopback(host: str) -> None:
    """The simulator is a local test double: refuse to listen anywhere but loopback."""
    if host == "localhost":
        return
    try:
        ok = ipaddress.ip_address(host).is_loopback
    except ValueError:
        ok = False
    if not ok:
        raise ValueError(f"refusing to listen on non-loopback host {host!r}; use 127.0.0.1")


def bind_socket(host: str = "127.0.0.1", port: int = 0) -> socket.socket:
    check_loopback(host)
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    # proto must be IPPROTO_TCP explicitly: asyncio only sets TCP_NODELAY on accepted sockets whose proto says
    # TCP, and without it every response pays the ~40 ms Nagle/delayed-ACK penalty.
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    sock.bind((host, port))
    sock.listen(128)
    sock.setblocking(False)
    return sock


class SimServer(uvicorn.Server):
    """uvicorn.Server that reports readiness through a callback once it is accepting connections."""

    def __init__(self, config: uvicorn.Config, on_ready: Callable[[], None] | None = None) -> None:
        super().__init__(config)
        self._on_ready = on_ready

    async def startup(self, sockets: list[socket.socket] | None = None) -> None:
        await super().startup(sockets=sockets)
        if self._on_ready is not None and not self.should_exit:
            self._on_ready()


class _DroppedAnswerFilter(logging.Filter):
    """The `dropped` fault ends a response on purpose (simulator.web.DroppedResponse): not an error worth a log."""

    def filter(self, record: logging.LogRecord) -> bool:
        return "returned without completing response" not in record.getMessage()


_DROPPED_FILTER = _DroppedAnswerFilter()


def make_server(world: World, on_ready: Callable[[], None] | None = None, log_level: str = "warning") -> SimServer:
    logging.getLogger("uvicorn.error").addFilter(_DROPPED_FILTER)
    config = uvicorn.Config(
        build_app(world),
        log_level=log_level,
        access_log=False,
        lifespan="on",
        timeout_graceful_shutdown=1,
        timeout_keep_alive=5,
    )
    return SimServer(config, on_ready)
