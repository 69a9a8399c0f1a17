"""Open the device a spec names, emulated or real, with a capture attached."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from ..drivers.connection import Connection
from ..drivers.errors import DeviceSpecError
from ..drivers.machine import CoffeeMachine
from ..drivers.specs import DeviceSpec, check_params, parse_spec
from ..drivers.transport_table import transport_for
from ..emulator.serve import Emulator
from .capture import Capture

DEFAULT_SPEC = "emu://?firmware=2.1&transport=serial"
EMU_PARAMS = {"firmware", "transport", "serial", "fault"}


@dataclass
class BenchDevice:
    """A connected machine under test, its capture and, when emulated, its emulator."""

    spec: str
    machine: CoffeeMachine
    capture: Capture
    emulator: Emulator | None = None


@contextmanager
def open_device(text: str, timeout: float = 3.0) -> Iterator[BenchDevice]:
    """Connect to the device ``text`` names, starting an emulator for ``emu://``.

    The capture is attached before the link opens, so it holds the very first byte.

    Raises:
        DeviceSpecError: the spec is malformed.
        DeviceNotFound: nothing answers there.
    """
    spec = parse_spec(text)
    emulator = start_emulator(spec) if spec.scheme == "emu" else None
    try:
        link_spec = parse_spec(emulator.spec) if emulator else spec
        transport = transport_for(link_spec)
        transport.device = text if emulator is None else f"{text} ({emulator.url})"
        connection = Connection(transport, timeout=timeout)
        capture = Capture(text, {"spec": text, **transport.describe()})
        connection.attach(capture)
        machine = CoffeeMachine(connection)
        machine.connect()
        capture.meta.update(transport.describe())  # what only an open link knows (address, MTU)
        try:
            identity = machine.identify()
            capture.meta.update(transport.describe())  # what the link learnt opening (USB address)
            capture.meta.update(model=identity.model, firmware=identity.firmware,
                                serial=identity.serial, manufacturer=identity.manufacturer)
            yield BenchDevice(text, machine, capture, emulator)
        finally:
            machine.close()
    finally:
        if emulator is not None:
            emulator.stop()


def start_emulator(spec: DeviceSpec) -> Emulator:
    """Start the emulator an ``emu://`` spec describes."""
    check_params(spec.text, "emu", spec.params, EMU_PARAMS)
    try:
        emulator = Emulator(firmware=spec.param("firmware", "2.1"),
                            transport=spec.param("transport", "serial"),
                            serial=spec.params.get("serial"),
                            faults=spec.param("fault", ""))
    except ValueError as exc:
        raise DeviceSpecError(f"{spec.text}: {exc}") from exc
    emulator.start()
    return emulator
