"""brewbench's error tree. Every message names the device and says what to do.

    BrewbenchError
    ├── DeviceSpecError        a device spec that cannot be parsed
    ├── DeviceError            something went wrong with one device
    │   ├── DeviceNotFound     nothing answers at the spec (wrong port, unplugged)
    │   ├── DeviceDisconnected the link dropped while in use
    │   ├── Timeout            the device did not answer in time
    │   ├── DeviceRejected     the device answered with an error message
    │   ├── TransferError      the link refused one transfer (USB STALL, babble)
    │   ├── LimitExceeded      the device kept a loop going past its bound (endless pages)
    │   └── DeviceProtocolError  an answer that decodes but breaks the protocol
    │                            (also a ProtocolError): names the field and what arrived
    └── ProtocolError          bytes that break the wire protocol
        └── FrameError         one frame could not be decoded (COBS, CRC, header)

The bench adds its own branches, each where its concept lives:
``bench.verify.contracts.ContractError`` (a contract file is invalid),
``bench.verify.redact.LabKeyError`` (the lab key cannot be read or made),
``bench.influx.settings.InfluxConfigError``, ``bench.influx.writers.WriteError``
(``Unavailable``, ``Rejected``), ``bench.influx.query.QueryError``,
``bench.influx.servers.ServerError`` and ``bench.nightly.plan.PlanError``.
The ``brewbench`` command catches ``BrewbenchError`` and prints one line.
"""

from __future__ import annotations


class BrewbenchError(Exception):
    """Base of every error brewbench raises on purpose."""


class DeviceSpecError(BrewbenchError, ValueError):
    """A device spec string is malformed or names an unknown scheme."""


class DeviceError(BrewbenchError):
    """An error tied to one device, named by its spec."""

    def __init__(self, device: str, message: str) -> None:
        super().__init__(f"{device}: {message}")
        self.device = device


class DeviceNotFound(DeviceError):
    """Nothing answered at the device spec."""


class DeviceDisconnected(DeviceError):
    """The link to the device dropped while it was in use."""


class Timeout(DeviceError):
    """The device did not answer in time."""


class DeviceRejected(DeviceError):
    """The device answered a request with an error message."""

    def __init__(self, device: str, code: int, name: str, detail: str) -> None:
        super().__init__(device, f"device refused the request: {name} ({code}): {detail}")
        self.code = code
        self.name = name
        self.detail = detail


class ProtocolError(BrewbenchError):
    """Bytes on the wire that break the protocol."""


class FrameError(ProtocolError):
    """One frame could not be decoded; the stream resynchronises at the next delimiter."""


class TransferError(DeviceError):
    """The link refused one transfer (a USB endpoint stalled, a packet overflowed).

    The link stays up; the transport has done what recovery it can (e.g. cleared
    the halt), so the next transfer may succeed.
    """


class LimitExceeded(DeviceError):
    """The device kept a loop going past the bench's bound (SYNC pages, log pages...).

    Names the action and the bound, so the user knows what to raise if the
    device is merely large rather than hostile.
    """

    def __init__(self, device: str, action: str, bound: str, limit: int, hint: str = "") -> None:
        super().__init__(device, f"{action}: stopped after {limit} {bound}, the bound"
                         + (f"; {hint}" if hint else ""))
        self.action = action
        self.bound = bound
        self.limit = limit


class UnexpectedAnswer(DeviceError, ProtocolError):
    """A device answered with what its protocol does not allow (a Jura ``TY:`` answered
    with garbage, an ECAM setting of the wrong length): an error of that device, so a
    run records it with the capture and goes on to the next device."""


class DeviceProtocolError(DeviceError, ProtocolError):
    """An answer that decoded but breaks the protocol: a field missing or of the wrong type.

    Example message: ``cm-500: IDENTIFY answer: field 'serial' is missing (expected text);
    the answer had keys ['model']``.
    """

    def __init__(self, device: str, action: str, field: str, problem: str) -> None:
        super().__init__(device, f"{action} answer: field {field!r} {problem}")
        self.action = action
        self.field = field


def shown(value: object, width: int = 60) -> str:
    """A device's value as a short, safe text for an error message (never raises)."""
    try:
        text = repr(value)
    except Exception:  # a hostile value (a 7000-digit integer) may refuse repr
        text = f"<{type(value).__name__}>"
    return text if len(text) <= width else text[: width - 1] + "…"
