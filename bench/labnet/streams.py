"""A connection from the device as a byte stream, plain or behind the lab's TLS front door.

``TlsStream`` terminates TLS with OpenSSL (the ``ssl`` module's ``SSLObject`` over
memory BIOs), so the bench sees every raw record the device sends before it is
decrypted: their lengths are kept (``record_lengths``), which is all a sealed
connection shows, and what a ciphertext differential compares.
"""

from __future__ import annotations

import socket
import ssl
from collections.abc import Callable

CHUNK = 65536
MAX_RECORDS = 1024  # record lengths kept per connection; more are counted, not kept


class PlainStream:
    """The device's bytes as they came."""

    def __init__(self, sock: socket.socket) -> None:
        self.sock = sock

    def recv(self) -> bytes:
        return self.sock.recv(CHUNK)

    def send(self, data: bytes) -> None:
        self.sock.sendall(data)


class RecordLengths:
    """Splits the raw stream into TLS records (5-byte headers) and keeps their lengths."""

    def __init__(self) -> None:
        self.lengths: list[int] = []
        self.types: list[int] = []
        self.more = 0  # records past MAX_RECORDS
        self._header = b""
        self._left = 0

    def feed(self, data: bytes) -> None:
        view = memoryview(data)
        while view:
            if self._left:
                step = min(self._left, len(view))
                self._left -= step
                view = view[step:]
                continue
            need = 5 - len(self._header)
            self._header += bytes(view[:need])
            view = view[need:]
            if len(self._header) == 5:
                length = int.from_bytes(self._header[3:5], "big")
                if len(self.lengths) < MAX_RECORDS:
                    self.lengths.append(length)
                    self.types.append(self._header[0])
                else:
                    self.more += 1
                self._header, self._left = b"", length


class TlsStream:
    """A server-side TLS session over ``sock``; ``handshake`` first.

    ``context`` is this connection's own (its SNI callback is set here);
    ``on_sni`` hears the server name the device asked for and returns the context
    (the lab certificate) to answer with.
    """

    def __init__(self, sock: socket.socket, context: ssl.SSLContext,
                 on_sni: Callable[[str], ssl.SSLContext]) -> None:
        self.sock = sock
        self.sni = ""
        self.records = RecordLengths()
        self._in, self._out = ssl.MemoryBIO(), ssl.MemoryBIO()
        context.sni_callback = self._sni(on_sni)
        self._tls = context.wrap_bio(self._in, self._out, server_side=True)
        self.version = ""

    def _sni(self, on_sni: Callable[[str], ssl.SSLContext]
             ) -> Callable[[ssl.SSLObject, str | None, ssl.SSLContext], None]:
        def chosen(tls: ssl.SSLObject, name: str | None, _context: ssl.SSLContext) -> None:
            if name:
                self.sni = name[:253]
                tls.context = on_sni(self.sni)
        return chosen

    def handshake(self) -> None:
        """Complete the handshake.

        Raises:
            ssl.SSLError: the device refused (an alert) or spoke no TLS.
            ConnectionError: the device closed during the handshake.
        """
        while True:
            try:
                self._tls.do_handshake()
                self.version = self._tls.version() or ""
                self._flush()
                return
            except ssl.SSLWantReadError:
                self._flush()
                if not self._pull():
                    raise ConnectionError("closed during the handshake") from None
            except ssl.SSLError:
                self._flush()  # our alert, if any, goes out
                raise

    def recv(self) -> bytes:
        """Plaintext the device sent (all that one raw read gave); b"" when it closed."""
        out = bytearray()
        while True:
            try:
                out += self._tls.read(CHUNK)
                if not self._tls.pending() and not self._in.pending:
                    return bytes(out)  # b"" only when the device closed
            except ssl.SSLWantReadError:
                self._flush()
                if out:
                    return bytes(out)
                if not self._pull():
                    return b""
            except (ssl.SSLZeroReturnError, ssl.SSLEOFError):
                return bytes(out)

    def send(self, data: bytes) -> None:
        self._tls.write(data)
        self._flush()

    def _pull(self) -> bool:
        data = self.sock.recv(CHUNK)
        if not data:
            self._in.write_eof()
            return False
        self.records.feed(data)
        self._in.write(data)
        return True

    def _flush(self) -> None:
        data = self._out.read()
        if data:
            self.sock.sendall(data)


__all__ = ["PlainStream", "RecordLengths", "TlsStream"]
