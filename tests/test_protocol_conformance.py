"""docs/protocol.md, statement by statement, against the emulator.

The client here is written from the document alone: pyserial on the emulator's pty,
the codec's framing functions, cbor2. It does not use the CoffeeMachine driver or
the Connection, so what passes here is what any client written from the spec sees.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import cbor2
import pytest
import serial
from cobs import cobs

from brewbench.drivers.framing import MAX_ENCODED, MAX_FRAME, crc16
from brewbench.drivers.messages import ErrorCode, Kind, Message, MsgType, decode_wire
from brewbench.emulator.serve import Emulator

HELLO = {"versions": [1], "max_frame": 8192, "client": "spec-client"}
NO_ANSWER = 0.4  # seconds a client waits before concluding a frame was discarded


def wire(kind: int, seq: int, type_code: int, body: bytes, version: int = 1) -> bytes:
    """A frame built by hand as section 2 describes, with no size limit."""
    inner = bytes([version, kind]) + seq.to_bytes(2, "big") + bytes([type_code]) + body
    inner += crc16(inner).to_bytes(2, "big")
    return bytes(cobs.encode(inner)) + b"\x00"


class SpecClient:
    """A host from docs/protocol.md: numbers requests 1..65535, matches answers by seq."""

    def __init__(self, url: str) -> None:
        self.port = serial.Serial(url, timeout=0.02)
        self.buffer = bytearray()
        self.frames: list[Message] = []  # decoded, not yet taken
        self.seq = 0

    def next_seq(self) -> int:
        self.seq = self.seq % 0xFFFF + 1
        return self.seq

    def write(self, data: bytes) -> None:
        self.port.write(data)

    def send(self, type_code: int, body: Any = None, raw: bytes | None = None) -> int:
        seq = self.next_seq()
        payload = raw if raw is not None else cbor2.dumps({} if body is None else body)
        self.write(wire(Kind.REQUEST, seq, type_code, payload))
        return seq

    def pump(self) -> None:
        data = self.port.read(max(1, self.port.in_waiting))
        self.buffer += data
        *spans, rest = bytes(self.buffer).split(b"\x00")
        self.buffer = bytearray(rest)
        self.frames += [decode_wire(span) for span in spans if span]

    def answer(self, seq: int, timeout: float = 3.0) -> tuple[Message, list[Message]]:
        """The response or error carrying ``seq``, and the events that came before it."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            self.pump()
            for at, message in enumerate(self.frames):
                if message.kind in (Kind.RESPONSE, Kind.ERROR) and message.seq == seq:
                    before, self.frames = self.frames[:at], self.frames[at + 1 :]
                    return message, before
        raise AssertionError(f"no answer to seq {seq} within {timeout}s")

    def call(self, type_code: int, body: Any = None, raw: bytes | None = None) -> Message:
        return self.answer(self.send(type_code, body, raw))[0]

    def silent(self) -> bool:
        """True if nothing but events arrive for NO_ANSWER seconds."""
        deadline = time.monotonic() + NO_ANSWER
        while time.monotonic() < deadline:
            self.pump()
        return all(m.kind is Kind.EVENT for m in self.frames)


@pytest.fixture
def emulator() -> Iterator[Emulator]:
    with Emulator("2.1") as running:
        yield running


@pytest.fixture
def client(emulator: Emulator) -> Iterator[SpecClient]:
    host = SpecClient(emulator.url)
    try:
        assert host.call(MsgType.HELLO, HELLO).kind is Kind.RESPONSE
        yield host
    finally:
        host.port.close()


def error_code(message: Message) -> int:
    assert message.kind is Kind.ERROR, message
    assert isinstance(message.body["message"], str)
    return int(message.body["code"])


# -- section 2: framing --------------------------------------------------------------------


