"""The interceptor: every TCP connection the device opens, answered by the bench.

The gateway's rules redirect each connection here, whatever address and port
the device dialled; the original destination comes back from conntrack
(``SO_ORIGINAL_DST``). A connection that starts with a TLS handshake meets the
front door (bench/labnet/streams.py, certificates from bench/labnet/lab_ca.py);
its verdict says what the device made of the forged certificate:

    refused               it aborted the handshake (it validates, or it pins the key)
    accepted              it completed the handshake and sent data: plaintext is read
    accepted-then-closed  it completed the handshake and closed without sending
                          (a pin checked after the handshake looks like this)
    plain                 no TLS at all
    silent                it connected and sent nothing
    sealed                passed through unread to the cloud the bench stands in for
                          (``passthrough``): only its server name and the lengths of its
                          TLS records are seen

Readable plaintext (MQTT or HTTP) is relayed to the bench's own broker or HTTP
endpoint, which capture it as uplink records; anything else is read and counted.
An interceptor with no namespace listens on 127.0.0.1 of the bench's own and
takes each connection's local address as its destination.
"""

from __future__ import annotations

import contextlib
import selectors
import socket
import ssl
import struct
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from .client_hello import server_name
from .lab_ca import LabCA
from .netns import socket_in
from .streams import PlainStream, RecordLengths, TlsStream

SO_ORIGINAL_DST = 80
FIRST_BYTE_S = 5.0  # how long a connection may stay silent before it is judged so
IDLE_S = 30.0  # a relayed connection quiet this long is closed
MAX_CONNECTIONS = 64  # handled at once; more are closed at once and counted
HTTP_METHODS = (b"GET ", b"POST", b"PUT ", b"HEAD", b"PATC", b"DELE", b"OPTI")
MQTT_CONNECT = 0x10
TLS_HANDSHAKE = 0x16
MAX_HELLO = 16384 + 5  # one TLS record: the most a ClientHello is waited for

#: (protocol, host the device meant) -> (address, port) of the bench's server for it, or None
Upstream = Callable[[str, str], "tuple[str, int] | None"]


@dataclass
class Connection:
    """One intercepted connection, as the bench saw it."""

    number: int
    address: str  # the original destination the device dialled
    port: int
    opened_ns: int
    name: str = ""  # the host name: SNI, else the name DNS answered with this address
    sni: str = ""
    tls: str = ""  # the negotiated TLS version
    verdict: str = ""
    protocol: str = ""  # mqtt, http or "" when unreadable
    error: str = ""
    action: str = ""  # the bench action during which it was opened
    bytes_up: int = 0  # plaintext (or raw, when unreadable) from the device
    bytes_down: int = 0
    record_lengths: list[int] = field(default_factory=list)
    record_types: list[int] = field(default_factory=list)
    records_more: int = 0
    reported: bool = False  # on_open was called
    closed_ns: int = 0

    @property
    def host(self) -> str:
        """What the device connected to, as a destination: its name, else its address."""
        return self.name or self.address


