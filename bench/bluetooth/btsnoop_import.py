"""A btsnoop log (a phone's ``btsnoop_hci.log``) as a brewbench capture on channel ``ble``.

Every ATT write, notification, indication and read value becomes a record:

    direction  tx for writes (to the machine), rx for notifications,
               indications and read values (from it), whichever side wrote the log
    stamp      the log's timestamp (both clocks: a file has one)
    meta       gatt (write, write_command, notify, indicate, read, read_blob),
               handle, connection, packet (its number as Wireshark shows it),
               and value (the text, when the bytes are printable UTF-8)

A handle whose values carry CM-500 frames (docs/protocol.md: COBS, CRC) is
treated as the byte stream it is: its values are joined, split at the frame
delimiters and each frame decoded, exactly as a live ``ble://`` connection
does, so the capture classifies like one. A handle carrying De'Longhi ECAM
frames (drivers/ecam) is joined and split the same way; each frame becomes a
record whose meta adds ``family`` (ecam), ``command``, ``data`` (hex) and, for a
monitor answer, ``status`` (its named fields). Records are attributed to
``idle`` (the log has no bench actions).

A log of any size imports in bounded memory: the file is read record by record,
once to find the framed handles and once to make the records, and the records
go through the capture's budget (bench/capture_budget.py: what is past it is
counted and digested, and said). A damaged record after good ones ends the
reading and is said in ``meta["btsnoop"]["damaged"]``; the packets before it stay.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

from ...drivers.ecam.frames import EcamSplitter
from ...drivers.errors import FrameError
from ...drivers.framing import FrameSplitter, oversize_error
from ...drivers.messages import decode_wire
from ...drivers.records import RX, TX, Record, Stamp
from ..capture import IDLE, Capture
from .att import FROM_SERVER, AttValue, att_values
from .btsnoop import BtsnoopError, HciPacket, iter_btsnoop, unix_ns
from .ecam_values import ecam_records, has_ecam_frame

__all__ = ["CHANNEL", "import_btsnoop"]

CHANNEL = "ble"
Stream = tuple[int, int | None, str]  # connection, handle, direction
MAX_STREAMS = 1024  # streams looked at for frames; a phone's log has a few dozen


def import_btsnoop(path: Path) -> Capture:
    """The ATT traffic of a btsnoop file.

    Raises:
        BtsnoopError: the file is not a btsnoop log this bench can read.
        OSError: it cannot be read.
    """
    reading = _Reading(path)
    framed, ecam = _framed_streams(att_values(reading.packets()))
    splitters = {stream: FrameSplitter() for stream in framed}
    ecam_splitters = {stream: EcamSplitter() for stream in ecam}
    capture = Capture(f"btsnoop:{path.name}", {"source": str(path), "imported": "btsnoop",
                                               "transport": CHANNEL}, bench_requests=False)
    values = 0
    for value in att_values(reading.packets()):
        values += 1
        stream = _stream(value)
        if stream in splitters:
            records = _frame_records(value, splitters[stream])
        elif stream in ecam_splitters:
            records = ecam_records(_stamp(value), stream[2], _details(value), value.value,
                                   ecam_splitters[stream])
        else:
            records = _link_record(value)
        capture.keep(records, IDLE)
    capture.meta["btsnoop"] = {
        "packets": reading.count, "att_values": values,
        "framed_handles": sorted({h for _, h, _ in framed if h is not None}),
        "ecam_handles": sorted({h for _, h, _ in ecam if h is not None}),
        **({"damaged": reading.damaged} if reading.damaged else {})}
    return capture


class _Reading:
    """The file's packets, read again for each pass; a damaged record after good ones
    ends each pass there (and is remembered), one before any packet is the file's error."""

    def __init__(self, path: Path) -> None:
        self.path, self.count, self.damaged = path, 0, ""

    def packets(self) -> Iterator[HciPacket]:
        self.count = 0
        try:
            for packet in iter_btsnoop(self.path):
                self.count += 1
                yield packet
        except BtsnoopError as exc:
            if not self.count:
                raise
            self.damaged = f"{exc}: the {self.count} packet(s) before it are kept"


def _stream(value: AttValue) -> Stream:
    return value.connection, value.handle, RX if value.op in FROM_SERVER else TX


def _framed_streams(values: Iterable[AttValue]) -> tuple[set[Stream], set[Stream]]:
    """The streams in which at least one CM-500 frame decodes, and those (others) in which
    an ECAM frame does, in one pass. Only the first ``MAX_STREAMS`` streams are looked
    at (each holds a splitter): a log of a million handles cannot grow memory with them."""
    splitters: dict[Stream, tuple[FrameSplitter, EcamSplitter]] = {}
    framed: set[Stream] = set()
    ecam: set[Stream] = set()
    for value in values:
        stream = _stream(value)
        if stream in framed or (stream not in splitters and len(splitters) >= MAX_STREAMS):
            continue
        cm500, ecam_splitter = splitters.setdefault(stream, (FrameSplitter(), EcamSplitter()))
        complete, _ = cm500.split(value.value)
        if any(_decodes(encoded) for encoded in complete):
            framed.add(stream)
        elif stream not in ecam and has_ecam_frame(ecam_splitter, value.value):
            ecam.add(stream)
    return framed, ecam - framed


def _decodes(encoded: bytes) -> bool:
    try:
        decode_wire(encoded)
    except FrameError:
        return False
    return True


def _details(value: AttValue) -> dict[str, Any]:
    details = {"gatt": value.op, "handle": value.handle, "connection": value.connection,
               "packet": value.packet.number}
    if value.parts_dropped:
        details["parts_dropped"] = value.parts_dropped  # of a long write past its bound
    return details


def _stamp(value: AttValue) -> Stamp:
    ns = unix_ns(value.packet.timestamp_us)
    return Stamp(ns, ns)


def _link_record(value: AttValue) -> list[Record]:
    meta = _details(value)
    text = _text(value.value)
    if text is not None:
        meta["value"] = text
    return [Record(CHANNEL, _stream(value)[2], _stamp(value), value.value, meta=meta)]


def _frame_records(value: AttValue, splitter: FrameSplitter) -> list[Record]:
    direction, stamp, meta = _stream(value)[2], _stamp(value), _details(value)
    complete, dropped = splitter.split(value.value)
    out = []
    for encoded in complete:
        try:
            out.append(Record(CHANNEL, direction, stamp, encoded + b"\x00", decode_wire(encoded),
                              meta=meta))
        except FrameError as exc:
            out.append(Record(CHANNEL, direction, stamp, encoded, error=str(exc), meta=meta))
    if dropped is not None:
        out.append(Record(CHANNEL, direction, stamp, dropped[:256], error=str(oversize_error()),
                          meta=meta))
    return out


def _text(data: bytes) -> str | None:
    """The bytes as text when they are printable UTF-8 (a name, a serial number)."""
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        return None
    return text if text and text.isprintable() else None
