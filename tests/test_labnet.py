"""The lab network: an emulated machine in a network namespace, the bench as its network.

Every test that builds a lab needs root, ip, nft and dnsmasq; without them it is
skipped with the reason (failed under CI=true). The address table and the
residency rules are checked without a lab too.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from brewbench.bench.capture import Capture
from brewbench.bench.devices import BenchDevice, open_device
from brewbench.bench.influx.query import InfluxReader
from brewbench.bench.influx.schema import RunTags
from brewbench.bench.influx.sink import open_sink
from brewbench.bench.influx.verification_points import destination_points
from brewbench.bench.labnet.client_hello import server_name
from brewbench.bench.labnet.device import LabDevice
from brewbench.bench.labnet.lab import LabNetwork, tap_upstream
from brewbench.bench.labnet.lengths import length_follows
from brewbench.bench.labnet.maker_cloud import MakerCloud
from brewbench.bench.labnet.netns import NETNS_DIR
from brewbench.bench.labnet.places import AddressTableError, load_addresses
from brewbench.bench.uplink.tap import CHANNEL as UPLINK
from brewbench.bench.uplink.tap import UplinkTap
from brewbench.bench.verify.canaries import plant
from brewbench.bench.verify.contracts import check
from brewbench.bench.verify.emissions import emissions
from brewbench.bench.verify.hunter import Hunter
from brewbench.bench.verify.residency import Regions, Rule
from brewbench.bench.verify.verification import verify
from brewbench.drivers.records import Stamp
from brewbench.emulator.lab_clouds import HEARTBEAT_DE, MQTT_HOST, PAYMENTS_CN, WORLD
from brewbench.fixtures.lab_network import lab_or_skip

NETWORK = "network"
EU_ONLY = """
format = "brewbench-contract"
version = 1
regions = "{regions}"

[[contract]]
model = "CM-500"
firmware = ">=0"
channels = ["serial", "uplink", "network"]

[contract.allow]
product = {{}}
payment = {{}}
time = {{}}
location = {{}}
identity = {{}}
device = {{}}
unknown = {{}}

[contract.residency]
payment = {{ regions = ["eu"] }}
identity = {{ regions = ["eu"] }}
"""


def drive(device: BenchDevice, canaries=None) -> None:
    canaries = canaries or plant()
    device.machine.provision(**canaries.provisioning())
    device.machine.brew("latte")
    device.machine.pay("card", 350, card=canaries.card())
    device.machine.status()


def network(device: BenchDevice, **match) -> list:
    return [e for e in device.capture.entries if e.record.channel == NETWORK
            and all(e.record.meta.get(k) == v for k, v in match.items())]


def run_in_device(lab: LabNetwork, program: str) -> subprocess.CompletedProcess:
    """A small Python program run inside the lab's device namespace."""
    return subprocess.run(lab.device_command([sys.executable, "-c", program]), capture_output=True,
                          text=True, timeout=30, check=False)


def probe(lab: LabNetwork, program: str) -> Capture:
    """What the lab recorded while ``program`` ran in the device namespace."""
    capture = Capture("probe")
    lab.bind(capture)
    done = run_in_device(lab, program)
    assert done.returncode == 0, done.stderr
    assert lab.settle()
    return capture


def metas(capture: Capture, event: str) -> list:
    return [e.record.meta for e in capture.entries if e.record.meta.get("event") == event]


# -- what holds for every lab -----------------------------------------------------------


def test_the_lab_has_no_way_out_and_is_gone_afterwards(brewbench_lab_network: LabNetwork):
    lab = brewbench_lab_network
    gateway, device = lab.namespaces.gateway, lab.namespaces.device
    # Only the lab's own veth and loopback: no interface reaches the host's namespace.
    assert sorted(lab.namespaces.interfaces(gateway)) == ["lab0", "lo"]
    assert sorted(lab.namespaces.interfaces(device)) == ["eth0", "lo"]
    routes = subprocess.run(["ip", "-n", gateway, "route", "show"], capture_output=True, text=True,
                            check=True).stdout
    assert "default" not in routes and routes.strip().startswith("198.18.0.0/30")
    dnsmasq = [server._process.pid for server in lab._dns if server._process is not None]
    lab.stop()
    assert not (NETNS_DIR / gateway).exists() and not (NETNS_DIR / device).exists()
    for pid in dnsmasq:
        assert not Path(f"/proc/{pid}").exists() or "zombie" in Path(f"/proc/{pid}/status").read_text()


