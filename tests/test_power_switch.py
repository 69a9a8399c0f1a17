"""The emulated simplerest power switch: its outlet really powers an emulated machine behind
an RFC 2217 server down (nothing answers) and up (a fresh machine, same serial, answers)."""

from __future__ import annotations

import urllib.error
import urllib.request
from collections.abc import Iterator

import pytest

from brewbench.bench.devices import open_device
from brewbench.drivers.errors import DeviceError
from brewbench.emulator.power_switch import PoweredMachine, PowerSwitch
from brewbench.emulator.rfc2217_server import Rfc2217Server
from brewbench.emulator.serve import Emulator


@pytest.fixture
def powered() -> Iterator[tuple[PowerSwitch, Rfc2217Server]]:
    with PoweredMachine(lambda serial: Emulator("2.1", "serial", serial), "BB0061") as machine, \
            Rfc2217Server(machine.url) as server, \
            PowerSwitch({0: machine.outlet(server)}) as switch:
        yield switch, server


def _get(switch: PowerSwitch, index: int, value: str) -> str:
    url = switch.url.format(index=index, value=value).rstrip("/")
    with urllib.request.urlopen(url, timeout=10) as answer:
        return str(answer.read().decode())


def test_off_silences_the_machine_and_on_boots_it_again(
        powered: tuple[PowerSwitch, Rfc2217Server]) -> None:
    switch, server = powered
    spec = f"serial+rfc2217://127.0.0.1:{server.tcp_port}"
    with open_device(spec, timeout=1.0) as device:
        assert _get(switch, 0, "0") == "0"
        with pytest.raises(DeviceError):
            device.machine.status()
        assert _get(switch, 0, "") == "0"
        assert _get(switch, 0, "1") == "1"
        device.machine.close()
        device.machine.connect()  # the same RFC 2217 server, a freshly booted machine
        assert device.machine.identify().serial == "BB0061"
    assert switch.switched == [(0, False), (0, True)]


@pytest.mark.parametrize("path", ["/relay/1/1", "/relay/0/2", "/relay/x", "/power"])
def test_what_the_switch_does_not_have_is_404(powered: tuple[PowerSwitch, Rfc2217Server],
                                              path: str) -> None:
    switch, _ = powered
    with pytest.raises(urllib.error.HTTPError) as caught:
        urllib.request.urlopen(f"http://{switch.host}:{switch.port}{path}", timeout=10)
    assert caught.value.code == 404
    assert switch.switched == []
