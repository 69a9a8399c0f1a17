"""An emulated coffee machine: protocol handling and state, behind any byte link.

The machine is link-agnostic: a link feeds it the bytes the host wrote
(``feed``) and gives it two callables at ``attach``: one to send bytes to the
host and one to hang up. Everything it says goes through the shared codec.

It answers every request it can read, even a hostile one: a field of the wrong
type is BAD_REQUEST, a frame over MAX_FRAME is FRAME_TOO_LARGE, and a handler
that fails answers INTERNAL and the machine keeps serving (docs/protocol.md).
"""

from __future__ import annotations

import datetime as dt
import itertools
import logging
import secrets
import threading
import time
from collections import deque
from collections.abc import Callable
from typing import Any

import cbor2

from ..drivers.errors import FrameError
from ..drivers.framing import CRC_SIZE, HEADER, MAX_FRAME, PROTOCOL_VERSION, decode_frame, encode_frame
from ..drivers.messages import ErrorCode, Kind, Message, MsgType, decode_message, type_name
from .faults import Faults
from .field_noise import FieldNoise
from .firmware import FirmwareProfile, get_profile
from .flash import Flash
from .history import History
from .hostile import HOSTILE_BODIES, MALFORMED_ANSWERS, MALFORMED_ERROR
from .receiver import Span, SpanReader, request_header
from .requests import BadField, check_body
from .uplink import CloudLink
from .voice import (
    Recogniser,
    clip_events,
    clip_records,
    compressed,
    feature_events,
    hears_nothing,
    low_rate_opus,
    opus_events,
    room_events,
)

log = logging.getLogger(__name__)
Send = Callable[[bytes], None]
HangUp = Callable[[], None]
FEATURES = ("brew", "pay", "provision", "sync", "logs", "reset", "telemetry")
LOG_KEEP = 50  # log lines kept (READ_LOGS pages through them)
LOG_LINE_MAX = 900  # UTF-8 bytes; longer lines are cut so one always fits a 1024-byte frame
QUEUE_LIMIT = 1000  # queued records; BREW answers BUSY beyond this until a SYNC
BABBLE_CHUNK = bytes(range(1, 256)) * 256  # 65 280 bytes, none of them a delimiter
REBOOT_DELAY = 0.05  # seconds from a RESET reboot's answer to the machine going down


