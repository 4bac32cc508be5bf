"""A timestamping client of the incident list's websocket, for the live-push bench."""

import contextlib
import threading
import time


class LiveList:
    """A client of the incident list's websocket that timestamps each message as it arrives (reader thread)."""

    def __init__(self, url: str, *, cookie: str, origin: str) -> None:
        from websockets.sync.client import connect

        self.socket = connect(
            url,
            origin=origin,
            additional_headers={"Cookie": cookie},
            proxy=None,
            max_size=None,
            compression=None,
            open_timeout=30,
        )
        self.received = 0
        self._buffer: list[tuple[float, str]] = []
        self._arrived = threading.Condition()
        self._reader = threading.Thread(target=self._read, name="live-list", daemon=True)
        self._reader.start()

    def _read(self) -> None:
        from websockets.exceptions import ConnectionClosed

        with contextlib.suppress(ConnectionClosed):
            for message in self.socket:
                at = time.perf_counter()
                with self._arrived:
                    self._buffer.append((at, message))
                    self.received += 1
                    self._arrived.notify_all()

    def discard(self) -> None:
        """Forget what has arrived so far."""
        with self._arrived:
            self._buffer.clear()

    def wait_for(self, matches, timeout: float) -> tuple[float, str] | None:
        """The arrival time and text of the first message (oldest first, consuming them) that `matches`."""
        deadline = time.perf_counter() + timeout
        with self._arrived:
            while True:
                while self._buffer:
                    at, message = self._buffer.pop(0)
                    if matches(message):
                        return at, message
                remaining = deadline - time.perf_counter()
                if remaining <= 0:
                    return None
                self._arrived.wait(remaining)

    def close(self) -> None:
        self.socket.close()
        self._reader.join(timeout=10)
