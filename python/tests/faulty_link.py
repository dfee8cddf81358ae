"""A real TCP proxy in front of one member that cuts its first connections after a number of
bytes from the server (or, with direction="to_server", from the client): a genuine network
failure in the middle of a stream (the client sees the connection drop, exactly as when a member
dies), for the retry and resume tests."""
from __future__ import annotations

import socket
import threading
from typing import List

# Bounds one proxied connection's life, so a test that goes wrong cannot leave threads behind.
CONNECTION_TIMEOUT_S = 30
BUFFER_BYTES = 64 * 1024


class FaultyLink:
    def __init__(self, upstream: str, cut_after_bytes: int, cuts: int = 1, direction: str = "from_server"):
        if direction not in ("from_server", "to_server"):
            raise ValueError(f"direction must be from_server or to_server, not {direction!r}")
        self._count_to_server = direction == "to_server"
        host, port = upstream.rsplit(":", 1)
        self._upstream = (host, int(port))
        self._cut_after = cut_after_bytes
        self._cuts_left = cuts
        self._lock = threading.Lock()
        self._listener = socket.create_server(("127.0.0.1", 0))
        self._listener.settimeout(0.2)
        self.address = f"127.0.0.1:{self._listener.getsockname()[1]}"
        self.cut = 0
        self._closed = threading.Event()
        self._sockets: List[socket.socket] = []
        self._thread = threading.Thread(target=self._accept, daemon=True)
        self._thread.start()

    def _accept(self) -> None:
        while not self._closed.is_set():
            try:
                client, _ = self._listener.accept()
            except (socket.timeout, OSError):
                continue
            upstream = socket.create_connection(self._upstream, timeout=CONNECTION_TIMEOUT_S)
            client.settimeout(CONNECTION_TIMEOUT_S)
            with self._lock:
                limit = self._cut_after if self._cuts_left > 0 else None
                self._cuts_left -= 1
                self._sockets += [client, upstream]
            up, down = (limit, None) if self._count_to_server else (None, limit)
            threading.Thread(target=self._pump, args=(client, upstream, up), daemon=True).start()
            threading.Thread(target=self._pump, args=(upstream, client, down), daemon=True).start()

    def _pump(self, source: socket.socket, target: socket.socket, limit) -> None:
        sent = 0
        try:
            while True:
                data = source.recv(BUFFER_BYTES)
                if not data:
                    break
                if limit is not None and sent + len(data) > limit:
                    target.sendall(data[: limit - sent])
                    with self._lock:
                        self.cut += 1
                    break
                target.sendall(data)
                sent += len(data)
        except OSError:
            pass
        finally:
            for s in (source, target):
                try:
                    s.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass
                s.close()

    def close(self) -> None:
        self._closed.set()
        self._thread.join(5)
        self._listener.close()
        with self._lock:
            for s in self._sockets:
                s.close()
