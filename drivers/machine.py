"""The CoffeeMachine driver: one method per action a bench asks of a machine.

Each action tells the connection's observers when it starts and ends, so every
frame seen in between (responses, events, queued records) is attributed to it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from .actions import ActionDriver
from .answers import int_field, text_field, text_list_field
from .connection import Connection
from .errors import BrewbenchError, DeviceDisconnected, DeviceProtocolError, LimitExceeded
from .framing import MAX_FRAME, PROTOCOL_VERSION
from .messages import Kind, Message, MsgType

CLIENT_NAME = "brewbench/0.1"
MAX_SYNC_PAGES = 1024  # SYNC pages per sync(): 32k records at the default page size
MAX_LOG_PAGES = 256  # READ_LOGS pages per read_logs()
FAMILY = "cm500"
#: the bench actions the CM-500 protocol has
ACTIONS = frozenset({"connect", "identify", "status", "brew", "pay", "provision", "sync",
                     "read_logs", "reset", "voice_order"})
VOICE_CHUNK = 4096  # audio bytes per VOICE_ORDER part: a clip is far larger than a frame
REBOOT_WAIT = 10.0  # seconds a rebooting machine may take to be back (found again, banner sent)


@dataclass(frozen=True, slots=True)
class Identity:
    manufacturer: str
    model: str
    serial: str
    firmware: str


class CoffeeMachine(ActionDriver):
    """Drives one coffee machine over an open-able connection.

    Example::

        with CoffeeMachine(Connection(SerialTransport("/dev/ttyUSB0"))) as machine:
            machine.brew("latte", strength=4)
    """

    actions = ACTIONS
    connection: Connection

    def __init__(self, connection: Connection) -> None:
        self.connection = connection
        self.device = connection.device
        self.features: tuple[str, ...] = ()
        self.identity: Identity | None = None
        connection.relinked = self.handshake  # a device found again is greeted again

    def connect(self) -> None:
        """Open the link and agree on a protocol version (HELLO)."""
        self.connection.open()
        try:
            self.handshake()
        except BrewbenchError:
            self.connection.close()
            raise

    def handshake(self) -> None:
        """Agree on a protocol version (HELLO), as after every (re)connection."""
        with self.action("connect"):
            reply = self._call(MsgType.HELLO, {"versions": [PROTOCOL_VERSION],
                                               "max_frame": MAX_FRAME, "client": CLIENT_NAME})
            self.features = tuple(text_list_field(self.device, "HELLO", reply, "features",
                                                  default=[]))

    # -- actions ------------------------------------------------------------

    def identify(self) -> Identity:
        """Model, serial number and firmware of the machine."""
        with self.action("identify"):
            body = self._call(MsgType.IDENTIFY)
            fields = [text_field(self.device, "IDENTIFY", body, name)
                      for name in ("manufacturer", "model", "serial", "firmware")]
        self.identity = Identity(*fields)
        return self.identity

    def status(self) -> dict[str, Any]:
        """Current state: water, beans, temperature, errors."""
        with self.action("status"):
            return self._call(MsgType.STATUS)

    def brew(self, drink: str, strength: int = 3, size_ml: int = 200, milk: str | None = None,
             ingredients: Sequence[str] = ()) -> dict[str, Any]:
        """Make one drink; returns the order id and how long it took."""
        body: dict[str, Any] = {"drink": drink, "strength": strength, "size_ml": size_ml,
                                "ingredients": list(ingredients)}
        if milk is not None:
            body["milk"] = milk
        with self.action("brew"):
            return self._call(MsgType.BREW, body, timeout=10.0)

    def pay(self, method: str, amount_cents: int, currency: str = "EUR",
            card: dict[str, str] | None = None, routing: str | None = None) -> dict[str, Any]:
        """Pay for a drink: ``method`` is card, cash, qr or free; card details as a dict."""
        body: dict[str, Any] = {"method": method, "amount_cents": amount_cents, "currency": currency}
        if card is not None:
            body["card"] = dict(card)
        if routing is not None:
            body["routing"] = routing
        with self.action("pay"):
            return self._call(MsgType.PAY, body)

    def voice_order(self, audio: bytes, chunk: int = VOICE_CHUNK) -> dict[str, Any]:
        """Speak an order to the machine: ``audio`` (a WAV clip) is sent in parts of
        ``chunk`` bytes; returns the last reply, with the order id.

        Raises:
            ValueError: an empty clip or a chunk size outside 1..``VOICE_CHUNK``.
        """
        if not audio:
            raise ValueError("voice_order needs an audio clip, got no bytes")
        if not 1 <= chunk <= VOICE_CHUNK:
            raise ValueError(f"voice_order chunk must be 1..{VOICE_CHUNK} bytes, got {chunk}")
        pieces = [audio[start:start + chunk] for start in range(0, len(audio), chunk)]
        reply: dict[str, Any] = {}
        with self.action("voice_order"):
            for part, piece in enumerate(pieces, 1):
                reply = self._call(MsgType.VOICE_ORDER,
                                   {"part": part, "parts": len(pieces), "audio": bytes(piece)},
                                   timeout=10.0)
        return reply

    def provision(self, machine_name: str, owner: str, organisation: str, site: str, floor: str,
                  location: dict[str, float] | None = None,
                  network: dict[str, str] | None = None,
                  email: str | None = None) -> dict[str, Any]:
        """Set who owns the machine and where it stands, as an installer's app would."""
        body: dict[str, Any] = {"machine_name": machine_name, "owner": owner,
                                "organisation": organisation, "site": site, "floor": floor}
        for key, value in (("location", location), ("network", network), ("email", email)):
            if value is not None:
                body[key] = value
        with self.action("provision"):
            return self._call(MsgType.PROVISION, body)

    def sync(self, page: int = 32, max_pages: int = MAX_SYNC_PAGES) -> list[dict[str, Any]]:
        """Pull every record the machine queued for its cloud, page by page.

        Raises:
            LimitExceeded: the machine still had records after ``max_pages`` pages
                (a machine that answers ``remaining: 1`` forever would loop for ever).
            DeviceProtocolError: an answer without ``sent``/``remaining`` as integers,
                or a count of RECORD events that differs from ``sent``.
        """
        records: list[dict[str, Any]] = []
        with self.action("sync"):
            for _ in range(max_pages):
                reply = self._call(MsgType.SYNC, {"max_records": page})
                arrived = self.connection.take(_is_record)
                sent = int_field(self.device, "SYNC", reply, "sent")
                if len(arrived) != sent:
                    raise DeviceProtocolError(self.device, "SYNC", "sent",
                                              f"is {sent} but {len(arrived)} RECORD events "
                                              "arrived before the answer")
                records.extend(dict(message.body) for message in arrived)
                if int_field(self.device, "SYNC", reply, "remaining") <= 0:
                    return records
            raise LimitExceeded(self.device, "sync", "pages of SYNC", max_pages,
                                "raise CoffeeMachine.sync(max_pages=...) if the machine really "
                                f"queues more than {max_pages * page} records")

    def read_logs(self, max_pages: int = MAX_LOG_PAGES) -> list[str]:
        """The machine's log lines, page by page (``from`` / ``next`` / ``remaining``).

        Raises:
            LimitExceeded: still ``remaining`` after ``max_pages`` pages.
            DeviceProtocolError: ``lines`` not a list of text, or ``next`` not moving on.
        """
        lines: list[str] = []
        start = 0
        with self.action("read_logs"):
            for _ in range(max_pages):
                reply = self._call(MsgType.READ_LOGS, {"from": start})
                lines += text_list_field(self.device, "READ_LOGS", reply, "lines", default=[])
                if int_field(self.device, "READ_LOGS", reply, "remaining", default=0) <= 0:
                    return lines
                after = int_field(self.device, "READ_LOGS", reply, "next")
                if after <= start:
                    raise DeviceProtocolError(self.device, "READ_LOGS", "next",
                                              f"is {after}, not past the page that began at "
                                              f"{start}")
                start = after
            raise LimitExceeded(self.device, "read_logs", "pages of READ_LOGS", max_pages,
                                "raise CoffeeMachine.read_logs(max_pages=...) if the machine "
                                "really keeps that many log lines")

    def reset(self, mode: str = "soft") -> dict[str, Any]:
        """Reset the machine: ``soft`` keeps provisioning, ``factory`` wipes it."""
        with self.action("reset"):
            return self._call(MsgType.RESET, {"mode": mode})

    def reboot(self, wait: float = REBOOT_WAIT) -> dict[str, Any]:
        """Reboot the machine and wait until it is back, up to ``wait`` seconds.

        The port stays open while the RESET (mode ``reboot``) is asked for, so a
        machine that reboots in place is heard from its first byte; one that
        re-enumerates (a new ``/dev/ttyACMn``, a new USB address) is found again by
        the spec's selector, with the gap on record (``link.gap``). Returns the
        machine's boot banner (an EVENT ``{"event": "boot", ...}``); HELLO follows.

        Raises:
            DeviceDisconnected: no boot banner within ``wait`` seconds, or the device
                did not come back.
        """
        connection = self.connection
        saved = connection.wait, connection.relinked
        connection.wait, connection.relinked = max(connection.wait, wait), None
        try:
            with self.action("reset"):
                self._call(MsgType.RESET, {"mode": "reboot"})
                booted = connection.take(_is_boot, timeout=wait)
                if not booted or not connection.wait_for_link(wait):
                    why = connection.link_error or "no boot banner arrived"
                    raise DeviceDisconnected(self.device, f"not back within {wait:g} s of a "
                                             f"reboot ({why})")
        finally:
            connection.wait, connection.relinked = saved
        self.handshake()
        return dict(booted[0].body)

    def events(self, timeout: float = 0.0) -> list[Message]:
        """Device-initiated messages received and not yet taken, oldest first.

        Waits up to ``timeout`` seconds for the first one.
        """
        return self.connection.take(timeout=timeout)

    # -- internals ----------------------------------------------------------

    def _call(self, type_code: int, body: dict[str, Any] | None = None,
              timeout: float | None = None) -> dict[str, Any]:
        return dict(self.connection.request(type_code, body, timeout).body)


def _is_boot(message: Message) -> bool:
    return message.kind is Kind.EVENT and message.body.get("event") == "boot"


def _is_record(message: Message) -> bool:
    """RECORD messages arrive before the SYNC response that counts them."""
    return message.kind is Kind.EVENT and message.type == MsgType.RECORD