def test_udp_is_dropped_with_its_destination_and_nothing_escapes(brewbench_lab_network):
    lab = brewbench_lab_network
    capture = Capture("probe")
    lab.bind(capture)
    lab.action_started("sync", Stamp.now())
    done = run_in_device(lab, "import socket\ns = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)\n"
                              "for _ in range(3): s.sendto(b'quic?', ('52.28.0.10', 443))")
    assert done.returncode == 0, done.stderr
    lab.action_ended("sync", Stamp.now(), "ok", "")
    (dropped,) = [e for e in capture.entries if e.record.meta.get("event") == "dropped"]
    assert dropped.action == "sync"
    assert (dropped.record.meta["address"], dropped.record.meta["port"],
            dropped.record.meta["located"]) == ("52.28.0.10", 443, "DE")
    counts = lab.counts()
    assert ("52.28.0.10", 443) in counts.dropped_udp
    assert counts.dropped >= 3
    assert counts.escaped == 0


def test_any_tcp_connection_is_intercepted_with_its_original_destination(brewbench_lab_network):
    lab = brewbench_lab_network
    capture = probe(lab, "import socket\n"
                         "for port in (1, 8443, 65000):\n"
                         "    with socket.create_connection(('203.0.113.7', port), timeout=5) as s:\n"
                         "        s.sendall(b'\\x00garbage' * 10)\n")
    lab.stop()
    opened = metas(capture, "connect")
    assert sorted(m["port"] for m in opened) == [1, 8443, 65000]
    assert {(m["address"], m["tls_verdict"], m["app"], m["located"]) for m in opened} == {
        ("203.0.113.7", "plain", "", "ZZ")}
    assert [m["bytes_up"] for m in metas(capture, "close")] == [80, 80, 80]
    assert lab.counts().escaped == 0


def test_a_hostile_handshake_is_one_verdict_not_a_traceback(brewbench_lab_network):
    lab = brewbench_lab_network
    capture = probe(lab, "import socket\n"
                         "with socket.create_connection(('198.51.100.9', 443), timeout=5) as s:\n"
                         "    s.sendall(b'\\x16\\x03\\x01\\xff\\xff' + bytes(range(256)) * 4)\n"
                         "    s.recv(100)\n")
    (opened,) = metas(capture, "connect")
    assert opened["tls_verdict"] == "refused" and opened["address"] == "198.51.100.9"
    assert lab.connections[0].error  # the reason OpenSSL gave, kept in one line


LOOKUPS = """
import socket, struct
def ask(name: bytes, n: int) -> None:
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.settimeout(3)
    labels = b"".join(bytes([len(p)]) + p for p in name.split(b"."))
    s.sendto(struct.pack(">HHHHHH", n, 0x100, 1, 0, 0, 0) + labels + b"\\0" + struct.pack(">HH", 1, 1),
             ("198.18.0.1", 53))
    s.recv(512)
ask(b"bad\\x1b[31m\\x07name.example", 1)
for n in range(2, 12):
    ask(b"n%d.example" % n, n)
"""


def test_hostile_names_are_shown_safely_and_a_flood_of_lookups_is_cut_and_counted():
    lab = lab_or_skip(LabNetwork(max_records=6))  # skipped without root, failed so under CI
    try:
        capture = probe(lab, LOOKUPS)
        names = [e.record.meta["name"] for e in capture.entries if e.record.meta.get("protocol") == "dns"]
        assert len(names) == 6 and lab.summary()["records_cut"] == 5
        assert names[0] == "<name unprintable>"  # dnsmasq's words: no control byte reaches a record
        assert not any(ch in name for name in names for ch in "\x1b\x07")
    finally:
        lab.stop()


