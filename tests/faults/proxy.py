"""A TCP proxy the tests put between the app and a real server, to make that server go away.

`cut()` drops every open connection and refuses new ones, which is what the app sees when
PostgreSQL or Redis stops; `restore()` lets connections through again. The server itself keeps
running for everyone else on the machine.

Given more than one target, it is a round-robin load balancer with failover, as in front of
several API processes: each new connection goes to the next target that accepts it, so a
target that died is skipped. `served` counts the connections each target took.
"""

from __future__ import annotations

import contextlib
import socket
import struct
import threading
from types import TracebackType


class FaultProxy:
    def __init__(self, target_host: str, target_port: int, *more_ports: int) -> None:
        self._targets = [(target_host, port) for port in (target_port, *more_ports)]
        self._turn = 0
        self.served = [0] * len(self._targets)
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.port: int = self._listener.getsockname()[1]
        self._up = threading.Event()
        self._up.set()
        self._closed = False
        self._lock = threading.Lock()
        self._sockets: set[socket.socket] = set()
        self._thread = threading.Thread(target=self._accept, name="fault-proxy", daemon=True)

    def __enter__(self) -> FaultProxy:
        self._thread.start()
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        value: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self._closed = True
        self._drop_all()
        # shutdown() wakes the thread blocked in accept(); close() alone may not.
        with contextlib.suppress(OSError):
            self._listener.shutdown(socket.SHUT_RDWR)
        self._listener.close()

    @property
    def is_up(self) -> bool:
        return self._up.is_set()

    def cut(self) -> None:
        """The server is gone: open connections break, new ones are refused."""
        self._up.clear()
        self._drop_all()

    def restore(self) -> None:
        self._up.set()

    def _drop_all(self) -> None:
        with self._lock:
            sockets, self._sockets = self._sockets, set()
        for sock in sockets:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
            sock.close()

    def _accept(self) -> None:
        while not self._closed:
            try:
                client, _ = self._listener.accept()
            except OSError:
                return
            if not self._up.is_set():
                # A reset, as a connection to a stopped server's port gets.
                client.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
                client.close()
                continue
            upstream = self._connect()
            if upstream is None:
                client.close()
                continue
            with self._lock:
                self._sockets.update((client, upstream))
            for source, sink in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pump, args=(source, sink), daemon=True).start()

    def _connect(self) -> socket.socket | None:
        """A connection to the next target that takes one (round robin), if any does."""
        for _ in self._targets:
            index = self._turn % len(self._targets)
            self._turn += 1
            try:
                upstream = socket.create_connection(self._targets[index], timeout=2)
            except OSError:
                continue
            upstream.settimeout(None)
            self.served[index] += 1
            return upstream
        return None

    def _pump(self, source: socket.socket, sink: socket.socket) -> None:
        try:
            while data := source.recv(65536):
                sink.sendall(data)
        except OSError:
            pass
        finally:
            with self._lock:
                self._sockets.difference_update((source, sink))
            for sock in (source, sink):
                with contextlib.suppress(OSError):
                    sock.shutdown(socket.SHUT_RDWR)
                sock.close()
