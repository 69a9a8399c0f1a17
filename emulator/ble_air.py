"""The air: one emulated Bluetooth LE radio environment that machines and hosts share.

An ``Air`` is a bumble ``LocalLink`` with its own event loop thread. Every emulated
machine (a peripheral) and every host-side scanner or client (a central) gets a
bumble ``Device`` with an emulated controller on that link, so real HCI, LL and
ATT/GATT PDUs flow between them: MTU exchange, long writes, ATT errors.

While it runs, an air registers itself in ``drivers.ble_profile.BLE_BACKENDS``
under its ``name``; a ``ble://...?backend=NAME`` spec then reaches its machines
through the bleak backends in ``emulator.ble_scanner`` and ``emulator.ble_client``.
"""

from __future__ import annotations

from ..drivers.ble_profile import BLE_BACKENDS, BleBackend
from .ble_client import EmulatedClient
from .ble_radio import Radio
from .ble_scanner import EmulatedScanner

__all__ = ["Air"]


class Air(Radio):
    """A shared radio environment that bleak can reach by name; a context manager.

    Example::

        with Air() as air:
            BleLink(EmulatedMachine("2.0"), air).start()
            BleLink(EmulatedMachine("2.1"), air).start()
            # ble://name=...?backend=<air.name> now finds either machine
    """

    def __enter__(self) -> Air:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def start(self) -> None:
        super().start()
        BLE_BACKENDS[self.name] = BleBackend(self.name, EmulatedScanner, EmulatedClient,
                                             {"air": self})

    def stop(self) -> None:
        BLE_BACKENDS.pop(self.name, None)
        super().stop()
