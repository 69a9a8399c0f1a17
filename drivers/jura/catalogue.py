"""Which data category each field of a Jura answer carries (emission paths, as
``bench.verify.emissions`` names the details of link-level records)."""

from __future__ import annotations

__all__ = ["CATALOGUE", "CHANNEL"]

CHANNEL = "jura"
_ROOT = f"link.{CHANNEL}"

CATALOGUE: dict[str, tuple[str, ...]] = {
    f"{_ROOT}.line": ("device",),
    f"{_ROOT}.answer": ("device",),
    f"{_ROOT}.command": ("device",),
    f"{_ROOT}.text": ("device",),
    f"{_ROOT}.machine_type": ("device",),
    f"{_ROOT}.words[]": ("device",),
    f"{_ROOT}.word": ("device",),
    f"{_ROOT}.input_flags": ("device",),
    f"{_ROOT}.inputs.*": ("device",),
    f"{_ROOT}.debug": ("device",),
    f"{_ROOT}.counters.*": ("product",),
    f"{_ROOT}.maintenance.*": ("device",),
}