class Interceptor:
    """Accepts the redirected connections in namespace ``namespace``; ``start``, ``stop``.

    ``on_open(connection)`` is called once the verdict is known, ``on_close`` when it
    ended; ``name_of(address)`` is the lab DNS's name for an address it handed out;
    ``passthrough("tls", host)`` names where a TLS connection to ``host`` is passed
    through sealed (None: the front door meets it).
    """

    def __init__(self, namespace: str | None, ca: LabCA, upstream: Upstream,
                 name_of: Callable[[str], str], on_open: Callable[[Connection], None],
                 on_close: Callable[[Connection], None], passthrough: Upstream | None = None) -> None:
        self.ca, self.upstream, self.name_of = ca, upstream, name_of
        self.on_open, self.on_close = on_open, on_close
        self.passthrough: Upstream = passthrough or (lambda _protocol, _host: None)
        self._listener = (socket_in(namespace, socket.SOCK_STREAM) if namespace is not None
                          else socket.socket(socket.AF_INET, socket.SOCK_STREAM))
        self._listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._listener.bind(("0.0.0.0" if namespace is not None else "127.0.0.1", 0))
        self._listener.listen(64)
        self.port = int(self._listener.getsockname()[1])
        self.turned_away = 0
        self._numbers = 0
        self._open: set[socket.socket] = set()  # shut at stop, so no handler outlives the lab
        self._judged = 0
        self._active = 0
        self._cond = threading.Condition()
        self._thread: threading.Thread | None = None
        self._stopping = False

    def start(self) -> None:
        self._thread = threading.Thread(target=self._accept, name="lab interceptor", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stopping = True
        with contextlib.suppress(OSError):
            self._listener.shutdown(socket.SHUT_RDWR)
        self._listener.close()
        if self._thread is not None:
            self._thread.join(5.0)
        with self._cond:
            still_open = list(self._open)
        for sock in still_open:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
        self.wait_idle(FIRST_BYTE_S)

    def wait_idle(self, timeout: float) -> bool:
        """Wait until no connection is being judged; False on timeout."""
        with self._cond:
            return self._cond.wait_for(lambda: self._active == 0, timeout)

    def wait_judged(self, count: int, timeout: float) -> bool:
        """Wait until ``count`` connections have been accepted and judged."""
        with self._cond:
            return self._cond.wait_for(lambda: self._judged >= count, timeout)

    @property
    def accepted(self) -> int:
        with self._cond:
            return self._numbers

    # -- accepting ----------------------------------------------------------------

    def _accept(self) -> None:
        while not self._stopping:
            try:
                sock, _peer = self._listener.accept()
            except OSError:
                return
            with self._cond:
                if self._active >= MAX_CONNECTIONS:
                    self.turned_away += 1
                    sock.close()
                    continue
                self._active += 1
                self._numbers += 1
                number = self._numbers
                self._open.add(sock)
            threading.Thread(target=self._serve, args=(sock, number), daemon=True,
                             name=f"lab connection {number}").start()

    def _serve(self, sock: socket.socket, number: int) -> None:
        address, port = _original_destination(sock)
        conn = Connection(number, address, port, time.time_ns(), name=self.name_of(address))
        try:
            with sock:
                self._handle(sock, conn)
        except (OSError, ssl.SSLError, ValueError) as exc:
            conn.error = conn.error or f"{type(exc).__name__}: {exc}"[:200]
        finally:
            if not conn.reported:  # it ended before a verdict was reported: report it now
                conn.verdict = conn.verdict or "silent"
                self._opened(conn)
            conn.closed_ns = time.time_ns()
            self.on_close(conn)
            with self._cond:
                self._active -= 1
                self._open.discard(sock)
                self._cond.notify_all()

    def _opened(self, conn: Connection) -> None:
        conn.reported = True
        self.on_open(conn)
        with self._cond:
            self._judged += 1
            self._cond.notify_all()

    # -- judging ------------------------------------------------------------------

    def _handle(self, sock: socket.socket, conn: Connection) -> None:
        sock.settimeout(FIRST_BYTE_S)
        try:
            first = sock.recv(1, socket.MSG_PEEK)
        except TimeoutError:
            return  # silent
        if not first:
            return
        sock.settimeout(IDLE_S)
        if first[0] != TLS_HANDSHAKE:
            conn.verdict = "plain"
            self._relay(PlainStream(sock), sock, conn, None)
            return
        conn.sni = server_name(_peek_record(sock))
        conn.name = conn.sni or conn.name
        sealed_to = self.passthrough("tls", conn.host)
        if sealed_to is not None:
            self._pass_sealed(sock, conn, sealed_to)
            return
        door = TlsStream(sock, self.ca.fresh_context(conn.host), self.ca.context_for)
        try:
            door.handshake()
        except (ssl.SSLError, ConnectionError) as exc:
            conn.sni = door.sni
            conn.name = door.sni or conn.name
            conn.verdict, conn.error = "refused", _reason(exc)
            self._keep_records(conn, door)
            self._opened(conn)
            return
        conn.sni, conn.tls = door.sni, door.version
        conn.name = door.sni or conn.name
        self._relay(door, sock, conn, door)

    def _relay(self, stream: PlainStream | TlsStream, sock: socket.socket, conn: Connection,
               door: TlsStream | None) -> None:
        try:
            first = stream.recv()
        except OSError as exc:  # a reset: closed with our session tickets unread
            first, conn.error = b"", f"{type(exc).__name__}: {exc}"[:200]
        if not first:
            if door is not None:
                conn.verdict = "accepted-then-closed"
                self._keep_records(conn, door)
            self._opened(conn)
            return
        if door is not None:
            conn.verdict = "accepted"
        conn.protocol = _protocol(first)
        conn.bytes_up += len(first)
        target = self.upstream(conn.protocol, conn.host) if conn.protocol else None
        self._opened(conn)
        try:
            if target is None:
                self._sink(stream, conn)
            else:
                with socket.create_connection(target, timeout=IDLE_S) as up:
                    up.sendall(first)
                    self._pump(stream, sock, up, conn)
        finally:
            if door is not None:
                self._keep_records(conn, door)

    def _pass_sealed(self, sock: socket.socket, conn: Connection, target: tuple[str, int]) -> None:
        """Splice the raw bytes to ``target`` and back, keeping only the records' lengths."""
        conn.verdict = "sealed"
        self._opened(conn)
        lengths = RecordLengths()
        with socket.create_connection(target, timeout=IDLE_S) as up:
            self._pump(PlainStream(sock), sock, up, conn, lengths)
        conn.record_lengths, conn.record_types = list(lengths.lengths), list(lengths.types)
        conn.records_more = lengths.more

    def _sink(self, stream: PlainStream | TlsStream, conn: Connection) -> None:
        while data := stream.recv():
            conn.bytes_up += len(data)

    def _pump(self, stream: PlainStream | TlsStream, sock: socket.socket, up: socket.socket,
              conn: Connection, lengths: RecordLengths | None = None) -> None:
        with selectors.DefaultSelector() as sel:
            sel.register(sock, selectors.EVENT_READ, "device")
            sel.register(up, selectors.EVENT_READ, "bench")
            while len(sel.get_map()):
                ready = sel.select(IDLE_S)
                if not ready:
                    return
                for key, _ in ready:
                    if key.data == "device":
                        data = stream.recv()
                        conn.bytes_up += len(data)
                        if lengths is not None:
                            lengths.feed(data)
                        if not data:
                            sel.unregister(sock)
                            with contextlib.suppress(OSError):
                                up.shutdown(socket.SHUT_WR)
                            continue
                        up.sendall(data)
                    else:
                        data = up.recv(65536)
                        if not data:
                            return
                        conn.bytes_down += len(data)
                        stream.send(data)

    def _keep_records(self, conn: Connection, door: TlsStream) -> None:
        conn.record_lengths, conn.record_types = list(door.records.lengths), list(door.records.types)
        conn.records_more = door.records.more


def _original_destination(sock: socket.socket) -> tuple[str, int]:
    """Where the device meant to connect, from conntrack (``SO_ORIGINAL_DST``); for a
    connection nothing redirected, the address it reached."""
    try:
        raw = sock.getsockopt(socket.SOL_IP, SO_ORIGINAL_DST, 16)
    except OSError:
        address, port = sock.getsockname()[:2]
        return str(address), int(port)
    port, packed = struct.unpack_from("!2xH4s", raw)
    return socket.inet_ntoa(packed), int(port)


def _peek_record(sock: socket.socket) -> bytes:
    """The first TLS record the device sent, peeked (left in place for whoever reads on)."""
    data = b""
    for _ in range(64):  # a hello arrives in a few segments at most
        data = sock.recv(MAX_HELLO, socket.MSG_PEEK)
        if len(data) >= 5 and len(data) >= 5 + int.from_bytes(data[3:5], "big"):
            break
        if not data:
            break
        time.sleep(0.005)  # more is on its way; a peek cannot block for "more than this"
    return data


def _protocol(first: bytes) -> str:
    if first[0] == MQTT_CONNECT:
        return "mqtt"
    if first[:4] in HTTP_METHODS:
        return "http"
    return ""


def _reason(exc: BaseException) -> str:
    if isinstance(exc, ssl.SSLError):
        return str(exc.reason or exc.strerror or exc)[:120]
    return str(exc)[:120]


__all__ = ["Connection", "Interceptor", "Upstream"]
