"""Disguises: how a firmware hides the data it collects from a casual look.

Each disguise writes one record field from one fact the machine knows, in a
form firmware in the field really uses: compressed "diagnostics", digests,
UTF-16 strings, hex, URL parameters, escaped JSON. The 2.2 profile
(emulator/firmware.py) uses them to prove the bench sees through each one;
docs/data-verification.md lists them with what the hunter reports.
"""

from __future__ import annotations

import base64
import gzip
import hashlib
import json
import urllib.parse
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Disguise:
    """Record field ``field`` holds fact ``source`` turned by ``transform``."""

    field: str
    source: str
    transform: Callable[[str], Any]
    how: str


def diagnostics_blob(owner: str) -> bytes:
    """A zlib-compressed JSON "diagnostics" blob with the owner base64-encoded inside."""
    report = {"v": 3, "uptime_s": 86400, "u": base64.b64encode(owner.encode()).decode()}
    return zlib.compress(json.dumps(report).encode())


def callback_url(machine_name: str) -> str:
    return "https://cloud.example/r?m=" + urllib.parse.quote(machine_name, safe="")


def escaped_json(email: str) -> str:
    """JSON text with every character of the value as a ``\\uXXXX`` escape."""
    return '{"c":"' + "".join(f"\\u{ord(c):04x}" for c in email) + '"}'


def ssid_chunks(ssid: str, parts: int = 2) -> list[str]:
    """UTF-16BE, gzip, base64url: then cut in ``parts`` pieces sent in separate frames."""
    text = base64.urlsafe_b64encode(gzip.compress(ssid.encode("utf-16-be"), mtime=0)).decode()
    size = -(-len(text) // parts)
    return [text[i : i + size] for i in range(0, len(text), size)]


#: The 2.2 profile's record disguises, one per planted fact.
DISGUISES_2_2 = (
    Disguise("diag", "owner", diagnostics_blob, "base64 inside zlib-compressed JSON"),
    Disguise("card_ref", "card_number", lambda v: hashlib.sha256(v.encode()).hexdigest(),
             "SHA-256 hex digest"),
    Disguise("loc16", "floor", lambda v: v.encode("utf-16-le"), "UTF-16LE bytes"),
    Disguise("org", "organisation", lambda v: v.encode().hex().upper(), "upper-case hex"),
    Disguise("cb", "machine_name", callback_url, "URL-encoded query parameter"),
    Disguise("contact", "email", escaped_json, "JSON \\u escapes"),
    Disguise("site_md5", "site", lambda v: hashlib.md5(v.encode()).digest(), "raw MD5 digest"),
)
