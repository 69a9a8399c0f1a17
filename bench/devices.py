"""Open the device a spec names, emulated or real, with a capture attached."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, Protocol

from ..drivers.errors import DeviceSpecError
from ..drivers.families import DEFAULT_FAMILY, Family, family_named
from ..drivers.specs import DeviceSpec, check_params, parse_spec
from ..drivers.transport_table import transport_for
from ..emulator.ecam.serve import EcamEmulator, check_transport
from ..emulator.jura.serve import JuraEmulator
from ..emulator.serve import Emulator
from ..emulator.uplink import Resolve
from .capture import Capture
from .labgrid_place import SCHEME as LABGRID
from .labgrid_place import check_place_spec, lease_place
from .uplink.tap import UplinkTap

DEFAULT_SPEC = "emu://?firmware=2.1&transport=serial"
EMU_PARAMS = {"firmware", "transport", "serial", "family", "fault", "model", "noise", "seed", "unit"}
#: parameters only the cm500 family's emulator takes (docs/protocol.md, section 10;
#: docs/data-verification.md, "Field-like firmware")
CM500_ONLY = ("fault", "noise", "seed", "unit")
NOISE = {"field": True, "none": False}
#: firmware an emulated machine of each family runs unless the spec says
EMULATED_FIRMWARE = {"cm500": "2.1", "jura": "1.25", "ecam": "1.0"}
#: transport an emulated machine of each family is served on unless the spec says
EMULATED_TRANSPORT = {"ecam": "ble"}


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
    CM-500 protocol, a ``JuraMachine`` for ``family=jura``, an ``EcamMachine`` for
    ``family=ecam``; ``machine.supports(action)``
    says which of the bench's actions it has. ``emulator`` is set for emulated CM-500
    machines (fault injection); ``emulated`` for emulated machines of any family.
    """

    spec: str
    machine: Any
    capture: Capture
    emulator: Emulator | None = None
    uplink: UplinkTap | None = None
    family: str = DEFAULT_FAMILY
    emulated: Served | None = None


@contextmanager
def open_device(text: str, timeout: float = 3.0, capture: Capture | None = None,
                uplink: UplinkTap | None = None, wait: float = 0.0,
                say: Callable[[str], None] | None = None) -> Iterator[BenchDevice]:
    """Connect to the device ``text`` names, starting an emulator for ``emu://``.

    The capture is attached before the link opens, so it holds the very first byte.
    Pass your own ``capture`` to keep what was captured when connecting or
    identifying fails (a device that answers HELLO with garbage still leaves
    its garbage in the capture). With ``uplink`` the device's cloud traffic is
    captured too (bench/uplink/tap.py): an emulated device looks its cloud up
    through the tap; a real one must be pointed at the tap's broker and endpoint
    by the lab (docs/uplink.md).

    With ``wait`` > 0 a device not there yet is waited for up to ``wait`` seconds
    (``say`` hears "waiting up to ... for SPEC …" once), and one that leaves mid-run
    (a reset, a re-plug) is found again by its selector within the same bound, in
    the same capture (a ``link.gap`` note marks the gap; docs/hardware.md).

    Raises:
        DeviceSpecError: the spec is malformed.
        DeviceNotFound: nothing answers there.
        DeviceError: connecting or identifying failed (``DeviceProtocolError``
            for an answer that breaks the protocol, ``Timeout``...).
    """
    spec = parse_spec(text)
    family = family_named(spec.params.get("family", DEFAULT_FAMILY), text)
    family.check_scheme(spec.scheme, text)
    capture = Capture(text, {"spec": text}) if capture is None else capture
    resolve = uplink.resolve if uplink is not None else None
    emulator = start_emulator(spec, resolve, family) if spec.scheme == "emu" else None
    lease = lease_place(text) if spec.scheme == LABGRID else None  # bench/labgrid_place.py
    try:
        if lease is not None:
            spec = lease.place.link_spec(spec)
            capture.meta.update(lease.place.describe())
        link_spec = link_spec_of(link_spec_source(spec, emulator), family)
        transport = transport_for(link_spec)
        transport.device = text if emulator is None else f"{text} ({emulator.url})"
        capture.meta.update(spec=text, family=family.name, **transport.describe())
        machine = family.driver(transport, timeout, driver_options(link_spec_source(spec, emulator),
                                                                    family))
        if wait > 0:
            _wait_for(machine.connection, wait, say)
        machine.connection.attach(capture)
        if uplink is not None:
            cloud = emulator.machine.uplink if isinstance(emulator, Emulator) else None
            uplink.bind(capture, cloud.drain if cloud is not None else None)
            uplink.start()
            machine.connection.attach(uplink)
        machine.connect()
        capture.meta.update(transport.describe())  # what only an open link knows (address, MTU)
        try:
            identity = machine.identify()
            capture.meta.update(transport.describe())  # what the link learnt opening (USB address)
            capture.meta.update(model=identity.model, firmware=identity.firmware,
                                serial=identity.serial, manufacturer=identity.manufacturer)
            yield BenchDevice(text, machine, capture,
                              emulator if isinstance(emulator, Emulator) else None, uplink,
                              family.name, emulator)
        finally:
            machine.close()
    finally:
        if emulator is not None:
            emulator.stop()
        if lease is not None:
            lease.end()
        if uplink is not None:
            uplink.stop()


