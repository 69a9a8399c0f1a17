"""Speech the bench says to a listening machine: Debian's ``espeak-ng`` makes the clip.

The bench speaks the planted owner's name in an order ("a latte for Ada Canary on
floor seven"), so a machine that keeps or sends what it heard is caught by the
voice hunt (docs/data-verification.md, "Voice").
"""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from pathlib import Path

__all__ = ["SPEED", "SpeechUnavailable", "order_sentence", "say"]

SPEED = 130  # words a minute: slower than espeak-ng's 175, as one speaks to a machine
ESPEAK = "espeak-ng"


class SpeechUnavailable(Exception):
    """espeak-ng is missing or failed: one line says which."""


def say(text: str, speed: int = SPEED, voice: str = "en") -> bytes:
    """The WAV clip (22050 Hz, 16-bit mono) espeak-ng makes of ``text``.

    Raises:
        SpeechUnavailable: espeak-ng is not installed or did not make a clip.
    """
    binary = shutil.which(ESPEAK)
    if binary is None:
        raise SpeechUnavailable(f"{ESPEAK} is not installed (apt-get install {ESPEAK})")
    with tempfile.TemporaryDirectory(prefix="brewbench-speech-") as folder:
        out = Path(folder) / "spoken.wav"  # a file: on stdout the header's lengths are left open
        try:
            subprocess.run([binary, "-v", voice, "-s", str(speed), "-w", str(out), text],
                           check=True, capture_output=True, timeout=60)
            return out.read_bytes()
        except (OSError, subprocess.SubprocessError) as exc:
            raise SpeechUnavailable(f"{ESPEAK} failed: {exc}") from exc


def order_sentence(owner: str) -> str:
    """The spoken order naming ``owner``; a canary's run tag (``-7F3A9C2E``) is not said."""
    return f"a latte for {owner.rsplit('-', 1)[0]} on floor seven"
