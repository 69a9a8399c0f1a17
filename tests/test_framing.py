"""The frame layer: COBS, CRC, header rules, and a stream chunked any way."""

import pytest
from cobs import cobs
from hypothesis import given
from hypothesis import strategies as st

from brewbench.drivers.errors import FrameError
from brewbench.drivers.framing import (
    HEADER,
    MAX_ENCODED,
    FrameSplitter,
    crc16,
    decode_frame,
    encode_frame,
)
from brewbench.drivers.messages import Kind, Message, MsgType, decode_message, decode_wire


def test_message_round_trips_through_a_frame() -> None:
    message = Message(Kind.REQUEST, MsgType.BREW, 513, {"drink": "latte", "strength": 4})
    wire = message.encode()
    assert wire.endswith(b"\x00") and b"\x00" not in wire[:-1]
    assert decode_message(decode_frame(wire[:-1])) == message


def test_crc_mismatch_is_a_frame_error() -> None:
    wire = bytearray(Message(Kind.EVENT, MsgType.TELEMETRY, 1, {"t": 1}).encode())
    wire[3] ^= 0x40
    with pytest.raises(FrameError, match=r"CRC mismatch|COBS"):
        decode_frame(bytes(wire[:-1]))


def test_oversize_frame_is_refused_when_encoding() -> None:
    with pytest.raises(FrameError, match="exceeds MAX_FRAME"):
        encode_frame(Kind.EVENT, 1, MsgType.EVENT, b"x" * 9000)


def test_a_body_that_is_not_a_map_is_a_frame_error() -> None:
    wire = encode_frame(Kind.EVENT, 1, MsgType.EVENT, b"\x83\x01\x02\x03")  # CBOR [1, 2, 3]
    with pytest.raises(FrameError, match="expected a map"):
        decode_message(decode_frame(wire[:-1]))


def test_splitter_resynchronises_after_garbage() -> None:
    good = Message(Kind.EVENT, MsgType.EVENT, 7, {"event": "x"}).encode()
    spans = list(FrameSplitter().feed(b"\x05\x01garbage\x00" + good))
    assert spans[0].error is not None
    assert spans[1].frame is not None and spans[1].frame.seq == 7


def test_splitter_drops_a_run_without_delimiter_once() -> None:
    splitter = FrameSplitter()
    spans = list(splitter.feed(b"\x01" * (MAX_ENCODED + 1)))
    assert len(spans) == 1 and spans[0].error is not None
    good = Message(Kind.EVENT, MsgType.EVENT, 9, {}).encode()
    after = list(splitter.feed(b"\x01\x01\x00" + good))  # the tail of the babble, then a frame
    assert [s.frame.seq for s in after if s.frame] == [9]
    assert all(s.error is None for s in after)


@given(st.lists(st.dictionaries(st.text(max_size=8), st.integers() | st.text(max_size=20),
                                max_size=5), min_size=1, max_size=8),
       st.lists(st.integers(min_value=1, max_value=64), min_size=1, max_size=20))
def test_any_chunking_yields_the_same_messages(bodies: list[dict[str, object]],
                                               cuts: list[int]) -> None:
    messages = [Message(Kind.EVENT, MsgType.EVENT, n, body) for n, body in enumerate(bodies)]
    stream = b"".join(m.encode() for m in messages)
    splitter, seen, pos = FrameSplitter(), [], 0
    for cut in cuts * (len(stream) // max(sum(cuts), 1) + 1):
        chunk, pos = stream[pos : pos + cut], pos + cut
        seen += [decode_message(s.frame) for s in splitter.feed(chunk) if s.frame]
    seen += [decode_message(s.frame) for s in splitter.feed(stream[pos:]) if s.frame]
    assert seen == messages


def _both_ways(encoded: bytes) -> tuple[object, object]:
    """What decode_wire and decode_message(decode_frame) make of the same bytes."""
    results = []
    for decode in (decode_wire, lambda e: decode_message(decode_frame(e))):
        try:
            results.append(decode(encoded))
        except FrameError as exc:
            results.append(str(exc))  # type: ignore[arg-type]
    return results[0], results[1]


@given(st.dictionaries(st.text(max_size=8), st.integers() | st.text(max_size=20), max_size=5),
       st.integers(min_value=0, max_value=400), st.integers(min_value=0, max_value=255))
def test_the_fused_decoder_agrees_with_the_layered_one(body: dict[str, object], where: int,
                                                      flip: int) -> None:
    wire = Message(Kind.EVENT, MsgType.TELEMETRY, 3, body).encode()[:-1]
    fused, layered = _both_ways(wire)
    assert isinstance(fused, Message) and fused == layered
    damaged = bytearray(wire)
    damaged[where % len(damaged)] ^= flip
    assert _both_ways(bytes(damaged).replace(b"\x00", b"\x01"))[0] == _both_ways(
        bytes(damaged).replace(b"\x00", b"\x01"))[1]


@pytest.mark.parametrize("kind, version, body, error", [
    (7, 1, b"\xa0", "unknown message kind 7"),
    (2, 2, b"\xa0", "unsupported protocol version 2"),
    (2, 1, b"\x83\x01\x02\x03", "expected a map"),
    (2, 1, b"\xff", "not valid CBOR"),
])
def test_the_fused_decoder_names_each_flaw(kind: int, version: int, body: bytes,
                                           error: str) -> None:
    inner = HEADER.pack(version, kind, 1, MsgType.EVENT) + body
    encoded = bytes(cobs.encode(inner + crc16(inner).to_bytes(2, "big")))
    fused, layered = _both_ways(encoded)
    assert fused == layered and error in str(fused)
    assert "shorter than" in str(_both_ways(b"\x03\x01\x01")[0])


def test_split_gives_what_feed_decodes() -> None:
    good = Message(Kind.EVENT, MsgType.EVENT, 9, {}).encode()
    stream = b"\x00\x00" + good + b"\x05\x01bad\x00" + good[:4]
    complete, dropped = FrameSplitter().split(stream)
    spans = list(FrameSplitter().feed(stream))
    assert complete == [s.encoded for s in spans] and dropped is None
    assert [decode_wire(complete[0]).seq] == [9]
    splitter = FrameSplitter()
    assert splitter.split(b"\x01" * (MAX_ENCODED + 1)) == ([], b"\x01" * (MAX_ENCODED + 1))
    assert splitter.split(b"\x01\x00" + good) == ([good[:-1]], None)
