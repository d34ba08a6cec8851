"""A minimal RFC 6587 octet-counting syslog receiver on loopback that can be taken down (listener
and every connection closed) and brought back on the same port."""

from __future__ import annotations

import contextlib
import socket
import threading
from dataclasses import dataclass, field

import orjson


@dataclass
class SyslogReceiver:
    port: int = 0
    frames: list[bytes] = field(default_factory=list)
    connections: int = 0
    _listener: socket.socket | None = None
    _conns: list[socket.socket] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def up(self) -> None:
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(("127.0.0.1", self.port))
        sock.listen(16)
        self.port = sock.getsockname()[1]
        self._listener = sock
        threading.Thread(target=self._accept, args=(sock,), daemon=True).start()

    def down(self) -> None:
        with self._lock:
            listener, self._listener = self._listener, None
            conns, self._conns = self._conns, []
        if listener is not None:
            # shutdown wakes the thread blocked in accept(); close() alone would not (Linux)
            with contextlib.suppress(OSError):
                listener.shutdown(socket.SHUT_RDWR)
            listener.close()
        for conn in conns:
            with contextlib.suppress(OSError):
                conn.shutdown(socket.SHUT_RDWR)
            conn.close()

    def _accept(self, listener: socket.socket) -> None:
        while True:
            try:
                conn, _ = listener.accept()
            except OSError:
                return
            with self._lock:
                self._conns.append(conn)
                self.connections += 1
            threading.Thread(target=self._read, args=(conn,), daemon=True).start()

    def _read(self, conn: socket.socket) -> None:
        buffer = b""
        while True:
            try:
                data = conn.recv(65536)
            except OSError:
                return
            if not data:
                return  # a partial frame at the end is dropped, as a real receiver would
            buffer += data
            while True:
                space = buffer.find(b" ")
                if space < 0:
                    break
                length = int(buffer[:space])
                if len(buffer) < space + 1 + length:
                    break
                frame = buffer[space + 1 : space + 1 + length]
                buffer = buffer[space + 1 + length :]
                with self._lock:
                    self.frames.append(frame)

    def record_ids(self) -> list[str]:
        """recordId of every received message (the JSON after the structured data)."""
        with self._lock:
            frames = list(self.frames)
        ids = []
        for frame in frames:
            body = frame[frame.index(b"] ") + 2 :]
            ids.append(str(orjson.loads(body)["recordId"]))
        return ids