# -- an emulated machine behind the lab -----------------------------------------------------


@pytest.mark.brewbench_lab_cloud("forged-ok")
def test_every_lookup_and_destination_is_recorded_per_action(brewbench_lab_device):
    drive(brewbench_lab_device)
    lookups = {(e.action, e.record.meta["name"], e.record.meta["resolver"])
               for e in network(brewbench_lab_device, protocol="dns")}
    assert ("brew", MQTT_HOST, "hard-coded") in lookups
    assert ("provision", "api.acme-cloud.example", "hard-coded") in lookups
    connects = {(e.action, e.record.meta["destination"], e.record.meta["located"])
                for e in network(brewbench_lab_device, event="connect")}
    assert {("brew", MQTT_HOST, "DE"), ("pay", PAYMENTS_CN, "CN"),
            ("status", HEARTBEAT_DE, "DE")} <= connects
    lab = brewbench_lab_device.capture.meta["labnet"]
    assert lab["addresses_data"]
    assert lab["destinations"][PAYMENTS_CN]["operator"].startswith("Alibaba Cloud")
    assert lab["destinations"][MQTT_HOST]["address"] == WORLD[MQTT_HOST]
    assert lab["destinations"][MQTT_HOST]["registered"] == "US"  # AWS Frankfurt: located DE


@pytest.mark.parametrize(("cloud", "verdict", "readable"), [
    ("validating", "refused", False),
    ("forged-ok", "accepted", True),
    ("pinned", "accepted-then-closed", False),
    ("plain", "plain", True),
])
def test_each_tls_behaviour_gets_its_verdict(request, cloud, verdict, readable,
                                             brewbench_mosquitto, brewbench_settings,
                                             brewbench_run_log):
    request.node.add_marker(pytest.mark.brewbench_lab_cloud(cloud))
    device = request.getfixturevalue("brewbench_lab_device")
    drive(device)
    verdicts = {e.record.meta["destination"]: e.record.meta["tls_verdict"]
                for e in network(device, event="connect")}
    assert set(verdicts) == {MQTT_HOST, PAYMENTS_CN, HEARTBEAT_DE, "api.acme-cloud.example"}
    assert set(verdicts.values()) == {verdict}
    sni = {e.record.meta["destination"]: e.record.meta["sni"] for e in network(device, event="connect")}
    if cloud != "plain":
        assert sni[MQTT_HOST] == MQTT_HOST and sni[PAYMENTS_CN] == ""  # no SNI for an address
    uplink = [e for e in device.capture.entries if e.record.channel == UPLINK]
    assert bool(uplink) is readable
    assert device.capture.meta["labnet"]["escaped"] == 0
    assert device.capture.meta["labnet"]["dropped"] == 0


@pytest.mark.brewbench_lab_cloud("forged-ok")
def test_plaintext_behind_a_forged_certificate_is_classified_and_the_owner_found(
        brewbench_lab_device):
    canaries = plant()
    drive(brewbench_lab_device, canaries)
    found = [e for e in emissions(brewbench_lab_device.capture) if e.channel == UPLINK]
    hits = {(f.canary, f.action) for f in Hunter(canaries.canaries).hunt(found)}
    assert ("owner", "brew") in hits  # the order record over MQTT in TLS
    assert ("floor", "provision") in hits  # diagnostics over HTTPS, gzipped JSON
    assert ("card_number", "pay") in hits  # payment over HTTPS to a hard-coded address
    hosts = {e.record.meta["host"] for e in brewbench_lab_device.capture.entries
             if e.record.channel == UPLINK}
    assert {MQTT_HOST, PAYMENTS_CN} <= hosts