def test_worked_example_is_answered(client: SpecClient) -> None:
    client.write(bytes.fromhex("02 01 01 06 01 02 a0 af 08 00"))  # IDENTIFY, seq 1
    answer, _ = client.answer(1)
    assert answer.kind is Kind.RESPONSE and answer.type == MsgType.IDENTIFY


def test_empty_frames_are_ignored_and_a_lone_delimiter_flushes(client: SpecClient) -> None:
    client.write(b"\x00\x00\x00")
    assert client.call(MsgType.STATUS).body["state"] == "ready"


@pytest.mark.parametrize("spoil", ["crc", "cobs", "short", "version", "kind", "not_a_map"])
def test_discarded_frames_get_no_answer_and_the_next_one_does(client: SpecClient,
                                                              spoil: str) -> None:
    good = wire(Kind.REQUEST, 77, MsgType.STATUS, b"\xa0")
    bad = {"crc": good[:-3] + bytes([good[-3] ^ 1]) + good[-2:],
           "cobs": b"\x09\x01\x00",  # a block longer than the frame
           "short": bytes(cobs.encode(b"\x01\x00\x00")) + b"\x00",
           "version": wire(Kind.REQUEST, 77, MsgType.STATUS, b"\xa0", version=2),
           "kind": wire(9, 77, MsgType.STATUS, b"\xa0"),
           "not_a_map": wire(Kind.REQUEST, 77, MsgType.STATUS, cbor2.dumps([1, 2]))}[spoil]
    client.write(bad)
    assert client.silent()
    assert client.call(MsgType.STATUS).kind is Kind.RESPONSE


def test_an_empty_body_is_an_empty_map(client: SpecClient) -> None:
    assert client.call(MsgType.IDENTIFY, raw=b"").body["model"] == "CM-500"


def test_bytes_after_the_body_map_are_ignored(client: SpecClient) -> None:
    raw = cbor2.dumps({"drink": "latte"}) + b"\xff\x00\x01"
    assert client.call(MsgType.BREW, raw=raw).kind is Kind.RESPONSE


def test_a_frame_over_max_frame_is_answered_frame_too_large(client: SpecClient) -> None:
    body = cbor2.dumps({"drink": "x" * (MAX_FRAME - 16)})  # a decoded frame of MAX_FRAME + 1
    seq = client.next_seq()
    frame = wire(Kind.REQUEST, seq, MsgType.BREW, body)
    assert len(frame) <= MAX_ENCODED + 1  # delimited within the receive bound, yet too large
    client.write(frame)
    answer, _ = client.answer(seq)
    assert error_code(answer) == ErrorCode.FRAME_TOO_LARGE and answer.type == MsgType.BREW


@pytest.mark.parametrize("piece", [1 << 20, 4096, 97])
def test_oversize_verdict_does_not_depend_on_how_reads_split(client: SpecClient,
                                                            piece: int) -> None:
    seq = client.next_seq()
    frame = wire(Kind.REQUEST, seq, MsgType.PROVISION, cbor2.dumps({"machine_name": "m" * 30_000}))
    for start in range(0, len(frame), piece):
        client.write(frame[start : start + piece])
    answer, _ = client.answer(seq)
    assert error_code(answer) == ErrorCode.FRAME_TOO_LARGE
    assert client.call(MsgType.STATUS).kind is Kind.RESPONSE


def test_bytes_without_a_delimiter_are_dropped_silently_until_the_next_one(
        client: SpecClient) -> None:
    client.write(bytes(range(1, 256)) * 200 + b"\x00")
    assert client.silent()
    assert client.call(MsgType.STATUS).kind is Kind.RESPONSE


# -- section 3: sequence numbers -------------------------------------------------------------


def test_answers_carry_the_request_seq_and_type_in_order(client: SpecClient) -> None:
    seqs = [client.send(MsgType.STATUS), client.send(MsgType.IDENTIFY), client.send(0x7F)]
    answers = [client.answer(seq)[0] for seq in seqs]
    assert [(a.seq, a.type) for a in answers] == list(zip(seqs, [MsgType.STATUS,
                                                                 MsgType.IDENTIFY, 0x7F],
                                                         strict=True))


