"""Open the device a spec names, emulated or real, with a capture attached."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, Protocol

from ..drivers.errors import DeviceSpecError
from ..drivers.families import DEFAULT_FAMILY, Family, family_named
from ..drivers.specs import DeviceSpec, check_params, parse_spec
from ..drivers.transport_table import transport_for
from ..emulator.jura.serve import JuraEmulator
from ..emulator.serve import Emulator
from .capture import Capture

DEFAULT_SPEC = "emu://?firmware=2.1&transport=serial"
EMU_PARAMS = {"firmware", "transport", "serial", "family"}
#: firmware an emulated machine of each family runs unless the spec says
EMULATED_FIRMWARE = {"cm500": "2.1", "jura": "2.03"}


class Served(Protocol):
    """An emulated machine of any family, served on a link."""

    @property
    def spec(self) -> str: ...

    @property
    def url(self) -> str: ...

    def stop(self) -> None: ...


@dataclass
class BenchDevice:
    """A connected machine under test, its capture and, when emulated, its emulator.

    ``machine`` is the driver of the device's family: a ``CoffeeMachine`` for the
    CM-500 protocol, a ``JuraMachine`` for ``family=jura``; ``machine.supports(action)``
    says which of the bench's actions it has. ``emulator`` is set for emulated CM-500
    machines (fault injection); ``emulated`` for emulated machines of any family.
    """

    spec: str
    machine: Any
    capture: Capture
    emulator: Emulator | None = None
    family: str = DEFAULT_FAMILY
    emulated: Served | None = None


@contextmanager
def open_device(text: str, timeout: float = 3.0) -> Iterator[BenchDevice]:
    """Connect to the device ``text`` names, starting an emulator for ``emu://``.

    The capture is attached before the link opens, so it holds the very first byte.

    Raises:
        DeviceSpecError: the spec is malformed.
        DeviceNotFound: nothing answers there.
    """
    spec = parse_spec(text)
    family = family_named(spec.params.get("family", DEFAULT_FAMILY), text)
    emulator = start_emulator(spec, family) if spec.scheme == "emu" else None
    try:
        link_spec = link_spec_of(parse_spec(emulator.spec) if emulator else spec, family)
        transport = transport_for(link_spec)
        transport.device = text if emulator is None else f"{text} ({emulator.url})"
        capture = Capture(text, {"spec": text, "family": family.name, **transport.describe()})
        machine = family.driver(transport, timeout)
        machine.connection.attach(capture)
        machine.connect()
        capture.meta.update(transport.describe())  # what only an open link knows (address, MTU)
        try:
            identity = machine.identify()
            capture.meta.update(transport.describe())  # what the link learnt opening (USB address)
            capture.meta.update(model=identity.model, firmware=identity.firmware,
                                serial=identity.serial, manufacturer=identity.manufacturer)
            yield BenchDevice(text, machine, capture,
                              emulator if isinstance(emulator, Emulator) else None,
                              family.name, emulator)
        finally:
            machine.close()
    finally:
        if emulator is not None:
            emulator.stop()


def link_spec_of(spec: DeviceSpec, family: Family) -> DeviceSpec:
    """The spec the transport sees: without ``family``, with the family's defaults
    (a Jura service port runs at 9600 baud unless the spec says otherwise)."""
    params = {**family.defaults, **spec.params}
    params.pop("family", None)
    return DeviceSpec(spec.text, spec.scheme, spec.target, params)


def start_emulator(spec: DeviceSpec, family: Family | None = None) -> Emulator | JuraEmulator:
    """Start the emulator an ``emu://`` spec describes."""
    check_params(spec.text, "emu", spec.params, EMU_PARAMS)
    family = family or family_named(spec.params.get("family", DEFAULT_FAMILY), spec.text)
    emulated = JuraEmulator if family.name == "jura" else Emulator
    try:
        emulator = emulated(firmware=spec.param("firmware", EMULATED_FIRMWARE[family.name]),
                            transport=spec.param("transport", "serial"),
                            serial=spec.params.get("serial"))
    except ValueError as exc:
        raise DeviceSpecError(f"{spec.text}: {exc}") from exc
    emulator.start()
    return emulator
