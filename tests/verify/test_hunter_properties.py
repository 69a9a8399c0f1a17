"""Property tests of the canary hunter: any encoding, any offset, split frames, no false alarm."""

from __future__ import annotations

import base64
import gzip
import hashlib
import json
import urllib.parse
import zlib
from collections.abc import Callable

from hypothesis import given, settings
from hypothesis import strategies as st

from brewbench.bench.capture import Capture, Entry
from brewbench.bench.verify.canaries import plant
from brewbench.bench.verify.emissions import emissions
from brewbench.bench.verify.hunter import Hunter
from brewbench.drivers.messages import Kind, Message, MsgType
from brewbench.drivers.records import RX, Record, Stamp

CANARIES = plant("7F3A9C2E")
HUNTER = Hunter(CANARIES.canaries)
NAMES = [c.name for c in CANARIES.canaries]


def _deflate(data: bytes) -> bytes:
    packer = zlib.compressobj(wbits=-15)
    return packer.compress(data) + packer.flush()


def _in_base64(encode: Callable[[bytes], bytes]) -> Callable[[bytes, bytes], bytes]:
    """The value inside a longer base64 text, ``pad`` bytes in: every alignment."""
    return lambda value, pad: encode(pad + value + pad[:1])


#: form name -> (value, random pad) -> bytes that hold the value in that form.
FORMS: dict[str, Callable[[bytes, bytes], bytes]] = {
    "plain": lambda v, _p: v,
    "upper": lambda v, _p: v.upper(),
    "lower": lambda v, _p: v.lower(),
    "utf16le": lambda v, _p: v.decode().encode("utf-16-le"),
    "utf16be": lambda v, _p: v.decode().encode("utf-16-be"),
    "hex": lambda v, _p: v.hex().encode(),
    "HEX": lambda v, _p: v.hex().upper().encode(),
    "base64": _in_base64(base64.b64encode),
    "base64url": _in_base64(base64.urlsafe_b64encode),
    "url": lambda v, _p: urllib.parse.quote(v, safe="").encode(),
    "url-form": lambda v, _p: urllib.parse.quote_plus(v).encode(),
    "json-escape": lambda v, _p: "".join(f"\\u{c:04x}" for c in v).encode(),
    "json-partial": lambda v, _p: "".join(f"\\u{c:04x}" if n % 2 else chr(c)
                                          for n, c in enumerate(v)).encode(),
    "c-escape": lambda v, _p: "".join(f"\\x{c:02x}" for c in v).encode(),
    "zlib": lambda v, p: zlib.compress(p + v + p),
    "gzip": lambda v, p: gzip.compress(p + v, mtime=0),
    "md5-hex": lambda v, _p: hashlib.md5(v).hexdigest().encode(),
    "sha1-HEX": lambda v, _p: hashlib.sha1(v).hexdigest().upper().encode(),
    "sha256-hex": lambda v, _p: hashlib.sha256(v).hexdigest().encode(),
    "md5-raw": lambda v, _p: hashlib.md5(v).digest(),
    "sha1-raw": lambda v, _p: hashlib.sha1(v).digest(),
    "sha256-raw": lambda v, _p: hashlib.sha256(v).digest(),
    "base64 in JSON in zlib": lambda v, p: zlib.compress(
        json.dumps({"d": base64.b64encode(p + v).decode()}).encode()),
    "utf16 in gzip in base64url": lambda v, p: base64.urlsafe_b64encode(
        gzip.compress(p + v.decode().encode("utf-16-le"), mtime=0)),
    "hex in url": lambda v, p: urllib.parse.quote(b"x=" + v.hex().encode() + b"&y=1").encode(),
}

values = st.sampled_from(NAMES)
forms = st.sampled_from(sorted(FORMS))
noise = st.binary(max_size=300)
pads = st.binary(min_size=0, max_size=5)


def _value(name: str) -> bytes:
    return CANARIES[name].encode()


@settings(max_examples=400, deadline=None)
@given(name=values, form=forms, before=noise, after=noise, pad=pads)
def test_canary_at_any_offset_in_any_encoding_is_found(name: str, form: str, before: bytes,
                                                       after: bytes, pad: bytes) -> None:
    encoded = FORMS[form](_value(name), pad)
    found = HUNTER.scan(before + encoded + after)
    assert name in {m.canary.name for m in found}, (form, found)
    region = (len(before), len(before) + len(encoded))
    assert any(m.start < region[1] and m.end > region[0] for m in found if m.canary.name == name), \
        "the finding points into the encoded value"


@settings(max_examples=150, deadline=None)
@given(name=values, before=noise, pad=pads)
def test_raw_deflate_is_found_where_a_value_starts(name: str, before: bytes, pad: bytes) -> None:
    blob = _deflate(pad + _value(name))
    found = HUNTER.scan(before + blob, starts=(0, len(before)))
    assert (name, "deflate") in {(m.canary.name, m.encoding) for m in found}


def _bad_frames(parts: list[bytes]) -> Capture:
    capture = Capture("test")
    for n, part in enumerate(parts):
        capture.entries.append(Entry("sync", Record("serial", RX, Stamp(n, n), part,
                                                    error="bad COBS")))
    return capture


def _event_frames(parts: list[bytes]) -> Capture:
    capture = Capture("test")
    for n, part in enumerate(parts):
        message = Message(Kind.EVENT, MsgType.EVENT, n, {"event": "diag", "data": part})
        capture.entries.append(Entry("sync", Record("serial", RX, Stamp(n, n), message.encode(),
                                                    message)))
    return capture


@settings(max_examples=250, deadline=None)
@given(name=values, form=forms, before=noise, after=noise, pad=pads, cut=st.floats(0, 1),
       framed=st.booleans())
def test_canary_split_across_two_frames_is_found(name: str, form: str, before: bytes,
                                                 after: bytes, pad: bytes, cut: float,
                                                 framed: bool) -> None:
    stream = before + FORMS[form](_value(name), pad) + after
    at = len(before) + int(cut * len(FORMS[form](_value(name), pad)))
    capture = (_event_frames if framed else _bad_frames)([stream[:at], stream[at:]])
    findings = HUNTER.hunt(emissions(capture))
    assert name in {f.canary for f in findings}, (form, at, findings)
    finding = next(f for f in findings if f.canary == name)
    assert finding.channel == "serial" and finding.action == "sync"
    assert finding.entry in (0, 1)


@settings(max_examples=300, deadline=None)
@given(data=st.binary(max_size=4096))
def test_random_bytes_hold_no_canary(data: bytes) -> None:
    assert HUNTER.scan(data) == []


@settings(max_examples=100, deadline=None)
@given(parts=st.lists(st.binary(max_size=600), min_size=1, max_size=6), framed=st.booleans())
def test_random_frames_hold_no_canary(parts: list[bytes], framed: bool) -> None:
    capture = (_event_frames if framed else _bad_frames)(parts)
    assert HUNTER.hunt(emissions(capture)) == []


def test_finding_names_canary_encoding_channel_action_and_offset() -> None:
    blob = b"\x01\x02" + zlib.compress(base64.b64encode(_value("owner")))
    capture = _bad_frames([b"noise", blob])
    (finding,) = HUNTER.hunt(emissions(capture))
    assert (finding.canary, finding.chain, finding.channel, finding.action, finding.entry,
            finding.offset) == ("owner", "zlib > base64", "serial", "sync", 1, 2)
    assert "owner as zlib > base64" in finding.describe()