def test_event_seq_wraps_from_65535_to_1_never_0(client: SpecClient,
                                                 emulator: Emulator) -> None:
    emulator.machine.event_seq = 65534
    _, events = client.answer(client.send(MsgType.BREW, {"drink": "latte"}))
    assert [e.seq for e in events[:3]] == [65535, 1, 2]


# -- section 4/5: bodies, defaults, wrong types ------------------------------------------------


@pytest.mark.parametrize(("type_code", "body", "field"), [
    (MsgType.HELLO, {"versions": 1, "max_frame": 8192}, "versions"),
    (MsgType.HELLO, {"versions": ["1"]}, "versions[0]"),
    (MsgType.HELLO, {"versions": [1], "max_frame": 100}, "max_frame"),
    (MsgType.HELLO, {"versions": [1], "max_frame": "big"}, "max_frame"),
    (MsgType.HELLO, {}, "versions"),
    (MsgType.BREW, {}, "drink"),
    (MsgType.BREW, {"drink": ""}, "drink"),
    (MsgType.BREW, {"drink": 5}, "drink"),
    (MsgType.BREW, {"drink": "latte", "strength": 6}, "strength"),
    (MsgType.BREW, {"drink": "latte", "strength": True}, "strength"),
    (MsgType.BREW, {"drink": "latte", "strength": 10**40}, "strength"),
    (MsgType.BREW, {"drink": "latte", "ingredients": "vanilla"}, "ingredients"),
    (MsgType.BREW, {"drink": "latte", "ingredients": [1]}, "ingredients[0]"),
    (MsgType.PAY, {"method": "card", "card": "4111"}, "card"),
    (MsgType.PAY, {"method": "card", "card": {"number": 4111}}, "card.number"),
    (MsgType.PAY, {"method": "barter"}, "method"),
    (MsgType.PAY, {"method": "cash", "amount_cents": -1}, "amount_cents"),
    (MsgType.PROVISION, {"owner": "x"}, "machine_name"),
    (MsgType.PROVISION, {"machine_name": "m", "location": {"lat": "north"}}, "location.lat"),
    (MsgType.PROVISION, {"machine_name": "m", "network": ["ssid"]}, "network"),
    (MsgType.SYNC, {"max_records": 0}, "max_records"),
    (MsgType.SYNC, {"max_records": 65}, "max_records"),
    (MsgType.SYNC, {"max_records": 1.5}, "max_records"),
    (MsgType.READ_LOGS, {"from": -1}, "from"),
    (MsgType.RESET, {"mode": "hard"}, "mode"),
])
def test_a_wrong_field_is_bad_request_naming_it(client: SpecClient, type_code: int,
                                                body: dict[str, Any], field: str) -> None:
    answer = client.call(type_code, body)
    assert error_code(answer) == ErrorCode.BAD_REQUEST
    assert answer.body["message"].startswith(f"{field} ")
    assert client.call(MsgType.STATUS).kind is Kind.RESPONSE  # and the device keeps serving


def test_a_body_with_non_text_keys_is_bad_request(client: SpecClient) -> None:
    answer = client.call(MsgType.BREW, {"drink": "latte", 1: "one"})
    assert error_code(answer) == ErrorCode.BAD_REQUEST and "not text" in answer.body["message"]


def test_unknown_fields_are_ignored_and_null_means_absent(client: SpecClient) -> None:
    answer = client.call(MsgType.BREW, {"drink": "latte", "strength": None, "colour": "blue"})
    assert answer.kind is Kind.RESPONSE
    [record] = [e.body for e in client.answer(client.send(MsgType.SYNC, {}))[1]]
    assert record["strength"] == 3 and record["size_ml"] == 200  # the documented defaults