@pytest.mark.brewbench_lab_cloud("forged-ok")
def test_a_hard_coded_address_in_cn_breaks_an_eu_only_contract(brewbench_lab_device, tmp_path):
    drive(brewbench_lab_device)
    regions = Path(__file__).parent.parent / "contracts" / "regions.toml"
    contract = tmp_path / "eu-only.toml"
    contract.write_text(EU_ONLY.format(regions=regions), encoding="utf-8")
    verdict = check(brewbench_lab_device.capture, contract)
    residency = [v for v in verdict.violations if v.destination]
    assert residency, verdict.report()
    assert {v.destination for v in residency} == {PAYMENTS_CN}
    card = next(v for v in residency if v.category == "payment")
    assert card.action == "pay"
    assert "located CN" in card.why and "Alibaba Cloud" in card.why and "AS37963" in card.why
    assert "(region cn); allowed: region eu" in card.why


# -- sealed connections: what their lengths say ---------------------------------------------------


def test_the_ciphertext_differential_names_the_host_a_validating_machine_sends_the_owner_to(
        brewbench_lab_network, brewbench_mosquitto):
    """Owners of 9, 9 and 25 characters: the sealed MQTT record during brew grows by
    one byte per character (AEAD), and nothing else follows (issue 26's measurement)."""
    lab = brewbench_lab_network
    runs = []
    canaries = plant()  # the same planted values in every run but the owner's
    with MakerCloud() as maker:
        lab.passthrough_to(maker.passthrough)
        for owner in ("Ada Byron", "Bob Smith", "Ada Lovelace-Byron Canary"):
            tap = UplinkTap(brewbench_mosquitto.address)
            # One serial number for all: it is in every message, compressed with the rest.
            with LabDevice(lab, "validating", serial="BB5E41ED", trust=maker.ca_file) as spec, \
                    open_device(spec, uplink=tap) as device:
                device.machine.connection.attach(lab)
                lab.bind(device.capture, tap_upstream(tap))
                provisioning = {**canaries.provisioning(), "owner": owner}
                device.machine.provision(**provisioning)
                device.machine.brew("latte")
                device.machine.pay("card", 350, card=canaries.card())
            assert {m["tls_verdict"] for m in metas(device.capture, "connect")} == {"sealed"}
            assert not [e for e in device.capture.entries if e.record.channel == UPLINK]  # unread
            runs.append((len(owner), device.capture))
    (found,) = length_follows(runs)
    assert (found.host, found.action, found.bytes_per_char, found.spread) == (MQTT_HOST, "brew", 1.0, 0)
    assert found.sentence().startswith(f"the length of what the machine sends to {MQTT_HOST} during "
                                       "brew follows the planted owner's length")


def test_lengths_that_vary_by_themselves_are_not_a_finding():
    def capture(total: int) -> Capture:
        lengths = {"action": "brew", "lengths": [total], "types": [23]}
        return Capture("x", {"labnet": {"destinations": {"h": {"record_lengths": [lengths]}}}})
    assert length_follows([(5, capture(100)), (5, capture(104)), (9, capture(103))]) == []
    assert length_follows([(5, capture(100)), (9, capture(104))])[0].bytes_per_char == 1.0
    assert length_follows([(5, capture(100)), (5, capture(100))]) == []  # one length: no answer
    assert length_follows([(5, Capture("x", {"labnet": "hostile"})), (9, capture(1))]) == []


def test_the_server_name_is_read_from_a_real_client_hello_and_garbage_gives_none():
    import ssl
    hello = ssl.create_default_context().wrap_bio(ssl.MemoryBIO(), outgoing := ssl.MemoryBIO(),
                                                  server_hostname="mqtt.example")
    with pytest.raises(ssl.SSLWantReadError):
        hello.do_handshake()
    record = outgoing.read()
    assert server_name(record) == "mqtt.example"
    for cut in range(0, len(record), 7):
        assert server_name(record[:cut]) in ("", "mqtt.example")
    assert server_name(b"\x16\x03\x01\xff\xff" + bytes(range(256)) * 3) == ""


