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
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Any

from ...drivers.ecam.frames import EcamSplitter
from ...drivers.errors import FrameError
from ...drivers.framing import FrameSplitter, oversize_error
from ...drivers.messages import decode_wire
from ...drivers.records import RX, TX, Record, Stamp
from ..capture import IDLE, Capture, Entry
from .att import FROM_SERVER, AttValue, att_values
from .btsnoop import read_btsnoop, unix_ns
from .ecam_values import ecam_records, has_ecam_frame

__all__ = ["CHANNEL", "import_btsnoop"]

CHANNEL = "ble"
Stream = tuple[int, int | None, str]  # connection, handle, direction


def import_btsnoop(path: Path) -> Capture:
    """The ATT traffic of a btsnoop file.

    Raises:
        BtsnoopError: the file is not a btsnoop log this bench can read.
        OSError: it cannot be read.
    """
    packets = read_btsnoop(path)
    values = list(att_values(packets))
    framed = _framed_streams(values)
    ecam = _ecam_streams(values, framed)
    splitters = {stream: FrameSplitter() for stream in framed}
    ecam_splitters = {stream: EcamSplitter() for stream in ecam}
    records: list[Record] = []
    for value in values:
        stream = _stream(value)
        if stream in splitters:
            records += _frame_records(value, splitters[stream])
        elif stream in ecam_splitters:
            records += ecam_records(_stamp(value), stream[2], _details(value),
                                    value.value, ecam_splitters[stream])
        else:
            records += _link_record(value)
    capture = Capture(f"btsnoop:{path.name}", {
        "source": str(path), "imported": "btsnoop", "transport": CHANNEL,
        "btsnoop": {"packets": len(packets), "att_values": len(values),
                    "framed_handles": sorted({h for _, h, _ in framed if h is not None}),
                    "ecam_handles": sorted({h for _, h, _ in ecam if h is not None})}})
    capture.entries.extend(Entry(IDLE, record) for record in records)
    return capture


def _stream(value: AttValue) -> Stream:
    return value.connection, value.handle, RX if value.op in FROM_SERVER else TX


def _framed_streams(values: Iterable[AttValue]) -> set[Stream]:
    """The streams in which at least one CM-500 frame decodes."""
    splitters: dict[Stream, FrameSplitter] = {}
    framed: set[Stream] = set()
    for value in values:
        stream = _stream(value)
        if stream in framed:
            continue
        complete, _ = splitters.setdefault(stream, FrameSplitter()).split(value.value)
        if any(_decodes(encoded) for encoded in complete):
            framed.add(stream)
    return framed


def _ecam_streams(values: Iterable[AttValue], framed: set[Stream]) -> set[Stream]:
    """The streams, other than CM-500 ones, in which at least one ECAM frame decodes."""
    splitters: dict[Stream, EcamSplitter] = {}
    found: set[Stream] = set()
    for value in values:
        stream = _stream(value)
        if stream in framed or stream in found:
            continue
        if has_ecam_frame(splitters.setdefault(stream, EcamSplitter()), value.value):
            found.add(stream)
    return found


def _decodes(encoded: bytes) -> bool:
    try:
        decode_wire(encoded)
    except FrameError:
        return False
    return True


def _details(value: AttValue) -> dict[str, Any]:
    return {"gatt": value.op, "handle": value.handle, "connection": value.connection,
            "packet": value.packet.number}


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
