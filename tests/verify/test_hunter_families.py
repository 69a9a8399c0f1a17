"""The hunter on encodings the rest of the suite never uses (held-out cases).

Each form here is built by the test, not by the hunter's own tables: base-N
alphabets, single-byte keys, separators, entities, other compressors, digests
of normalised values, and reformatted values tied to the run by its tag.
"""

from __future__ import annotations

import base64
import bz2
import hashlib
import lzma
import string
import unicodedata
from collections.abc import Callable

from hypothesis import given, settings
from hypothesis import strategies as st

from brewbench.bench.verify.canaries import plant
from brewbench.bench.verify.hunter import Hunter

CANARIES = plant("C0FFEE42")
HUNTER = Hunter(CANARIES.canaries)
TEXTS = [c.name for c in CANARIES.canaries if c.name != "card_number"]
ALL = [c.name for c in CANARIES.canaries]

_B85 = string.digits + string.ascii_uppercase + string.ascii_lowercase + "!#$%&()*+-;<=>?@^_`{|}~"
_Z85 = string.digits + string.ascii_lowercase + string.ascii_uppercase + ".-:+=^!/*?&<>()[]{}@%$#"


def _base58(data: bytes) -> bytes:
    alphabet, number, out = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz", \
        int.from_bytes(data, "big"), ""
    while number:
        number, digit = divmod(number, 58)
        out = alphabet[digit] + out
    return out.encode()


Form = Callable[[bytes, bytes, int], bytes]  # (value, pad, key) -> bytes holding it

#: held-out forms of any planted value
FORMS: dict[str, Form] = {
    "base32": lambda v, p, _k: base64.b32encode(p + v + p),
    "base32 lower": lambda v, p, _k: base64.b32encode(p + v).lower(),
    "base32hex": lambda v, p, _k: base64.b32hexencode(p + v + p),
    "ascii85": lambda v, p, _k: base64.a85encode(p + v + p),
    "base85": lambda v, p, _k: base64.b85encode(p + v),
    "z85": lambda v, p, _k: base64.b85encode(p + v).translate(
        bytes.maketrans(_B85.encode(), _Z85.encode())),
    "base58 of the value": lambda v, _p, _k: _base58(v),
    "utf-32le": lambda v, _p, _k: v.decode().encode("utf-32-le"),
    "utf-32be": lambda v, _p, _k: v.decode().encode("utf-32-be"),
    "reversed": lambda v, _p, _k: v[::-1],
    "hex with colons": lambda v, _p, _k: ":".join(f"{b:02x}" for b in v).encode(),
    "hex dump lines": lambda v, _p, _k: b"\n".join(
        " ".join(f"{b:02X}" for b in v[i:i + 8]).encode() for i in range(0, len(v), 8)),
    "C array": lambda v, _p, _k: ("{" + ", ".join(f"0x{b:02x}" for b in v) + "}").encode(),
    "decimal entities": lambda v, _p, _k: "".join(f"&#{b};" for b in v).encode(),
    "mixed entities": lambda v, _p, _k: "".join(f"&#x{b:X};" if n % 3 == 0 else chr(b)
                                                for n, b in enumerate(v)).encode(),
    "bzip2": lambda v, p, _k: bz2.compress(p + v + p),
    "xz": lambda v, p, _k: lzma.compress(p + v),
    "sha512 of lower": lambda v, _p, _k: hashlib.sha512(v.lower()).hexdigest().encode(),
    "blake2b raw of upper": lambda v, _p, _k: hashlib.blake2b(v.upper()).digest(),
    "sha1 with a newline": lambda v, _p, _k: hashlib.sha1(v + b"\n").hexdigest().encode(),
    "sha256 base64": lambda v, _p, _k: base64.b64encode(hashlib.sha256(v).digest()),
    "md5 of NFKD casefold": lambda v, _p, _k: hashlib.md5(
        unicodedata.normalize("NFKD", v.decode()).casefold().encode()).hexdigest().encode(),
    "base32 of gzip": lambda v, p, _k: base64.b32encode(lzma.compress(p + v)),
}