@pytest.mark.brewbench_lab_cloud("forged-ok")
def test_the_cloud_contract_judges_a_lab_device_by_where_its_data_went(brewbench_lab_device):
    drive(brewbench_lab_device)
    verdict = check(brewbench_lab_device.capture, Path(__file__).parent.parent / "contracts"
                    / "cm-500-cloud.toml")
    # What the network saw is the machine's device behaviour, allowed on channel network.
    assert [v for v in verdict.violations if v.channel == NETWORK] == [], verdict.report()
    payments = {v.destination for v in verdict.violations if v.destination and v.category == "payment"}
    assert payments == {PAYMENTS_CN}, verdict.report()
    # Device data may go to the maker's named hosts only: an address at Hetzner is not one,
    # though it is in region eu.
    heartbeat = next(v for v in verdict.violations if v.destination == HEARTBEAT_DE)
    assert "(region eu); allowed: *.acme-cloud.example" in heartbeat.why


@pytest.mark.brewbench_lab_cloud("forged-ok")
def test_influxdb_gets_where_each_destination_is(brewbench_lab_device, brewbench_influx):
    drive(brewbench_lab_device)
    contract = Path(__file__).parent.parent / "contracts" / "cm-500-cloud.toml"
    points = destination_points(verify(brewbench_lab_device.capture, contract=contract),
                                RunTags(run="run-labnet"))
    with open_sink(brewbench_influx) as sink:
        sink.write(points)
        assert sink.flush(timeout=30)
    reader = InfluxReader(brewbench_influx)
    rows = reader.points("uplink", "run-labnet")
    reader.close()
    payment = next(r for r in rows if r["category"] == "payment" and r["destination"] == PAYMENTS_CN)
    assert (payment["located"], payment["residency_breach"]) == ("CN", True)
    assert payment["operator"].startswith("Alibaba Cloud")
    records = next(r for r in rows if r["destination"] == MQTT_HOST)
    assert (records["address"], records["located"], records["registered"]) == (WORLD[MQTT_HOST], "DE", "US")


# -- the address table and residency by place (no lab needed) --------------------------------


def test_the_address_table_places_by_the_most_specific_range():
    table = load_addresses()
    aws = table.place("52.28.1.2")
    assert (aws.located, aws.registered, aws.asn, aws.network) == ("DE", "US", 16509, "52.28.0.0/16")
    assert table.place("120.27.255.255").located == "CN"
    unplaced = table.place("100.64.0.1")
    assert not unplaced.placed and "not in the address table" in unplaced.describe()
    assert not table.place("not an address").placed


def test_a_malformed_address_table_is_one_line(tmp_path):
    bad = tmp_path / "addresses.toml"
    bad.write_text('format = "brewbench-addresses"\nversion = 1\n[[range]]\nnetwork = "1.2.3.0/33"\n')
    with pytest.raises(AddressTableError, match="range 1"):
        load_addresses(bad)
    bad.write_text("not toml [")
    with pytest.raises(AddressTableError, match="cannot read"):
        load_addresses(bad)
    bad.write_bytes(b"\xf6\x00\xff garbage")
    with pytest.raises(AddressTableError, match="cannot read"):
        load_addresses(bad)


def test_a_placed_destination_is_judged_by_where_its_address_is():
    regions = Regions({"eu": ("*.eu-central-1.*",)}, {"eu": ("DE", "FR"), "cn": ("CN",)})
    rule = Rule(regions=("eu",))
    in_cn = {"address": "120.24.0.17", "located": "CN", "registered": "CN", "operator": "Alibaba Cloud",
             "asn": 37963, "network": "120.24.0.0/14"}
    # A name that says eu-central-1 is in CN when its address is.
    why = rule.breach("mqtt.eu-central-1.acme-cloud.example", regions, in_cn)
    assert why is not None and "located CN" in why and "(region cn)" in why
    assert rule.breach("mqtt.eu-central-1.acme-cloud.example", regions) is None  # by name only
    assert rule.breach("x.example", regions, {**in_cn, "located": "DE"}) is None
    assert Rule(operators=("alibaba*",)).breach("x", regions, in_cn) is None
    assert Rule(countries=("CN",)).breach("x", regions, in_cn) is None


