"""A labelled corpus for the content detectors: what devices really send.

``CORPUS[detector] = (positives, hard negatives)``. Positives are the forms a
value of that kind takes in device output (structured maps, several notations,
every card network, every SEPA country); hard negatives are look-alikes devices
emit all the time (barcodes, version strings, timestamps, netmasks, sensor
pairs, status words). ``score()`` gives precision and recall per detector:
a detector's false positives are counted over its own hard negatives and over
every other detector's negatives (none of them should light anything).

``python benchmarks/detector_quality.py`` prints the table.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

__all__ = ["CORPUS", "Score", "score"]


def _luhn_complete(body: str) -> str:
    for check in "0123456789":
        digits, total = body + check, 0
        for index, char in enumerate(reversed(digits)):
            digit = int(char)
            if index % 2:
                digit = digit * 2 - 9 if digit > 4 else digit * 2
            total += digit
        if total % 10 == 0:
            return digits
    raise AssertionError(body)


def _cards() -> list[Any]:
    rng = random.Random(13)
    brands = [("4", 16), ("4", 19), ("51", 16), ("55", 16), ("2221", 16), ("2720", 16),
              ("34", 15), ("37", 15), ("6011", 16), ("65", 16), ("644", 16), ("3528", 16),
              ("3589", 16), ("36", 14), ("300", 14), ("38", 16), ("62", 16), ("62", 19),
              ("5018", 16), ("6304", 16), ("6759", 16), ("6761", 19), ("2200", 16),
              ("2204", 16), ("60", 16), ("508", 16), ("81", 16), ("82", 16)]
    numbers = [_luhn_complete(p + "".join(rng.choice("0123456789")
                                          for _ in range(n - len(p) - 1))) for p, n in brands]
    forms: list[Any] = []
    for index, number in enumerate(numbers):
        grouped = " ".join(number[i:i + 4] for i in range(0, len(number), 4))
        forms.append([number, grouped, f"card={number}", f'{{"pan": "{number}"}}',
                      f"paid with {number}.", "-".join(number[i:i + 4]
                                                        for i in range(0, len(number), 4))][index % 6])
    forms += [4111111111111111, "5555 5555 5555 4444", "card 378282246310005 ok",
              "PAN:6011000990139424;"]
    return forms


def _ibans() -> list[str]:
    from brewbench.bench.verify.payment_detectors import IBAN_LENGTHS

    sepa = ["AD", "AT", "BE", "BG", "CH", "CY", "CZ", "DE", "DK", "EE", "ES", "FI", "FR", "GB",
            "GI", "GR", "HR", "HU", "IE", "IS", "IT", "LI", "LT", "LU", "LV", "MC", "MT", "NL",
            "NO", "PL", "PT", "RO", "SE", "SI", "SK", "SM", "VA"]
    rng, out = random.Random(97), []
    for index, country in enumerate(sepa):
        bban = "".join(rng.choice("0123456789") for _ in range(IBAN_LENGTHS[country] - 4))
        number = int("".join(str(int(c, 36)) for c in bban + country + "00"))
        iban = f"{country}{98 - number % 97:02d}{bban}"
        grouped = " ".join(iban[i:i + 4] for i in range(0, len(iban), 4))
        out.append([iban, grouped, f"routing={iban}", f'{{"iban": "{grouped}"}}',
                    f"{iban} EUR", f"refund to {grouped}."][index % 6])
    return [*out, "IBAN DE89 3704 0044 0532 0130 00", "GB82WEST12345698765432"]


CORPUS: dict[str, tuple[list[Any], list[Any]]] = {
    "card_number": (_cards(), [
        "4006381333931", "5901234123457", "4012345678901", "8712345678906", "9780201379624",
        "barcode 4006381333931", '{"ean": "5012345678900"}', "1764295348123456789",
        "1234567812345678", "4111111111111112", "order 4000000000000001", "ts=1732761234567",
        "serial 0000000000000000", "txn 99887766554433221", "lot 4-4411-1111",
        "0123456789012345", "uptime 3600123456789 ns", "4111-1111-1111-111", "7777777777777777",
        "cafe0123456789abcdef", "1.4111111111111111", "v4111111111111111",
        "id=40000000000000020", "9999999999999995", "12345678901234567890123",
        "lot 2024111100000001", "gtin 00012345600012", "5555-5555-5555-5556",
        "order 30569309025905", "seq 100000000000000000"]),
    "iban": (_ibans(), [
        "DE00 1234 5678 9012 3456 78", "DE89370400440532013001", "GB82WEST1234569876543",
        "AB12CD34EF56GH78IJ90", "FR14 2004 1010 0505 0001 3M02 60", "XX89370400440532013000",
        "SN12K00100152000025690007542", "CM-500 BB3F2A1C", "DE8937040044053201300",
        "NL91ABNA041716430", "serial DE2024110012345678", "US12345678901234567890",
        "BE68 5390 0754 7035", "MODEL AT20 SERIES 12345678901234", "CH93 0076 2011 6238 5295 8",
        "ERR E1234 E5678", "ES91 2100 0418 4502 0005 1333", "SHA DE4A7F3A9C2E1B0D77",
        "IT60X0542811101000000123457", "base32 MFRGGZDFMZTWQ2LKNNWG23TPOA", "PL61 1090 1014",
        "NO93 8601 1117 948", "GR16 0110 1250 0000 0001 2300 69", "DK50 0040 0440 1162 44",
        "FI21 1234 5600 0007 84", "LU28 0019 4006 4475 0001", "SE45 5000 0000 0583 9825 7467",
        "IE29 AIBK 9311 5212 3456 79", "PT50 0002 0123 1234 5678 9015 5", "AT61 1904 3002 3457 3202"]),
    "email": ([
        "contact: ada.lovelace@example.org", "ada@example.com", '{"email": "bob@corp.example"}',
        "owner=jane.doe+coffee@mail.example.net", "mailto:ops@kaffee.example.de",
        "user: j_smith@example.co.uk", "Notify first.last@sub.domain.example", "x@example.io",
        "support-team@example.museum", "<ada@example.org>", "ADA@EXAMPLE.ORG",
        "email=o'neil@example.com", "an.o@example.travel", "root@server1.example.net",
        "reply to hans.müller@example.de", "1234@example.com", "ada.7f3a9c2e@canary.example",
        '"contact":"ops@cafe.example"', "To: Max <max@example.at>", "from:anna@example.se;",
        "e: li.wei@example.cn", "cc=m.rossi@example.it", "mail ana@example.pt now",
        "login p.nowak@example.pl", "k.virtanen@example.fi", "admin@coffee-lab.example.com",
        "name@example.technology", "user_01@example.org", "z@example.ch", "a.b.c@example.org"], [
        "icon@2x.png", "logo@3x.webp", "user@localhost", "fw@2.1.0", "git@host",
        "name@domain", "@mention", "a@b.c", "support at example dot com", "sha256@1a2b3c",
        "node@host1", "build@2024-11-28", "img@2x.jpg", "x@y", "@@@", "ada@", "@example.com",
        "pkg@1.0.0", "sensor@3x.bin", "v1.2@beta", "temp@93.5", "cfg@host.local",
        "printer@office.lan", "host@device.internal", "a@b", "ratio 2@3", "user@[::1]",
        "test@test", "brew@latte", "id@12345"]),
    "phone": ([
        "call +49 30 1234567", "+1 (415) 555-0132", "0044 20 7946 0958", "+33 1 42 68 53 00",
        "tel:+4930123456", '{"phone": "+44 7700 900123"}', "+81-3-1234-5678", "+91 98765 43210",
        "+14155550132", "phone=+41 44 668 18 00", "+31 20 794 0911", "+39 06 6988 3145",
        "+34 91 123 45 67", "+43 1 53114 0", "+46 8 123 456 78", "+48 22 123 45 67",
        "+45 33 12 34 56", "+358 9 1234 5678", "+353 1 234 5678", "+351 21 123 4567",
        "+30 21 0123 4567", "+420 224 123 456", "+36 1 234 5678", "+61 2 9876 5432",
        "+55 11 91234-5678", "+86 10 1234 5678", "+7 495 123-45-67", "0049 89 12345678",
        "mobile: +49 170 1234567", "+1.415.555.0132"], [
        "+1.5 dB", "+20.5 C", "+0100", "2026-11-28T02:13:00+01:00", "+12345", "temp +93.5",
        "GMT+05:30", "v+1.2.3", "+/-", "1+1=2", "+49", "0049", "+10 %", "offset +3600",
        "+1234567", "+48.137432,+11.575491", "+48.137432 +11.575491", "+12.345678",
        "delta +0.0012345", "00:00:00", "0010", "+1 2 3", "pressure +9.1234 bar",
        "id 001234567", "+2024-11-28", "x +3.14159265", "+100.000001", "+45.1234567",
        "tz +02:00", "score +15"]),
    "mac_address": ([
        "ap=3c:22:fb:12:9a:0e", "3C-22-FB-12-9A-0E", '{"bssid": "a4:2b:b0:c1:d2:e3"}',
        "mac 00:1a:2b:3c:4d:5e", "hwaddr=F0:9F:C2:01:02:03", "3c22.fb12.9a0e",
        "mac=3C22FB129A0E", "wlan0 ether b8:27:eb:45:67:89", "peer 70-85-C2-AA-BB-CC",
        "bssid: 9c:5c:8e:11:22:33", "dev DC:A6:32:01:23:45", "client 28:cf:e9:ab:cd:ef",
        "AP 64:66:b3:00:11:22", "src=00:0c:29:3e:5f:71", "addr 02:42:ac:11:00:02",
        "station ac:de:48:00:11:22", "mac: 5c:cf:7f:12:34:56", "gw 00:50:56:c0:00:08",
        "BLE 24:0a:c4:12:34:56", "eth 08:00:27:aa:bb:cc", "f4:f5:d8:12:34:56 joined",
        "mac-address: 18-31-BF-12-34-56", "mac_address=e4:5f:01:23:45:67",
        "router c8:3a:35:01:02:03", "[d8:3a:dd:11:22:33]", "ether=0050.56c0.0008",
        "bssid=f09fc2010203", "mac=\"3c:22:fb:12:9a:0f\"", "addr 10:02:b5:aa:bb:cc",
        "wifi mac b0:be:76:12:34:56"], [
        "00:00:00:00:00:00", "ff:ff:ff:ff:ff:ff", "12:30:45", "fe80:1",
        "550e8400-e29b-41d4-a716-446655440000", "2026-11-28", "1A-2B-3C",
        "01:23:45:67:89:ab:cd", "de ad be ef 00 11", "3C22FB129A0E", "BB3F2A1C",
        "sha 3c22fb129a0e4f5a", "00-00-00-00-00-00", "FF-FF-FF-FF-FF-FF", "12:34:56.789",
        "1:2:3:4:5:6", "ab:cd", "0x3c22fb129a0e", "20:01:0d:b8", "v1.2.3.4.5.6",
        "3c:22:fb:12:9a", "3c:22:fb:12:9a:0e:11", "token=3c22fb129a0e9f8e",
        "10:20:30:40:50", "a-b-c-d-e-f", "serial 3C22-FB12-9A0E", "uuid 3c22fb12-9a0e",
        "color #3c22fb", "crc 3c22fb12", "00:11:22:33:44"]),
    "ipv4": ([
        "uplink 192.168.17.42 ok", "8.8.8.8", "dns 1.1.1.1", "9.9.9.9", "192.168.1.10:8080",
        "ip=10.0.0.5", '{"ip": "172.16.4.2"}', "gw 192.168.0.1", "dns 8.8.4.4",
        "addr 100.64.1.2", "peer 203.0.113.7", "server=198.51.100.23", "from 10.1.2.3",
        "ipv4: 172.31.255.1", "http://192.168.178.1/login", "src 10.10.10.10",
        "client 192.0.2.55 connected", "lease 10.0.0.101", "remote=52.28.1.1",
        "host 4.2.2.2", "ntp 129.6.15.28", "mqtt://10.0.0.2:1883", "nat 100.100.1.1",
        "wan 84.112.3.4", "broker 3.120.5.6", "[10.0.0.7]", "ip:192.168.2.3;",
        "route via 10.8.0.1", "169.254.10.20", "ip 1.2.0.3"], [
        "linux-4.19.128.1", "version 4.19.128.1", "v1.2.3.4", "firmware 2.1.0.15",
        "version 10.0.19045.1", "255.255.255.0", "255.255.0.0", "0.0.0.0", "mask 255.255.255.128",
        "oid 1.3.6.1.4.1.9", "28.11.2026", "1.2.3", "127.0.0.1", "kernel 5.10.103.1",
        "build 22.04.1.5", "fw 3.2.1.0", "300.1.2.3", "1.2.3.4.5", "ver. 2.0.0.1",
        "release 1.0.0.123", "temp 93.5", "12.30.45", "boot 2.4.8.16", "linux 6.1.21.7",
        "sw: 7.1.0.12", "rev 1.0.3.4", "app 4.5.6.7", "255.255.255.255", "mask=255.0.0.0",
        "image 1.22.333.4"]),
    "ipv6": ([
        "fe80::1c2b:3ff:fe4a:12", "2001:db8:85a3::8a2e:370:7334", "[2001:db8::1]:443",
        "::ffff:192.0.2.1", "FE80::1C2B:3FF:FE4A:12", "fe80::1%wlan0", "addr 2a00:1450:4001::1",
        "ip6=2001:0db8:0000:0000:0000:ff00:0042:8329", "gw fe80::a", "fd00::1234",
        "2606:4700:4700::1111", '{"ipv6": "2001:db8::8"}', "peer 2001:db8:1:2::3",
        "ula fd12:3456:789a:1::1", "2001:db8::", "dns 2001:4860:4860::8888",
        "http://[2001:db8::2]/", "src fe80::200:5eff:fe00:5301", "2001:db8:0:0:1:0:0:1",
        "link fe80::dead:beef", "2a02:8071:abcd::10", "client 2001:db8:abcd:12::5",
        "fe80::f2de:f1ff:fe12:3456", "2001:db8::ff00:42:8329", "ip 2400:cb00:2048:1::c629:d7a2",
        "v6: 2001:db8:a::b", "2001:db8:0:1::", "fe80::3c22:fbff:fe12:9a0e",
        "next-hop 2001:db8::fffe", "addr=2001:db8:10::10"], [
        "::", "::1", "12:30:45", "a::b", "std::vector", "Foo::bar", "10:20:30",
        "2026-11-28T02:13:00", "de:ad:be:ef", "3c-22-fb", "1:2", "a:b:c",
        "12:30:45:67", "::a", "1::2", "http://host::80", "ratio 1:2:3", "C::D::E",
        "00:00:00:00", "a:b::", "time 23:59:59", "map[a:1 b:2]", "x::y::z", "key: value",
        "0:0:0:0:0:0:0:0", "0:0:0:0:0:0:0:1", "ns::fn", "err::timeout", "12:00", "ab::cd"]),
    "lat_lon": ([
        "pos 48.13743, 11.57549", "lat=48.1374&lon=11.5754", '{"lat": 48.137, "lon": 11.575}',
        '"coordinates": [11.5754, 48.1374]', "48°08'14.7\"N 11°34'31.8\"E",
        "48°8.245'N 11°34.530'E", "Position: 48,13743; 11,57549",
        '"latitudeE7": 481374300, "longitudeE7": 115754900', "geo:48.1374,11.5754",
        "N 48.13743 E 11.57549", "48.13743N 11.57549E", "gps 48.13743 11.57549",
        "+48.1374+011.5754/", "$GPGGA,123519,4807.038,N,01131.000,E,1,08,0.9,545.4,M",
        "latitude: -33.8688, longitude: 151.2093", "loc=40.7128,-74.0060",
        "location [52.5200, 13.4050]", "lat 51.5074 lng -0.1278", '{"lat":"48.86","lng":"2.35"}',
        "coords: 35.6762, 139.6503", "S 33.8688 E 151.2093", "37°46'29.6\"N 122°25'09.8\"W",
        "position=59.3293;18.0686", "latlng 41.9028,12.4964", "geo: -22.9068, -43.1729",
        "where: 55.7558, 37.6173", "lat_e7=525200000 lon_e7=134050000", "lat: 48,1374 lon: 11,5754",
        "4807.038,N,01131.000,E", "Standort 47.3769, 8.5417"], [
        "temp 93.5000, 9.1000", "pressure 1.0132, 0.9987", "version 1.2345, 2.3456",
        "ratio 0.6180, 1.6180", "rgb 0.2126, 0.7152", "weights 0.2500, 0.7500",
        "1764295348.1234, 1764295349.5678", "lat=91.0000 lon=10.0000", "order 481374300, 115754900",
        "48°C, 11°C", "Temp 48°C", "calibration 0.12345, 1.00012", "[0.1234, 0.5678]",
        "scale 2.0000, 3.0000", "gain 12.3456 offset 4.5678", "48.13743, 11.57549",
        "flow 12.5000 / 13.2500", "voltage 3.3000; 5.0000", "v 1.0000 2.0000",
        "x=48.1374 y=11.5754", "angle 45.0000, 90.0000", "pid 0.3000, 0.0100",
        "score 12.34567 98.76543", "grind 3.5000, 4.0000", "lat", "lon 11.5754",
        "latency 48.1374, 11.5754", "long 2.5000 ms", "pos 0, 0", "ml 250.0000, 40.0000"]),
    "place": ([
        "Floor 7, Room 7.21", "3rd floor east wing", "Bldg. C", "Room 7.21", "Suite 400",
        "Etage 3", "2. Stock", "3. OG", '{"floor": "7"}', '{"room": "Kitchen"}',
        "Building 42", "Wing B", "Gebäude 3", "Raum 1.04", "Zimmer 12", "2nd Floor",
        "Ground floor", "Floor 7F3A9C2E", "rm. 12", "floor: 3", "Bldg 7", "suite #210",
        "building: B12", "room=K1", '"building": "HQ North"', "11th floor", "Fl. 4",
        "Office 3.14", "Storey 2", "Apt. 5B"], [
        "floored", "buildings", "floor cleaning cycle", "room temperature 21.5", "wing nut",
        "suite of tests", "building firmware", "rebuilding cache", "roomy", "floor(3.7) = 3",
        "floor division", "build 1234", "room for improvement", "test suite passed",
        "floor_clean=true", "room_temp=21", "buildroot 2023.02", "the wings", "unit test",
        "office hours", "hall effect sensor", "story mode", "descaling: room needed",
        "floor mat", "building", "Room", "on the floor", "floors: many", "suite", "level 80"]),
    "ssid": ([
        'wifi: "CoffeeNet-5G"', "SSID=Office_Guest", '{"ssid": "Lobby WiFi"}', '"essid":"Acme-Corp"',
        "connected to 'HomeNet'", "wlan0: associated with SSID 'Office'", "ap_ssid=Guest",
        "wifi_ssid: Foo", 'SSID: "Acme Guest"', "network: CoffeeNet", "joined 'Kaffee-Lab'",
        "ssid=canary-wlan-7F3A9C2E", "sta_ssid=Home-2.4", '{"wifi": "Bakery_Free"}',
        "wlan=FRITZ!Box 7590", "Connecting to \"Airport Free WiFi\"", "essid: eduroam",
        '"ssid":"café-guest"', "wifi=MyNetwork", "target_ssid: Lab5G", "SSID='Linksys00042'",
        "net: Vodafone-ABCD", "ssid: Home", "connected to network 'Starbucks'",
        '{"ap": "Hotel-Lobby"}', "wifi_name=Office WLAN", "ESSID=\"Cafe Central\"",
        "ssid = Guest-Net", "wlan: TP-Link_1234", "WIFI: Campus"], [
        "wifi: connected", "wifi=off", "wlan: disabled", "wifi rssi -67", "WiFi: scanning",
        "wifi_rssi=-61", "wlan0 up", '"wifi": true', '{"ssid": ""}', "bssid=",
        "ssid_len=8", "wifi: 2.4GHz", "wifi channel 6", "wifi: -70 dBm", "wlan mode=sta",
        "Wifi: ok", "wifi: 1", "network: up", "net: 0", "wifi: none", "ap: enabled",
        "wlan: idle", "wifi=failed", "network: dhcp", "wifi: 80%", "wifi enabled",
        "connected to broker", "ssid", "wlan: ready", "net: n/a"]),
}


@dataclass(frozen=True)
class Score:
    detector: str
    positives: int
    negatives: int
    true_positives: int
    false_positives: int
    missed: list[Any]
    false_alarms: list[Any]

    @property
    def precision(self) -> float:
        fired = self.true_positives + self.false_positives
        return self.true_positives / fired if fired else 1.0

    @property
    def recall(self) -> float:
        return self.true_positives / self.positives if self.positives else 1.0


def score(detect: Callable[[Any], list[Any]]) -> dict[str, Score]:
    """Precision and recall of every detector in ``CORPUS`` under ``detect``."""
    every_negative = [value for _positives, negatives in CORPUS.values() for value in negatives]
    out = {}
    for name, (positives, negatives) in CORPUS.items():
        missed = [v for v in positives if name not in {hit.detector for hit in detect(v)}]
        alarms = [v for v in _unique(negatives + every_negative)
                  if name in {hit.detector for hit in detect(v)}]
        out[name] = Score(name, len(positives), len(_unique(negatives + every_negative)),
                          len(positives) - len(missed), len(alarms), missed, alarms)
    return out


def _unique(values: list[Any]) -> list[Any]:
    seen, out = set(), []
    for value in values:
        if repr(value) not in seen:
            seen.add(repr(value))
            out.append(value)
    return out