def _wait_for(connection: Any, wait: float, say: Callable[[str], None] | None) -> None:
    """Let the connection wait for its device (each family's connection has ``wait``;
    the CM-500 protocol's also finds a device that left again)."""
    connection.wait, connection.say = wait, say


def check_spec(text: str) -> None:
    """Refuse a malformed spec before anything opens, so a typo is a usage error.

    Raises:
        DeviceSpecError: unknown scheme, parameter or family, or a misplaced ``?``.
    """
    spec = parse_spec(text)
    family = family_named(spec.params.get("family", DEFAULT_FAMILY), text)
    family.check_scheme(spec.scheme, text)
    if spec.scheme == "emu":
        _check_emu(spec)
        if family.name == "ecam":
            try:
                check_transport(spec.param("transport", EMULATED_TRANSPORT["ecam"]))
            except ValueError as exc:
                raise DeviceSpecError(f"{text}: {exc}") from exc
    elif spec.scheme == LABGRID:
        transport_for(link_spec_of(check_place_spec(spec), family))
    else:
        transport_for(link_spec_of(spec, family))  # builds, does not open


def _check_emu(spec: DeviceSpec) -> None:
    if spec.target:  # emu://firmware=1.0 would otherwise test the default firmware
        hint = f"; did you mean emu://?{spec.target}" if "=" in spec.target else ""
        raise DeviceSpecError(f"{spec.text}: emu:// takes its settings after '?' "
                              f"(emu://?firmware=2.1&transport=serial){hint}")
    check_params(spec.text, "emu", spec.params, EMU_PARAMS)


def link_spec_of(spec: DeviceSpec, family: Family) -> DeviceSpec:
    """The spec the transport sees: without ``family`` and the driver's options, with the
    family's defaults (a Jura service port runs at 9600 baud unless the spec says otherwise)."""
    params = {key: value for key, value in {**family.defaults, **spec.params}.items()
              if key != "family" and key not in family.options}
    return DeviceSpec(spec.text, spec.scheme, spec.target, params)


def link_spec_source(spec: DeviceSpec, emulator: Served | None) -> DeviceSpec:
    """The spec whose link is opened: the emulator's for ``emu://``, else the user's."""
    return parse_spec(emulator.spec) if emulator is not None else spec


def driver_options(spec: DeviceSpec, family: Family) -> dict[str, str]:
    """The spec's parameters that go to the family's driver (a Jura machine's ``model``)."""
    return {key: value for key, value in spec.params.items() if key in family.options}


def _manners(spec: DeviceSpec) -> dict[str, Any]:
    """``unit``, ``noise`` and ``seed`` of an emulated CM-500: the same spec is the same
    unit (its flash survives from one opening to the next) unless ``unit`` says."""
    noise = spec.params.get("noise")
    if noise is not None and noise not in NOISE:
        raise ValueError(f"noise={noise!r}: choose {' or '.join(NOISE)}")
    seed = spec.int_param("seed", 0) if "seed" in spec.params else None
    return {"unit": spec.params.get("unit", spec.text),
            "noise": NOISE[noise] if noise is not None else None, "seed": seed}


def start_emulator(spec: DeviceSpec, resolve: Resolve | None = None,
                   family: Family | None = None) -> Emulator | JuraEmulator | EcamEmulator:
    """Start the emulator an ``emu://`` spec describes (its cloud reached via ``resolve``)."""
    _check_emu(spec)
    family = family or family_named(spec.params.get("family", DEFAULT_FAMILY), spec.text)
    firmware = spec.param("firmware", EMULATED_FIRMWARE[family.name])
    transport = spec.param("transport", EMULATED_TRANSPORT.get(family.name, "serial"))
    emulator: Emulator | JuraEmulator | EcamEmulator
    try:
        taken = [p for p in CM500_ONLY if p in spec.params]
        if family.name in ("jura", "ecam") and taken:
            raise ValueError(f"{taken[0]}= is for the cm500 family's emulator "
                             "(docs/protocol.md, section 10)")
        if family.name != "jura" and "model" in spec.params:
            raise ValueError("model= is for the jura family (docs/machines/jura.md)")
        if family.name == "ecam":
            emulator = EcamEmulator(firmware, transport, spec.params.get("serial"))
        elif family.name == "jura":
            emulator = JuraEmulator(spec.params.get("firmware"), transport,
                                    spec.params.get("serial"), model=spec.params.get("model"))
        else:
            emulator = Emulator(firmware=firmware, transport=transport,
                                serial=spec.params.get("serial"), resolve=resolve,
                                faults=spec.param("fault", ""), **_manners(spec))
    except ValueError as exc:
        raise DeviceSpecError(f"{spec.text}: {exc}") from exc
    emulator.start()
    return emulator
