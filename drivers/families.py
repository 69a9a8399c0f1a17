"""Machine families: one wire protocol each, selected by a device spec's ``family=``.

    serial:///dev/ttyUSB0?family=jura     a Jura machine's service port
    serial:///dev/ttyUSB0?family=jura&model=E6   ... whose TY: answer other models share
    emu://?family=jura                    an emulated one
    ble://name=D1538752?family=ecam       a De'Longhi ECAM machine (Bluetooth LE only)
    emu://?family=ecam&transport=ble      an emulated one

A family builds its driver over any transport and says what its fields reveal
(a catalogue of emission paths). Adding a family is a folder in ``drivers/``
(codec, connection, driver, catalogue), one in ``emulator/`` and one entry here.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from typing import Any, Protocol

from .connection import Connection
from .ecam import catalogue as ecam_catalogue
from .ecam.connection import EcamConnection
from .ecam.machine import EcamMachine
from .errors import DeviceSpecError
from .jura import catalogue as jura_catalogue
from .jura.connection import JuraConnection
from .jura.machine import JuraMachine
from .jura.models import MODELS as JURA_MODELS
from .jura.models import model_named
from .machine import CoffeeMachine, Identity
from .transport import Transport

__all__ = ["DEFAULT_FAMILY", "FAMILIES", "Family", "Machine", "catalogues", "family_named"]


class Machine(Protocol):
    """What every family's driver offers the bench; actions beyond these are per family
    (``supports`` says which of ``drivers.actions.ACTIONS`` a machine has)."""

    device: str
    identity: Identity | None

    @property
    def connection(self) -> Any: ...  # has attach(observer), observers, link_error

    def connect(self) -> None: ...

    def close(self) -> None: ...

    def identify(self) -> Identity: ...

    def status(self) -> dict[str, Any]: ...

    def supports(self, action: str) -> bool: ...

    def action(self, name: str) -> AbstractContextManager[None]: ...


@dataclass(frozen=True)
class Family:
    name: str
    #: builds the (unopened) driver over a transport, with a request timeout and the
    #: spec's values of ``options``
    driver: Callable[[Transport, float, Mapping[str, str]], Machine]
    #: spec parameters this family implies unless given (Jura: 9600 baud)
    defaults: Mapping[str, str] = field(default_factory=dict)
    #: link-record detail globs -> data categories (bench.verify.catalogue adds them)
    catalogue: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    #: spec schemes its machines are reached by (empty: any)
    schemes: frozenset[str] = frozenset()
    #: spec parameters for the driver, not the transport (Jura: ``model``)
    options: frozenset[str] = frozenset()

    def check_scheme(self, scheme: str, spec: str) -> None:
        """Refuse a spec whose link this family's machines do not have.

        Raises:
            DeviceSpecError: ``scheme`` is not one of ``schemes``.
        """
        if self.schemes and scheme not in self.schemes:
            raise DeviceSpecError(f"{spec}: family {self.name} is reached over "
                                  f"{' or '.join(sorted(self.schemes))}://, not {scheme}://")


def _cm500(transport: Transport, timeout: float, _options: Mapping[str, str]) -> Machine:
    return CoffeeMachine(Connection(transport, timeout=timeout))


def _jura(transport: Transport, timeout: float, options: Mapping[str, str]) -> Machine:
    model = options.get("model")
    if model is not None and model_named(model) is None:
        raise DeviceSpecError(f"{transport.device}: no documented Jura model {model!r}; known: "
                              f"{', '.join(jura_model.name for jura_model in JURA_MODELS)}")
    return JuraMachine(JuraConnection(transport, timeout=timeout), model)


def _ecam(transport: Transport, timeout: float, _options: Mapping[str, str]) -> Machine:
    return EcamMachine(EcamConnection(transport, timeout=timeout))


DEFAULT_FAMILY = "cm500"
FAMILIES: dict[str, Family] = {
    "cm500": Family("cm500", _cm500),
    "jura": Family("jura", _jura, {"baud": "9600"}, jura_catalogue.CATALOGUE,
                   options=frozenset({"model"})),
    "ecam": Family("ecam", _ecam, {"gatt": "ecam"}, ecam_catalogue.CATALOGUE,
                   frozenset({"ble", "emu"})),
}


def family_named(name: str, spec: str = "") -> Family:
    """The family called ``name``.

    Raises:
        DeviceSpecError: no such family.
    """
    family = FAMILIES.get(name)
    if family is None:
        where = f"{spec}: " if spec else ""
        raise DeviceSpecError(f"{where}unknown family {name!r}; known: {', '.join(sorted(FAMILIES))}")
    return family


def catalogues() -> Iterable[Mapping[str, tuple[str, ...]]]:
    return (family.catalogue for family in FAMILIES.values())
