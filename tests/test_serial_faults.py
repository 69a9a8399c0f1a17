"""What a bench must survive on a real link (a pty, a socket, USB): interleaving, split and
corrupt frames, a machine that goes silent or away, a wrong port."""

import re
from pathlib import Path

import pytest

from brewbench.bench.capture import Capture
from brewbench.bench.devices import BenchDevice, open_device
from brewbench.drivers.errors import DeviceDisconnected, DeviceNotFound, DeviceSpecError, Timeout
from brewbench.drivers.messages import MsgType
from brewbench.drivers.specs import parse_spec
from brewbench.drivers.transport_table import transport_for
from brewbench.emulator.serve import Emulator

EVERY_LINK = pytest.mark.brewbench_devices(
    "emu://?transport=serial", "emu://?transport=socket", "emu://?transport=usb")


@EVERY_LINK
def test_responses_match_requests_under_interleaved_events(brewbench_device: BenchDevice,
                                                           brewbench_emulator: Emulator) -> None:
    brewbench_emulator.machine.faults.events_before_reply = 5
    machine = brewbench_device.machine
    assert machine.status()["state"] == "ready"
    assert machine.brew("mocha")["order_id"] == 1
    heartbeats = [m for m in machine.events() if m.body.get("event") == "heartbeat"]
    assert len(heartbeats) == 10


@EVERY_LINK
def test_frames_split_across_reads(brewbench_device: BenchDevice,
                                   brewbench_emulator: Emulator) -> None:
    brewbench_emulator.machine.faults.split_every = 3
    brewbench_device.machine.brew("latte")
    assert brewbench_device.machine.identify().firmware == "2.1"
    assert brewbench_device.capture.frame_errors == 0


@EVERY_LINK
def test_corrupt_frame_is_counted_and_the_link_survives(brewbench_device: BenchDevice,
                                                        brewbench_emulator: Emulator,
                                                        brewbench_capture: Capture) -> None:
    brewbench_emulator.machine.faults.corrupt_next = 1
    brewbench_emulator.machine.burst(3)
    arrived = brewbench_device.machine.connection.take(lambda m: m.type == MsgType.TELEMETRY,
                                                       timeout=2)
    assert brewbench_device.machine.status()["state"] == "ready"
    assert brewbench_capture.frame_errors == 1
    bad = [e for e in brewbench_capture.entries if e.record.error]
    assert "CRC" in (bad[0].record.error or "") or "COBS" in (bad[0].record.error or "")
    arrived += brewbench_device.machine.connection.take(lambda m: m.type == MsgType.TELEMETRY)
    assert [m.body["n"] for m in arrived] == [1, 2]


def test_machine_hanging_up_mid_action(tmp_path: Path) -> None:
    with open_device("emu://?firmware=2.1") as device:
        assert device.emulator is not None
        device.machine.status()
        device.emulator.machine.faults.hang_up_on = "BREW"
        with pytest.raises(DeviceDisconnected) as lost:
            device.machine.brew("latte")
        assert "emu://" in str(lost.value) and "reconnect" in str(lost.value)
        saved = device.capture.save(tmp_path / "cap.jsonl")
    reloaded = Capture.load(saved)
    brew = [a for a in reloaded.actions if a.name == "brew"]
    assert brew and brew[0].outcome == "error" and "DeviceDisconnected" in brew[0].detail
    assert reloaded.messages(action="status", direction="rx")[0].type == MsgType.STATUS
    assert reloaded.messages(action="brew", direction="tx")[0].body["drink"] == "latte"


def test_silent_machine_times_out_with_advice() -> None:
    with open_device("emu://?firmware=1.0", timeout=0.3) as device:
        assert device.emulator is not None
        device.emulator.machine.faults.silent_on = "STATUS"
        with pytest.raises(Timeout, match=r"no answer to STATUS .* within 0.3s"):
            device.machine.status()
        device.emulator.machine.faults.silent_on = None
        assert device.machine.status()["state"] == "ready"


def test_wrong_port_names_the_path_and_what_to_do() -> None:
    with pytest.raises(DeviceNotFound) as missing, open_device("serial:///dev/ttyNOPE99"):
        pass
    message = str(missing.value)
    assert "/dev/ttyNOPE99" in message and "list_ports" in message


def test_nothing_listening_on_a_socket_is_not_found() -> None:
    with Emulator(transport="socket") as emulator:
        spec = emulator.spec
    with pytest.raises(DeviceNotFound, match="cannot open serial port"), open_device(spec):
        pass


@pytest.mark.parametrize("spec, words", [
    ("/dev/ttyUSB0", "has no scheme"),
    ("carrier-pigeon://coop", "unknown scheme"),
    ("serial+telnet://h:1", "unknown scheme 'serial\\+telnet'"),
    ("serial:///dev/ttyUSB0?baud=fast", "is not a whole number"),
    ("emu://?firmware=9.9", "no emulated firmware '9.9'"),
    ("emu://?colour=red", "unknown parameter"),
])
def test_bad_specs_say_what_is_wrong(spec: str, words: str) -> None:
    with pytest.raises(DeviceSpecError, match=words), open_device(spec):
        pass


@pytest.mark.parametrize("spec, scheme", [
    ("serial:///dev/ttyUSB0?bud=9600", "serial"),
    ("usb://1209:c0fe?serail=BB42", "usb"),
    ("serial+usb://0403:6001?sreial=A5", "serial+usb"),
    ("ble://name=CM-Lobby?scna=5", "ble"),
])
def test_a_mistyped_parameter_is_refused_not_ignored(spec: str, scheme: str) -> None:
    with pytest.raises(DeviceSpecError, match=rf"unknown parameter\(s\) .*; {re.escape(scheme)}:// takes"):
        transport_for(parse_spec(spec))


def test_closing_a_serial_link_wakes_its_reader_at_once() -> None:
    """The reader waits in select() on the port and on a wake pipe, so close() never waits
    out a timeout (it did, 50 ms per close: most of a differential run's time)."""
    import os
    import pty
    import time

    from brewbench.drivers.serial_transport import SELECT_TIMEOUT, SerialTransport

    class Ignore:
        def received(self, chunk: object) -> None: ...
        def lost(self, error: object) -> None: ...
        def note(self, record: object) -> None: ...

    controller, device = pty.openpty()
    try:
        closes = []
        for _ in range(5):
            transport = SerialTransport(os.ttyname(device))
            transport.open(Ignore())
            time.sleep(0.02)  # the reader is in select() now
            started = time.monotonic()
            transport.close()
            closes.append(time.monotonic() - started)
    finally:
        os.close(controller)
        os.close(device)
    # without the wake each close would wait out the select timeout
    assert min(closes) < SELECT_TIMEOUT / 2, closes