class EmulatedMachine:
    """One emulated machine running one firmware profile."""

    def __init__(self, firmware: str | FirmwareProfile = "2.1", serial: str | None = None, *,
                 flash: Flash | None = None, noise: bool | None = None,
                 seed: int | None = None) -> None:
        """``flash`` is what survives its resets (shared by every session of one unit);
        ``noise`` gives it a real machine's manners (default: as its firmware says),
        drawn from ``seed`` and the boot count when given."""
        self.profile = firmware if isinstance(firmware, FirmwareProfile) else get_profile(firmware)
        self.serial = serial or f"BB{secrets.token_hex(3).upper()}"
        self.faults = Faults()
        self.settings: dict[str, Any] = {}
        self.queued: deque[dict[str, Any]] = deque()
        self.queue_limit = QUEUE_LIMIT
        self.logs: deque[str] = deque([f"boot firmware {self.profile.version}"], maxlen=LOG_KEEP)
        self.history = History(self.profile.history, flash or Flash())
        self.history.start(self.logs)
        noisy = self.profile.field_noise if noise is None else noise
        self.noise = FieldNoise(seed, self.history.boots) if noisy else None
        self._last_copies: list[dict[str, Any]] = []
        self.bad_frames = 0
        self.frames_sent = 0  # every frame written to a link, events and answers
        self.dropped_events = 0  # events over the host's max_frame, never sent
        self.event_seq = 0  # the last event sequence number used (1..65535)
        self.host_max_frame = MAX_FRAME  # what the host's HELLO allowed on this link
        self._orders = itertools.count(1)
        self._record_ids = itertools.count(1)
        self._last_order: dict[str, Any] | None = None
        self._reader = SpanReader()
        self._send: Send | None = None
        self._hang_up: HangUp | None = None
        self._lock = threading.RLock()  # link state
        self._send_lock = threading.RLock()  # one frame at a time on the wire
        self._flood: threading.Thread | None = None
        self.uplink: CloudLink | None = None  # its cloud connection, when the bench gives it one
        self.recogniser: Recogniser = hears_nothing  # what a listening firmware makes of a clip
        self._clip = bytearray()
        self._reboot = False
        #: how this machine reboots on its link: a link that re-enumerates (USB, USB
        #: serial) re-plugs; None reboots in place (the port stays, the banner follows)
        self.rebooter: Callable[[], None] | None = None

    # -- link side ----------------------------------------------------------

    def attach(self, send: Send, hang_up: HangUp) -> None:
        """Connect the machine to a link."""
        with self._lock:
            self._send, self._hang_up = send, hang_up
            self._reader = SpanReader()
            self.host_max_frame = MAX_FRAME

    def detach(self) -> None:
        with self._lock:
            self._send = self._hang_up = None

    def feed(self, data: bytes) -> None:
        """Bytes the host wrote, as the link received them."""
        for span in self._reader.feed(data):
            self._receive(span)

    def inject(self, faults: str) -> None:
        """Switch on faults in the spec form (``"flood,slow_drip:5"``); see Faults."""
        self.faults.inject(faults)

    # -- device-initiated ----------------------------------------------------

    def emit_event(self, body: dict[str, Any], type_code: int = MsgType.EVENT) -> None:
        """Send one device-initiated message (dropped if over the host's max_frame)."""
        self._emit_event(type_code, _dumps(body))

    def burst(self, count: int) -> None:
        """Send ``count`` telemetry messages back to back (numbered in ``n``)."""
        for n in range(count):
            self.emit_event({"n": n, "temp_c": 92.5, "pressure_bar": 9.0}, MsgType.TELEMETRY)

    def boot(self, reason: str) -> None:
        """Start up again (after a reset or a re-plug): the boot banner, an EVENT, is the
        first thing the machine sends; a frame cut by the reboot is forgotten."""
        with self._lock:
            self._reader = SpanReader()
            self.host_max_frame = MAX_FRAME
        self.logs.append(f"boot firmware {self.profile.version} ({reason})")
        self.emit_event({"event": "boot", "reason": reason, "model": self.profile.model,
                         "serial": self.serial, "firmware": self.profile.version})

    def reboot(self) -> None:
        """Go down and come back as the link does it (``rebooter``), or in place."""
        if self.rebooter is not None:
            self.rebooter()
        else:
            self.boot("reset")

    def hang_up(self) -> None:
        """Drop the link as an unplugged machine would."""
        with self._lock:
            hang_up = self._hang_up
            self._send = self._hang_up = None
        if hang_up is not None:
            hang_up()

    def log(self, line: str) -> None:
        """Append a line to the machine's log (cut to LOG_LINE_MAX bytes of UTF-8)."""
        encoded = line.encode()
        if len(encoded) > LOG_LINE_MAX:  # "…" is 3 bytes; a cut character is left out
            line = encoded[: LOG_LINE_MAX - 3].decode(errors="ignore") + "…"
        self.logs.append(line)

    # -- receiving -------------------------------------------------------------

    def _receive(self, span: Span) -> None:
        if span.oversize:
            self._too_large(request_header(span), "more than MAX_ENCODED bytes without a delimiter")
            return
        try:
            frame = decode_frame(span.encoded)
            size = HEADER.size + len(frame.body) + CRC_SIZE
            if size > MAX_FRAME:
                if frame.kind == Kind.REQUEST:
                    self._too_large((frame.seq, frame.type), f"a frame of {size} bytes")
                else:
                    self.bad_frames += 1
                return
            message = decode_message(frame)
        except FrameError:
            self.bad_frames += 1
            return
        except Exception:  # whatever the decoder trips on, the frame is bad
            log.debug("undecodable frame", exc_info=True)
            self.bad_frames += 1
            return
        if message.kind is Kind.REQUEST:
            self._handle(message)

    def _too_large(self, header: tuple[int, int] | None, what: str) -> None:
        """Answer FRAME_TOO_LARGE if the oversize frame's header reads as a request."""
        self.bad_frames += 1
        if header is not None:
            seq, type_code = header
            self._send_error(type_code, seq, ErrorCode.FRAME_TOO_LARGE,
                             f"{what}; MAX_FRAME is {MAX_FRAME}")

    # -- requests --------------------------------------------------------------

    def _handle(self, request: Message) -> None:
        name = request.type_name
        if self.faults.hang_up_on == name:
            self.hang_up()
            return
        if self.faults.silent_on == name:
            return
        try:
            body = self._answer(request)
        except _Refusal as refusal:
            self._before_answer()
            self._send_error(request.type, request.seq, refusal.code, refusal.detail)
        except Exception as exc:  # a failing handler answers INTERNAL, not dies
            log.debug("handler for %s failed", name, exc_info=True)
            self.log(f"internal error handling {name}: {type(exc).__name__}")
            self._before_answer()
            self._send_error(request.type, request.seq, ErrorCode.INTERNAL,
                             f"{name} failed: {type(exc).__name__}; see READ_LOGS")
        else:
            self._before_answer()
            self._respond(request, body)
        self._after_answer()

    def _answer(self, request: Message) -> dict[str, Any]:
        handler = self._handlers().get(request.type)
        if handler is None:
            raise _Refusal(ErrorCode.UNKNOWN_TYPE, f"no such message type {request.type:#04x}")
        if self.faults.busy_on == request.type_name:
            raise _Refusal(ErrorCode.BUSY, f"busy; send {request.type_name} again later")
        if self.faults.fail_on == request.type_name:
            raise RuntimeError(f"injected failure in {request.type_name}")
        try:
            body = check_body(request.type, request.body)
        except BadField as exc:
            raise _Refusal(ErrorCode.BAD_REQUEST, str(exc)) from exc
        return handler(body)

    def _handlers(self) -> dict[int, Callable[[dict[str, Any]], dict[str, Any]]]:
        handlers: dict[int, Callable[[dict[str, Any]], dict[str, Any]]] = {
            MsgType.HELLO: self._hello, MsgType.IDENTIFY: self._identify,
            MsgType.STATUS: self._status, MsgType.BREW: self._brew, MsgType.PAY: self._pay,
            MsgType.PROVISION: self._provision, MsgType.SYNC: self._sync,
            MsgType.READ_LOGS: self._read_logs, MsgType.RESET: self._reset,
        }
        if self.profile.voice:  # a firmware that does not listen answers UNKNOWN_TYPE
            handlers[MsgType.VOICE_ORDER] = self._voice_order
        return handlers

    def _hello(self, body: dict[str, Any]) -> dict[str, Any]:
        if PROTOCOL_VERSION not in body["versions"]:
            raise _Refusal(ErrorCode.UNSUPPORTED_VERSION, f"this machine speaks v{PROTOCOL_VERSION}")
        self.host_max_frame = min(body["max_frame"], MAX_FRAME)
        return {"version": PROTOCOL_VERSION, "max_frame": MAX_FRAME, "features": list(FEATURES)}

    def _identify(self, _body: dict[str, Any]) -> dict[str, Any]:
        p = self.profile
        return {"manufacturer": p.manufacturer, "model": p.model, "serial": self.serial,
                "firmware": p.version}

    def _status(self, _body: dict[str, Any]) -> dict[str, Any]:
        self._cloud("heartbeat", {**self._device_facts(), "queued_records": len(self.queued)})
        return {"state": "ready", "water_ml": 1500, "beans_g": 420, "temp_c": 93.0,
                "queued_records": len(self.queued), "errors": []}

    def _brew(self, body: dict[str, Any]) -> dict[str, Any]:
        if len(self.queued) >= self.queue_limit:
            raise _Refusal(ErrorCode.BUSY, f"{len(self.queued)} records queued; SYNC first")
        order_id = next(self._orders)
        self.emit_event({"event": "brew.started", "order_id": order_id})
        sample = {"temp_c": 93.5, "pressure_bar": 9.1}
        for reading in self.noise.telemetry(sample) if self.noise else [sample]:
            self.emit_event(reading, MsgType.TELEMETRY)
        self.history.flash.brewed()
        facts = {**self._device_facts(), **self.settings, "order_id": order_id,
                 "drink": body["drink"], "strength": body["strength"], "size_ml": body["size_ml"],
                 "milk": body["milk"], "ingredients": body["ingredients"],
                 "served_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds")}
        self.emit_event({"event": "brew.done", "order_id": order_id})
        for extra in self.profile.extra_events(facts):
            self.emit_event(extra)
        self._last_copies = []
        for _ in range(self.noise.copies() if self.noise else 1):
            record = {**self.profile.make_record(facts), **self.history.record_fields(facts)}
            record = self.noise.record(record) if self.noise else record
            record["record_id"] = next(self._record_ids)
            self.queued.append(record)
            self._last_copies.append(record)
            self._cloud("record", record)
        self._last_order = self._last_copies[0]
        self.log(self.profile.log_line(facts))
        return {"order_id": order_id, "duration_ms": 28000}

    def _voice_order(self, body: dict[str, Any]) -> dict[str, Any]:
        part, parts, audio = body.get("part"), body.get("parts"), body.get("audio")
        if not (isinstance(part, int) and isinstance(parts, int) and 1 <= part <= parts
                and isinstance(audio, bytes)):
            raise _Refusal(ErrorCode.BAD_REQUEST, "part 1..parts and audio bytes are required")
        if part == 1:
            self._clip = bytearray()
        self._clip += audio
        if part < parts:
            return {"received": part}
        clip, self._clip = bytes(self._clip), bytearray()
        return {"received": part, "order_id": self._heard(clip)}

    def _heard(self, clip: bytes) -> int:
        """Brew what was asked for and keep what was heard, as the firmware does."""
        order_id = next(self._orders)
        self.emit_event({"event": "brew.started", "order_id": order_id})
        facts = {**self._device_facts(), **self.settings, "order_id": order_id,
                 "drink": "voice order", "strength": 3, "size_ml": 200,
                 "served_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds")}
        self.emit_event({"event": "brew.done", "order_id": order_id})
        record = self.profile.make_record(facts)
        mode = self.profile.voice
        if mode == "transcript":
            record["transcript"] = self.recogniser(clip)
        events = {"pcm": clip_events, "opus": opus_events, "room": room_events,
                  "features": feature_events}.get(mode)
        for event in events(clip, order_id) if events else []:
            self.emit_event(event)
        pages = (clip_records(clip, order_id) if mode == "wav" else
                 clip_records(compressed(clip, "flac"), order_id) if mode == "flac" else
                 clip_records(low_rate_opus(clip), order_id) if mode == "opus-low" else [])
        for kept in [record, *pages]:
            kept["record_id"] = next(self._record_ids)
            self.queued.append(kept)
            if mode == "flac":  # 3.3 also sends what it heard home as it hears it
                self._cloud("record", kept)
        self._last_order, self._last_copies = record, [record]
        self.logs.append(f"order {order_id}: spoken, {len(clip)} bytes heard")
        return order_id

    def _pay(self, body: dict[str, Any]) -> dict[str, Any]:
        method, card = body["method"], body["card"] or {}
        if method == "card" and not card.get("number"):
            raise _Refusal(ErrorCode.PAYMENT_DECLINED, "card payment without a card number")
        if method == "qr" and "machine_name" not in self.settings:
            raise _Refusal(ErrorCode.NOT_PROVISIONED, "qr payment needs PROVISION first")
        if self._last_order is not None:
            facts = {"payment_method": method, "card_number": card.get("number"),
                     "card_expiry": card.get("expiry"), "routing": body["routing"]}
            for copy in self._last_copies:  # every record the order queued
                copy.update(self.profile.make_record(facts))
            self._cloud("payment", {"record_id": self._last_order["record_id"],
                                    **self.profile.make_record(facts)})
        return {"approved": True, "txn_id": f"T{next(self._orders):06d}"}

    def _provision(self, body: dict[str, Any]) -> dict[str, Any]:
        self.settings.update({k: v for k, v in body.items()
                              if k != "network" and v is not None})
        network = body["network"]
        if network and network.get("ssid"):
            self.settings["ssid"] = network["ssid"]  # the Wi-Fi name; never the password
        self.history.provisioned(self.settings)
        if self.uplink is not None:
            wanted = self.uplink.profile.diagnostics
            self._cloud("diagnostics", {**self._device_facts(),
                                        **{k: self.settings[k] for k in wanted if k in self.settings}})
        return {"ok": True}

    def _sync(self, body: dict[str, Any]) -> dict[str, Any]:
        if self.uplink is not None:
            self.uplink.flush()
        sent = 0
        while self.queued and sent < body["max_records"]:
            raw = _dumps(self.queued[0])
            if _frame_size(raw) > self.host_max_frame:
                if sent:
                    break  # the next page starts with it
                raise _Refusal(ErrorCode.FRAME_TOO_LARGE,
                               f"record {self.queued[0].get('record_id')} needs a frame of "
                               f"{_frame_size(raw)} bytes, over your max_frame "
                               f"{self.host_max_frame}")
            self.queued.popleft()
            self._emit_event(MsgType.RECORD, raw)
            sent += 1
        remaining = len(self.queued)
        if "SYNC" in self.faults.endless_pages:
            remaining = max(remaining, 1)
        return {"sent": sent, "remaining": remaining}

    def _read_logs(self, body: dict[str, Any]) -> dict[str, Any]:
        lines = list(self.logs)
        start = min(body["from"], len(lines))
        page: list[str] = []
        budget = self.host_max_frame - 64  # header, CRC and the other fields, with room
        for line in lines[start:]:
            budget -= len(_dumps(line))
            if budget < 0:
                break
            page.append(line)
        remaining = len(lines) - start - len(page)
        if "READ_LOGS" in self.faults.endless_pages:  # pages that always move on, never end
            page, remaining = page or [f"page from {body['from']}"], max(remaining, 1)
            start = body["from"]
        return {"lines": page, "next": start + len(page), "remaining": remaining}

    def _reset(self, body: dict[str, Any]) -> dict[str, Any]:
        mode = body["mode"]
        if mode == "factory":
            self.settings.clear()
            self.queued.clear()
        self._reboot = mode == "reboot"  # after the answer is out
        self.log(f"reset {mode}")
        return {"ok": True}

    # -- output ----------------------------------------------------------------

    def _cloud(self, kind: str, body: dict[str, Any]) -> None:
        """Hand a message to the cloud connection, if the machine has one."""
        if self.uplink is not None:
            self.uplink.send(kind, dict(body))

    def _device_facts(self) -> dict[str, Any]:
        return {"model": self.profile.model, "serial": self.serial, "firmware": self.profile.version}

    def _before_answer(self) -> None:
        for name in self.faults.hostile_bodies:
            self._emit_event(MsgType.EVENT, HOSTILE_BODIES[name])
        for n in range(self.faults.events_before_reply):
            self.emit_event({"event": "heartbeat", "n": n})

    def _after_answer(self) -> None:
        if self.noise is not None and self.noise.heartbeat():
            self.emit_event({"event": "heartbeat", "uptime_ms": time.monotonic_ns() // 1_000_000})
        if self._reboot:
            self._reboot = False
            timer = threading.Timer(REBOOT_DELAY, self.reboot)
            timer.daemon = True
            timer.start()
        if self.faults.babble > 0:
            count, self.faults.babble = self.faults.babble, 0
            self._babble(count)
        if self.faults.flood is not None and self._flood is None:
            self._flood = threading.Thread(target=self._flood_events, args=(self.faults.flood,),
                                           name="emulator flood", daemon=True)
            self._flood.start()

    def _respond(self, request: Message, body: dict[str, Any]) -> None:
        if request.type_name in self.faults.malformed_answers:
            body = MALFORMED_ANSWERS[request.type_name]
        raw = _dumps(body)
        if _frame_size(raw) > self.host_max_frame:
            self._send_error(request.type, request.seq, ErrorCode.FRAME_TOO_LARGE,
                             f"the answer needs {_frame_size(raw)} bytes, over your "
                             f"max_frame {self.host_max_frame}")
            return
        self._write(encode_frame(Kind.RESPONSE, request.seq, request.type, raw))

    def _send_error(self, type_code: int, seq: int, code: ErrorCode, detail: str) -> None:
        body: dict[str, Any] = {"code": int(code), "message": detail[:200]}
        if "ERROR" in self.faults.malformed_answers:
            body = MALFORMED_ERROR
        self._write(encode_frame(Kind.ERROR, seq, type_code, _dumps(body)))

    def _emit_event(self, type_code: int, raw_body: bytes) -> None:
        if _frame_size(raw_body) > self.host_max_frame:
            self.dropped_events += 1
            self.log(f"{type_name(type_code)} of {_frame_size(raw_body)} bytes not sent: "
                     f"over the host's max_frame {self.host_max_frame}")
            return
        with self._send_lock:  # numbers go out in order
            self.event_seq = self.event_seq % 0xFFFF + 1  # 1..65535; 0 is never used
            self._write(encode_frame(Kind.EVENT, self.event_seq, type_code, raw_body))

    def _write(self, raw: bytes) -> None:
        """Put one frame on the link, committing the faults that shape the bytes."""
        with self._send_lock:
            send = self._send
            if send is None:
                return
            if self.faults.corrupt_next > 0:
                self.faults.corrupt_next -= 1
                raw = _flip_bit(raw)
            if self.faults.slow_drip_ms > 0:
                self._drip(send, raw, self.faults.slow_drip_ms / 1000)
            else:
                step = self.faults.split_every or len(raw)
                for start in range(0, len(raw), step):
                    send(raw[start : start + step])
            self.frames_sent += 1

    def _drip(self, send: Send, raw: bytes, pause: float) -> None:
        for at in range(len(raw)):
            if self._send is not send:
                return  # detached mid-frame, as a cable pulled mid-frame would
            send(raw[at : at + 1])
            time.sleep(pause)

    def _babble(self, count: int) -> None:
        """``count`` bytes with no delimiter, then one, so the host can resynchronise."""
        with self._send_lock:
            while count > 0 and self._send is not None:
                piece = BABBLE_CHUNK[: min(count, len(BABBLE_CHUNK))]
                self._send(piece)
                count -= len(piece)
            if self._send is not None:
                self._send(b"\x00")

    def _flood_events(self, count: int) -> None:
        """TELEMETRY as fast as the link takes it, until ``count``, detach or the fault clears."""
        n = 0
        try:
            while self._send is not None and self.faults.flood is not None and (not count or n < count):
                self.emit_event({"n": n, "temp_c": 92.5, "pressure_bar": 9.0}, MsgType.TELEMETRY)
                n += 1
            if count and n >= count:
                self.faults.flood = None
        finally:
            self._flood = None


class _Refusal(Exception):
    def __init__(self, code: ErrorCode, detail: str) -> None:
        super().__init__(detail)
        self.code = code
        self.detail = detail


def _dumps(body: Any) -> bytes:
    return cbor2.dumps(body)


def _frame_size(raw_body: bytes) -> int:
    """Decoded size of a frame carrying ``raw_body``."""
    return HEADER.size + len(raw_body) + CRC_SIZE


def _flip_bit(raw: bytes) -> bytes:
    """Corrupt a frame without touching its delimiter or creating a new one."""
    body = bytearray(raw)
    middle = len(body) // 2
    body[middle] ^= 0x01 if body[middle] != 0x01 else 0x02
    return bytes(body)