# -- brewbench run --lab-network ------------------------------------------------------------


def test_brewbench_run_behind_the_lab_network_names_each_destination(brewbench_lab_network,
                                                                       tmp_path):
    brewbench_lab_network.stop()  # the run makes a lab per device: this one only checked root
    done = subprocess.run([sys.executable, "-m", "brewbench", "run", "--lab-network", "forged-ok",
                           "--device", "emu://?firmware=2.1", "--results", str(tmp_path)],
                          capture_output=True, text=True, timeout=180, check=False)
    assert done.returncode == 0, done.stderr
    line = next(x for x in done.stdout.splitlines() if x.startswith(f"   -> {PAYMENTS_CN} "))
    assert "payment" in line and "located CN" in line and "Alibaba Cloud" in line
    assert "TLS: accepted" in line
    assert " 0 left the lab" in done.stdout
    (saved,) = tmp_path.glob("*/captures/*.jsonl")
    channels = {json.loads(x).get("channel") for x in saved.read_text().splitlines()[1:]}
    assert {"network", "uplink", "serial"} <= channels


def test_brewbench_run_lab_network_refuses_a_real_device_in_one_line(tmp_path):
    done = subprocess.run([sys.executable, "-m", "brewbench", "run", "--lab-network", "validating",
                           "--device", "serial:///dev/ttyUSB99", "--results", str(tmp_path)],
                          capture_output=True, text=True, timeout=60, check=False)
    assert done.returncode == 2
    assert done.stderr.strip().splitlines()[-1].startswith("brewbench run --lab-network: ")
    assert "Traceback" not in done.stderr


@pytest.mark.parametrize(("spec", "named"), [
    ("emu://?family=jura", "family=jura"),
    ("emu://?firmware=2.1&transport=ble", "transport=ble"),
    ("emu://?firmware=1.2&noise=field&seed=7", "noise=field, seed=7"),
])
def test_brewbench_run_lab_network_never_drives_another_machine_than_the_spec(tmp_path, spec,
                                                                              named):
    """The lab's emulated machine is a CM-500 over serial with a firmware: a spec asking for
    anything else is refused in one line, never silently run as a CM-500 2.1."""
    done = subprocess.run([sys.executable, "-m", "brewbench", "run", "--lab-network", "validating",
                           "--device", spec, "--results", str(tmp_path)],
                          capture_output=True, text=True, timeout=60, check=False)
    assert done.returncode == 2, done.stdout
    assert done.stderr.strip().splitlines()[-1] == (
        f"brewbench run --lab-network: {spec}: the lab network's emulated machine is a CM-500 "
        f"over serial (firmware=, serial=); not {named}")
    assert "device: " not in done.stdout and not list(tmp_path.glob("*/captures/*.jsonl"))


# -- the guide's examples ------------------------------------------------------------------------

GUIDE = Path(__file__).parent.parent / "docs" / "lab-network.md"


def guide_examples() -> list[str]:
    blocks = GUIDE.read_text(encoding="utf-8").split("```python\n")[1:]
    return [block.split("```", 1)[0] for block in blocks]


def test_the_guides_pytest_example_passes(pytester: pytest.Pytester, brewbench_lab_network):
    brewbench_lab_network.stop()  # the example makes a lab of its own: this one only checked root
    pytester.makepyfile(test_guide=guide_examples()[0])
    result = pytester.runpytest_subprocess("-p", "no:randomly", "-p", "no:cacheprovider")
    result.assert_outcomes(passed=1)


def test_the_guides_python_example_runs(brewbench_lab_network):
    brewbench_lab_network.stop()
    done = subprocess.run([sys.executable, "-c", guide_examples()[1]], capture_output=True, text=True,
                          timeout=120, check=False)
    assert done.returncode == 0, done.stderr[-2000:]
