"""Keyed disguises and run-to-run noise: what only differential analysis can see through.

A firmware that turns a planted value with a secret key (a keyed hash, a cipher
under a key burnt in at the factory) emits bytes no hunter can tie to the value:
without the key there is nothing to search for. The bench finds such fields by
changing what it plants and watching what changes (bench.verify.differential).

Real firmware also emits values that change on their own from run to run: clocks,
counters kept in flash across resets, random nonces, values sealed under a random
IV. The ``noise_fields`` model them, so the bench proves it never calls them leaks.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import itertools
import secrets
import time
from typing import Any

from cryptography.hazmat.primitives import padding
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from .disguises import Disguise

#: The key every CM-500 of these versions carries; the bench never learns it.
DEVICE_KEY = hashlib.sha256(b"CM-500 device key, burnt in at the factory").digest()
_FIXED_IV = bytes(16)  # the same IV every time: so the ciphertext depends on the value only
_BOOTS = itertools.count(1000)  # a counter kept in flash: survives resets and restarts


def keyed_hex(value: str) -> str:
    """HMAC-SHA256 of the value under the device key, as 32 hex digits."""
    return hmac.new(DEVICE_KEY, value.encode(), hashlib.sha256).hexdigest()[:32]


def keyed_raw(value: str) -> bytes:
    """The first 16 bytes of HMAC-SHA256 under the device key."""
    return hmac.new(DEVICE_KEY, value.encode(), hashlib.sha256).digest()[:16]


def fixed_key_aes(value: str) -> bytes:
    """AES-256-CBC under the device key with a fixed IV (PKCS#7 padded)."""
    padder = padding.PKCS7(128).padder()
    data = padder.update(value.encode()) + padder.finalize()
    encryptor = Cipher(algorithms.AES(DEVICE_KEY), modes.CBC(_FIXED_IV)).encryptor()
    return encryptor.update(data) + encryptor.finalize()


def sealed(value: str) -> bytes:
    """AES-GCM under the device key with a fresh random nonce: different every time."""
    nonce = secrets.token_bytes(12)
    return nonce + AESGCM(DEVICE_KEY).encrypt(nonce, value.encode(), None)


def tagged_blob(value: str) -> bytes:
    """An opaque blob: 8 random bytes, then 16 keyed-hash bytes of the value."""
    return secrets.token_bytes(8) + keyed_raw(value)


def noise_fields() -> dict[str, Any]:
    """Record fields that change by themselves: a nonce, a boot counter, an uptime clock."""
    return {"nonce": secrets.token_hex(8), "boot": next(_BOOTS),
            "uptime_ms": time.monotonic_ns() // 1_000_000}


#: 2.3: every planted value it keeps goes through the device key.
KEYED_2_3 = (
    Disguise("uid", "owner", keyed_hex, "HMAC-SHA256 under the device key, hex"),
    Disguise("ref", "card_number", keyed_raw, "HMAC-SHA256 under the device key, 16 raw bytes"),
    Disguise("loc", "site", fixed_key_aes, "AES-256-CBC under the device key, fixed IV"),
    Disguise("tag", "floor", tagged_blob, "8 random bytes + keyed hash"),
    Disguise("box", "email", sealed, "AES-GCM under the device key, random nonce"),
)

#: 2.4: planted values in fields the field catalogue labels ``device``.
LABELLED_2_4 = (
    Disguise("firmware", "owner",
             lambda v: "2.4+" + base64.urlsafe_b64encode(v.encode()).decode().rstrip("="),
             "base64url build suffix of the firmware field"),
    Disguise("model", "organisation", lambda v: f"CM-500 ({v})", "model name suffix"),
)

__all__ = ["DEVICE_KEY", "KEYED_2_3", "LABELLED_2_4", "fixed_key_aes", "keyed_hex", "keyed_raw",
           "noise_fields", "sealed", "tagged_blob"]