def test_hello_defaults_and_answer(emulator: Emulator) -> None:
    host = SpecClient(emulator.url)
    try:
        answer = host.call(MsgType.HELLO, {"versions": [3, 1]}).body
        assert answer == {"version": 1, "max_frame": MAX_FRAME, "features": [
            "brew", "pay", "provision", "sync", "logs", "reset", "telemetry"]}
        assert emulator.machine.host_max_frame == MAX_FRAME
    finally:
        host.port.close()


def test_status_and_identify_fields(client: SpecClient) -> None:
    status = client.call(MsgType.STATUS).body
    assert {k: type(v) for k, v in status.items()} == {
        "state": str, "water_ml": int, "beans_g": int, "temp_c": float, "queued_records": int,
        "errors": list}
    identity = client.call(MsgType.IDENTIFY).body
    assert set(identity) == {"manufacturer", "model", "serial", "firmware"}


def test_brew_sends_its_events_before_the_response(client: SpecClient) -> None:
    answer, events = client.answer(client.send(MsgType.BREW, {"drink": "latte"}))
    assert [(e.type, e.body.get("event")) for e in events] == [
        (MsgType.EVENT, "brew.started"), (MsgType.TELEMETRY, None), (MsgType.EVENT, "brew.done")]
    assert events[0].body["order_id"] == answer.body["order_id"]
    assert set(events[1].body) == {"temp_c", "pressure_bar"}
    assert set(answer.body) == {"order_id", "duration_ms"}


def test_sync_pages_and_counts_what_it_sent(client: SpecClient) -> None:
    for _ in range(5):
        client.call(MsgType.BREW, {"drink": "espresso"})
    answer, records = client.answer(client.send(MsgType.SYNC, {"max_records": 2}))
    assert answer.body == {"sent": 2, "remaining": 3} and len(records) == 2
    assert all(r.type == MsgType.RECORD and "record_id" in r.body for r in records)
    answer, records = client.answer(client.send(MsgType.SYNC, {"max_records": 64}))
    assert answer.body == {"sent": 3, "remaining": 0} and len(records) == 3


def test_read_logs_pages_with_from_next_remaining(client: SpecClient, emulator: Emulator) -> None:
    for n in range(50):
        emulator.machine.log(f"line {n:02d} " + "é" * 600)  # cut to 900 bytes each
    lines: list[str] = []
    start, pages = 0, 0
    while True:
        page = client.call(MsgType.READ_LOGS, {"from": start}).body
        lines += page["lines"]
        pages += 1
        if page["remaining"] == 0:
            break
        assert page["next"] == start + len(page["lines"])
        start = page["next"]
    assert pages > 1 and len(lines) == 50 and lines[-1].startswith("line 49")
    assert max(len(line.encode()) for line in lines) <= 900 and lines[0].endswith("…")
    past = client.call(MsgType.READ_LOGS, {"from": 999}).body
    assert past == {"lines": [], "next": 50, "remaining": 0}


def test_reset_modes(client: SpecClient, emulator: Emulator) -> None:
    client.call(MsgType.PROVISION, {"machine_name": "Lobby"})
    client.call(MsgType.BREW, {"drink": "latte"})
    assert client.call(MsgType.RESET).body == {"ok": True}  # soft by default
    assert emulator.machine.settings and emulator.machine.queued
    assert client.call(MsgType.RESET, {"mode": "factory"}).body == {"ok": True}
    assert not emulator.machine.settings and not emulator.machine.queued


# -- the host's max_frame ----------------------------------------------------------------------