#: forms that need a value with distinctive byte differences (not a card number)
KEYED: dict[str, Form] = {
    "xor key": lambda v, _p, k: bytes(b ^ k for b in v),
    "additive key": lambda v, _p, k: bytes((b + k) % 256 for b in v),
    "xor then base64": lambda v, p, k: base64.b64encode(p + bytes(b ^ k for b in v)),
    "subtracted key in hex": lambda v, _p, k: bytes((b - k) % 256 for b in v).hex().encode(),
}

#: reformatted values: only the run tag ties them to the run
REFORMATTED: dict[str, Callable[[str], str]] = {
    "underscores": lambda v: v.replace(" ", "_"),
    "dropped words": lambda v: v.rsplit(" ", 1)[0] if v.endswith("GmbH") else v.split(" ")[-1],
    "no separators": lambda v: "".join(c for c in v if c.isalnum()),
    "snake lower": lambda v: v.lower().replace(" ", "_").replace("-", "_"),
}

noise = st.binary(max_size=200)
pads = st.binary(max_size=5)


def _found(data: bytes, name: str) -> bool:
    return name in {m.canary.name for m in HUNTER.scan(data)}


@settings(max_examples=300, deadline=None)
@given(name=st.sampled_from(ALL), form=st.sampled_from(sorted(FORMS)), before=noise,
       after=noise, pad=pads)
def test_held_out_forms_are_found(name: str, form: str, before: bytes, after: bytes,
                                  pad: bytes) -> None:
    encoded = FORMS[form](CANARIES[name].encode(), pad, 0)
    assert _found(before + encoded + after, name), form


@settings(max_examples=200, deadline=None)
@given(name=st.sampled_from(TEXTS), form=st.sampled_from(sorted(KEYED)), before=noise,
       after=noise, pad=pads, key=st.integers(1, 255))
def test_any_single_byte_key_is_found(name: str, form: str, before: bytes, after: bytes,
                                      pad: bytes, key: int) -> None:
    encoded = KEYED[form](CANARIES[name].encode(), pad, key)
    found = HUNTER.scan(before + encoded + after)
    assert name in {m.canary.name for m in found}, (form, key)


def test_the_key_is_named() -> None:
    owner = CANARIES["owner"].encode()
    (match,) = HUNTER.scan(bytes(b ^ 0x5A for b in owner))
    assert (match.canary.name, match.encoding) == ("owner", "xor-0x5a")


@settings(max_examples=100, deadline=None)
@given(name=st.sampled_from(TEXTS), how=st.sampled_from(sorted(REFORMATTED)), before=noise)
def test_reformatted_values_are_tied_to_the_run_by_its_tag(name: str, how: str,
                                                           before: bytes) -> None:
    text = REFORMATTED[how](CANARIES[name])
    found = HUNTER.scan(before + b" " + text.encode() + b" ")
    assert found, (how, text)
    assert all(m.encoding.startswith("run-tag") or m.canary.name == name for m in found)


def test_a_reformatted_value_names_the_value_it_came_from() -> None:
    (match,) = HUNTER.scan(b'{"site": "canary_park_c0ffee42"}')
    assert (match.canary.name, match.encoding) == ("site", "run-tag")


@settings(max_examples=200, deadline=None)
@given(data=st.binary(min_size=16, max_size=2048))
def test_random_text_forms_hold_no_canary(data: bytes) -> None:
    """Hex, base32, base64 and base85 text of random bytes: the alphabets the tag lives in."""
    for text in (data.hex().encode(), data.hex().upper().encode(), base64.b32encode(data),
                 base64.b64encode(data), base64.b85encode(data), base64.a85encode(data)):
        assert HUNTER.scan(text) == [], text
