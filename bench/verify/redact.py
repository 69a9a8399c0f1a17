"""Redaction: sensitive values become a category and a keyed hash.

The hash is HMAC-SHA256 under a per-lab key kept outside the repository, so
two captures of the same lab can be compared (the same card gives the same
hash) while nobody without the key can test guesses against them (a card
number has too few possibilities for a plain hash to hide it).

The key lives in ``~/.config/brewbench/lab.key`` (``BREWBENCH_LAB_KEY_FILE``
overrides the path). It is created on first use, readable by its owner only.
Back it up with the lab's other secrets; lose it and old hashes cannot be
matched any more, but nothing else breaks.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import os
import secrets
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from ...drivers.errors import BrewbenchError
from ..values import value_repr
from .classify import Label
from .emissions import is_redacted
from .hunter import value_bytes

log = logging.getLogger(__name__)

KEY_ENV = "BREWBENCH_LAB_KEY_FILE"
DEFAULT_KEY_FILE = Path("~/.config/brewbench/lab.key")
HASH_CHARS = 24  # 96 bits of the HMAC: ample to tell values apart


class LabKeyError(BrewbenchError, OSError):
    """The lab key file cannot be read or created."""


def lab_key_path() -> Path:
    """Where the lab key is kept: ``$BREWBENCH_LAB_KEY_FILE`` or ``~/.config/brewbench/lab.key``."""
    return Path(os.environ.get(KEY_ENV) or DEFAULT_KEY_FILE).expanduser()


def load_lab_key(path: Path | None = None) -> bytes:
    """The lab key, created (mode 0600) on first use.

    Raises:
        LabKeyError: the file is unreadable, or holds no key.
    """
    path = path or lab_key_path()
    try:
        if not path.exists():
            path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "w") as out:
                out.write(secrets.token_hex(32) + "\n")
            log.info("created a new lab key at %s", path)
        elif path.stat().st_mode & 0o077:
            log.warning("lab key %s is readable by others; run: chmod 600 %s", path, path)
        text = path.read_text().strip()
    except FileExistsError:  # another process created it a moment ago
        text = path.read_text().strip()
    except UnicodeDecodeError:
        text = ""  # binary garbage: reported below as holding no key
    except OSError as exc:
        raise LabKeyError(f"cannot use the lab key at {path}: {exc}; set {KEY_ENV} to a "
                          "writable path") from exc
    try:
        key = bytes.fromhex(text)
    except ValueError:
        key = b""
    if len(key) < 16:
        raise LabKeyError(f"{path} holds no lab key (expected 64 hex digits); move it away "
                          "and a new key is created")
    return key


class Redactor:
    """Turns values into keyed-hash tokens.

    Example::

        redactor = Redactor.from_lab_key()
        token = redactor.token("4111111111111111", [Label("payment", "schema")])
    """

    def __init__(self, key: bytes) -> None:
        if len(key) < 16:
            raise ValueError("a redaction key needs at least 16 bytes")
        self._key = key
        self.key_id = hashlib.sha256(b"brewbench key id" + key).hexdigest()[:8]

    @classmethod
    def from_lab_key(cls, path: Path | None = None) -> Redactor:
        """A redactor under the lab key (see ``load_lab_key``)."""
        return cls(load_lab_key(path))

    def digest(self, value: Any) -> str:
        """Keyed hash of a value's bytes (text as UTF-8, numbers as text)."""
        data = value_bytes(value)
        if data is None:
            data = value_repr(value).encode("utf-8", "surrogatepass")
        return hmac.new(self._key, data, hashlib.sha256).hexdigest()[:HASH_CHARS]

    def token(self, value: Any, labels: Sequence[Label]) -> dict[str, Any]:
        """What a redacted capture holds in place of ``value``."""
        if is_redacted(value):
            return dict(value)
        data = value_bytes(value)
        return {"$redacted": {
            "hmac": self.digest(value), "key_id": self.key_id,
            "categories": list(dict.fromkeys(label.category for label in labels)),
            "labels": [[label.category, label.reason, label.detail] for label in labels],
            "type": type(value).__name__, "len": None if data is None else len(data)}}

    def example(self, value: Any, categories: Sequence[str]) -> str:
        """A printable stand-in: ``<payment 3f9a…>`` for a sensitive value."""
        if is_redacted(value):
            inner = value["$redacted"]
            return f"<{'/'.join(inner.get('categories', ['?']))} {inner.get('hmac', '')[:12]}>"
        return f"<{'/'.join(categories)} {self.digest(value)[:12]}>"


def plain_example(value: Any, width: int = 40) -> str:
    """A non-sensitive value shown as is, shortened to ``width`` characters."""
    text = value.hex() if isinstance(value, bytes | bytearray) else value_repr(value)
    return text if len(text) <= width else text[: width - 1] + "…"
