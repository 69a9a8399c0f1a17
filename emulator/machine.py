"""An emulated coffee machine: protocol handling and state, behind any byte link.

The machine is link-agnostic: a link feeds it the bytes the host wrote
(``feed``) and gives it two callables at ``attach``: one to send bytes to the
host and one to hang up. Everything it says goes through the shared codec.
"""

from __future__ import annotations

import datetime as dt
import itertools
import secrets
import threading
from collections import deque
from collections.abc import Callable
from typing import Any

from ..drivers.errors import FrameError
from ..drivers.framing import MAX_FRAME, PROTOCOL_VERSION, FrameSplitter
from ..drivers.messages import ErrorCode, Kind, Message, MsgType, decode_message
from .faults import Faults
from .firmware import FirmwareProfile, get_profile
from .uplink import Uplink
from .voice import Recogniser, clip_events, clip_records, hears_nothing

Send = Callable[[bytes], None]
HangUp = Callable[[], None]
FEATURES = ("brew", "pay", "provision", "sync", "logs", "reset", "telemetry")


class EmulatedMachine:
    """One emulated machine running one firmware profile."""

    def __init__(self, firmware: str | FirmwareProfile = "2.1", serial: str | None = None) -> None:
        self.profile = firmware if isinstance(firmware, FirmwareProfile) else get_profile(firmware)
        self.serial = serial or f"BB{secrets.token_hex(3).upper()}"
        self.faults = Faults()
        self.settings: dict[str, Any] = {}
        self.queued: deque[dict[str, Any]] = deque()
        self.logs: list[str] = [f"boot firmware {self.profile.version}"]
        self.bad_frames = 0
        self._orders = itertools.count(1)
        self._event_seq = itertools.count(1)
        self._record_ids = itertools.count(1)
        self._last_order: dict[str, Any] | None = None
        self._splitter = FrameSplitter()
        self._send: Send | None = None
        self._hang_up: HangUp | None = None
        self._lock = threading.RLock()
        self.uplink: Uplink | None = None  # its cloud connection, when the bench gives it one
        self.recogniser: Recogniser = hears_nothing  # what a listening firmware makes of a clip
        self._clip = bytearray()

    # -- link side ----------------------------------------------------------

    def attach(self, send: Send, hang_up: HangUp) -> None:
        """Connect the machine to a link."""
        with self._lock:
            self._send, self._hang_up = send, hang_up
            self._splitter = FrameSplitter()

    def detach(self) -> None:
        with self._lock:
            self._send = self._hang_up = None

    def feed(self, data: bytes) -> None:
        """Bytes the host wrote, as the link received them."""
        for span in self._splitter.feed(data):
            if span.frame is None:
                self.bad_frames += 1
                continue
            try:
                message = decode_message(span.frame)
            except FrameError:
                self.bad_frames += 1
                continue
            if message.kind is Kind.REQUEST:
                self._handle(message)

    # -- device-initiated ----------------------------------------------------

    def emit_event(self, body: dict[str, Any], type_code: int = MsgType.EVENT) -> None:
        """Send one device-initiated message."""
        self._emit(Message(Kind.EVENT, type_code, next(self._event_seq) & 0xFFFF, body))

    def burst(self, count: int) -> None:
        """Send ``count`` telemetry messages back to back (numbered in ``n``)."""
        for n in range(count):
            self.emit_event({"n": n, "temp_c": 92.5, "pressure_bar": 9.0}, MsgType.TELEMETRY)

    def hang_up(self) -> None:
        """Drop the link as an unplugged machine would."""
        with self._lock:
            hang_up = self._hang_up
            self._send = self._hang_up = None
        if hang_up is not None:
            hang_up()

    # -- requests --------------------------------------------------------------

    def _handle(self, request: Message) -> None:
        name = request.type_name
        if self.faults.hang_up_on == name:
            self.hang_up()
            return
        if self.faults.silent_on == name:
            return
        handler = self._handlers().get(request.type)
        if handler is None:
            self._error(request, ErrorCode.UNKNOWN_TYPE, f"no such message type {request.type:#04x}")
            return
        try:
            body = handler(request.body)
        except _Refusal as refusal:
            self._error(request, refusal.code, refusal.detail)
            return
        for n in range(self.faults.events_before_reply):
            self.emit_event({"event": "heartbeat", "n": n})
        self._emit(Message(Kind.RESPONSE, request.type, request.seq, body))

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
        if PROTOCOL_VERSION not in body.get("versions", []):
            raise _Refusal(ErrorCode.UNSUPPORTED_VERSION, f"this machine speaks v{PROTOCOL_VERSION}")
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
        drink = body.get("drink")
        strength = body.get("strength", 3)
        if not isinstance(drink, str) or not drink:
            raise _Refusal(ErrorCode.BAD_REQUEST, "drink must be a non-empty text")
        if not isinstance(strength, int) or not 1 <= strength <= 5:
            raise _Refusal(ErrorCode.BAD_REQUEST, "strength must be 1..5")
        order_id = next(self._orders)
        self.emit_event({"event": "brew.started", "order_id": order_id})
        self.emit_event({"temp_c": 93.5, "pressure_bar": 9.1}, MsgType.TELEMETRY)
        facts = {**self._device_facts(), **self.settings, "order_id": order_id, "drink": drink,
                 "strength": strength, "size_ml": body.get("size_ml", 200),
                 "milk": body.get("milk"), "ingredients": list(body.get("ingredients", [])),
                 "served_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds")}
        self.emit_event({"event": "brew.done", "order_id": order_id})
        for extra in self.profile.extra_events(facts):
            self.emit_event(extra)
        record = self.profile.make_record(facts)
        record["record_id"] = next(self._record_ids)
        self.queued.append(record)
        self._last_order = record
        self._cloud("record", record)
        self.logs.append(self.profile.log_line(facts))
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
        for event in clip_events(clip, order_id) if mode == "pcm" else []:
            self.emit_event(event)
        for kept in [record, *(clip_records(clip, order_id) if mode == "wav" else [])]:
            kept["record_id"] = next(self._record_ids)
            self.queued.append(kept)
        self._last_order = record
        self.logs.append(f"order {order_id}: spoken, {len(clip)} bytes heard")
        return order_id

    def _pay(self, body: dict[str, Any]) -> dict[str, Any]:
        method = body.get("method")
        if method not in ("card", "cash", "qr", "free"):
            raise _Refusal(ErrorCode.BAD_REQUEST, "method must be card, cash, qr or free")
        card = body.get("card") or {}
        if method == "card" and not card.get("number"):
            raise _Refusal(ErrorCode.PAYMENT_DECLINED, "card payment without a card number")
        if self._last_order is not None:
            facts = {"payment_method": method, "card_number": card.get("number"),
                     "card_expiry": card.get("expiry"), "routing": body.get("routing")}
            self._last_order.update(self.profile.make_record(facts))
            self._cloud("payment", {"record_id": self._last_order["record_id"],
                                    **self.profile.make_record(facts)})
        return {"approved": True, "txn_id": f"T{next(self._orders):06d}"}

    def _provision(self, body: dict[str, Any]) -> dict[str, Any]:
        if not isinstance(body.get("machine_name"), str):
            raise _Refusal(ErrorCode.BAD_REQUEST, "machine_name is required")
        self.settings.update({k: v for k, v in body.items() if k != "network"})
        network = body.get("network")
        if isinstance(network, dict) and network.get("ssid"):
            self.settings["ssid"] = network["ssid"]  # the Wi-Fi name; never the password
        if self.uplink is not None:
            wanted = self.uplink.profile.diagnostics
            self._cloud("diagnostics", {**self._device_facts(),
                                        **{k: self.settings[k] for k in wanted if k in self.settings}})
        return {"ok": True}

    def _sync(self, body: dict[str, Any]) -> dict[str, Any]:
        limit = max(1, min(int(body.get("max_records", 32)), 64))
        if self.uplink is not None:
            self.uplink.flush()
        sent = 0
        while self.queued and sent < limit:
            self.emit_event(self.queued.popleft(), MsgType.RECORD)
            sent += 1
        return {"sent": sent, "remaining": len(self.queued)}

    def _read_logs(self, _body: dict[str, Any]) -> dict[str, Any]:
        return {"lines": list(self.logs[-50:])}

    def _reset(self, body: dict[str, Any]) -> dict[str, Any]:
        mode = body.get("mode", "soft")
        if mode not in ("soft", "factory"):
            raise _Refusal(ErrorCode.BAD_REQUEST, "mode must be soft or factory")
        if mode == "factory":
            self.settings.clear()
            self.queued.clear()
        self.logs.append(f"reset {mode}")
        return {"ok": True}

    # -- output ----------------------------------------------------------------

    def _cloud(self, kind: str, body: dict[str, Any]) -> None:
        """Hand a message to the cloud connection, if the machine has one."""
        if self.uplink is not None:
            self.uplink.send(kind, dict(body))

    def _device_facts(self) -> dict[str, Any]:
        return {"model": self.profile.model, "serial": self.serial, "firmware": self.profile.version}

    def _error(self, request: Message, code: ErrorCode, detail: str) -> None:
        self._emit(Message(Kind.ERROR, request.type, request.seq,
                           {"code": int(code), "message": detail}))

    def _emit(self, message: Message) -> None:
        raw = message.encode()
        with self._lock:
            send = self._send
            if send is None:
                return
            if self.faults.corrupt_next > 0:
                self.faults.corrupt_next -= 1
                raw = _flip_bit(raw)
            step = self.faults.split_every or len(raw)
            for start in range(0, len(raw), step):
                send(raw[start : start + step])


class _Refusal(Exception):
    def __init__(self, code: ErrorCode, detail: str) -> None:
        super().__init__(detail)
        self.code = code
        self.detail = detail


def _flip_bit(raw: bytes) -> bytes:
    """Corrupt a frame without touching its delimiter or creating a new one."""
    body = bytearray(raw)
    middle = len(body) // 2
    body[middle] ^= 0x01 if body[middle] != 0x01 else 0x02
    return bytes(body)