def test_the_host_max_frame_is_respected(emulator: Emulator) -> None:
    host = SpecClient(emulator.url)
    try:
        host.call(MsgType.HELLO, {"versions": [1], "max_frame": 1024})
        host.call(MsgType.PROVISION, {"machine_name": "N" * 1500, "owner": "o"})
        answer, _ = host.answer(host.send(MsgType.BREW, {"drink": "latte"}))
        assert answer.kind is Kind.RESPONSE
        assert emulator.machine.dropped_events == 0  # brew events are small
        answer = host.call(MsgType.SYNC, {})
        assert error_code(answer) == ErrorCode.FRAME_TOO_LARGE and "1024" in answer.body["message"]
        assert emulator.machine.queued  # the record stays queued
        emulator.machine.emit_event({"event": "diag", "blob": "b" * 2000})
        assert host.silent() and emulator.machine.dropped_events == 1
        for _ in range(30):
            emulator.machine.log("L" * 200)
        page = host.call(MsgType.READ_LOGS).body
        assert page["remaining"] > 0 and len(cbor2.dumps(page)) < 1024
    finally:
        host.port.close()


# -- section 6: every error code has a trigger ------------------------------------------------


def test_unknown_type(client: SpecClient) -> None:
    assert error_code(client.call(0x55)) == ErrorCode.UNKNOWN_TYPE


def test_busy_when_the_record_queue_is_full(client: SpecClient, emulator: Emulator) -> None:
    emulator.machine.queue_limit = 2
    client.call(MsgType.BREW, {"drink": "a"})
    client.call(MsgType.BREW, {"drink": "b"})
    assert error_code(client.call(MsgType.BREW, {"drink": "c"})) == ErrorCode.BUSY
    client.call(MsgType.SYNC, {})
    assert client.call(MsgType.BREW, {"drink": "c"}).kind is Kind.RESPONSE


def test_not_provisioned_for_qr_payment(client: SpecClient) -> None:
    assert error_code(client.call(MsgType.PAY, {"method": "qr"})) == ErrorCode.NOT_PROVISIONED
    client.call(MsgType.PROVISION, {"machine_name": "Lobby"})
    assert client.call(MsgType.PAY, {"method": "qr"}).body["approved"] is True


def test_payment_declined_without_a_card_number(client: SpecClient) -> None:
    answer = client.call(MsgType.PAY, {"method": "card", "card": {"expiry": "12/30"}})
    assert error_code(answer) == ErrorCode.PAYMENT_DECLINED


def test_unsupported_version(client: SpecClient) -> None:
    answer = client.call(MsgType.HELLO, {"versions": [2, 3]})
    assert error_code(answer) == ErrorCode.UNSUPPORTED_VERSION


def test_internal_answers_and_the_device_keeps_serving(emulator: Emulator,
                                                       client: SpecClient) -> None:
    emulator.inject("fail_on:STATUS")
    answer = client.call(MsgType.STATUS)
    assert error_code(answer) == ErrorCode.INTERNAL and "READ_LOGS" in answer.body["message"]
    assert client.call(MsgType.IDENTIFY).kind is Kind.RESPONSE
    logs = client.call(MsgType.READ_LOGS).body["lines"]
    assert any("internal error handling STATUS" in line for line in logs)


def test_inputs_that_once_killed_the_link_thread_are_answered(client: SpecClient) -> None:
    for type_code, body in [(MsgType.PAY, {"method": "card", "card": "4111"}),
                            (MsgType.HELLO, {"versions": "1", "max_frame": 8192}),
                            (MsgType.SYNC, {"max_records": "all"}),
                            (MsgType.PROVISION, {"machine_name": "m", "network": "wifi"})]:
        assert error_code(client.call(type_code, body)) == ErrorCode.BAD_REQUEST
    assert client.call(MsgType.STATUS).kind is Kind.RESPONSE


def test_every_error_code_in_the_spec_is_exercised_above() -> None:
    exercised = {ErrorCode.UNKNOWN_TYPE, ErrorCode.BAD_REQUEST, ErrorCode.BUSY,
                 ErrorCode.NOT_PROVISIONED, ErrorCode.PAYMENT_DECLINED,
                 ErrorCode.UNSUPPORTED_VERSION, ErrorCode.FRAME_TOO_LARGE, ErrorCode.INTERNAL}
    assert exercised == set(ErrorCode)
