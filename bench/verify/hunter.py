"""The canary hunter: finds planted values in every byte a device emitted.

All patterns of all canaries in all encodings (bench.encodings) go into one
Aho-Corasick automaton (pyahocorasick), so a buffer is read once whatever the
number of canaries and encodings. Then every layer (bench.layers) that decodes
somewhere in the buffer is peeled and its output hunted the same way, down to
``max_depth`` layers, so disguises compose: the chain of a finding reads from
the outside in, e.g. ``zlib > base64``.

``hunt`` works on emissions (bench.emissions). It joins, per channel and field
path, the values in arrival order into one stream, so a value split across
frames (a blob sent in pieces, bytes of undecodable frames) is found whole;
offsets map back to the emission, capture entry and byte where the match starts.

Besides named encodings, three families are searched with known-plaintext
tricks: single-byte XOR and additive keys (bench.keyed: the differences of a
value survive any key), the run tag every planted value shares (bench.runtag:
a reformatted value is still tied to its run), and base-N alphabets and
normalised digests (bench.radix, bench.digests) as patterns.
"""

from __future__ import annotations

import bisect
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

import ahocorasick

from ..values import int_text
from .canaries import Canary
from .emissions import Emission
from .encodings import Transform, patterns
from .keyed import KEY_FAMILIES, key_of, useful
from .layers import LAYERS, Finder
from .runtag import CONTEXT, attribute, hex_flanked, run_tag_of

__all__ = ["Finding", "Hunter", "Match", "chain_text", "value_bytes"]

MAX_DEPTH = 4
WORK_FACTOR = 64  # peeled bytes scanned at most per input byte (plus a floor)
WORK_FLOOR = 1 << 20
TAG_MIN_PATTERN = 8  # the tag is short: its shorter forms would match by chance
_CASES = ("plain", "upper", "lower")


@dataclass(frozen=True, slots=True)
class Match:
    """A canary inside one buffer; ``start:end`` is the outermost span that holds it."""

    canary: Canary
    chain: tuple[str, ...]
    start: int
    end: int
    by_tag: bool = False  # found through the run tag, not the whole value

    @property
    def encoding(self) -> str:
        return chain_text(self.chain)


@dataclass(frozen=True, slots=True)
class Finding:
    """A canary found in a capture: which, how disguised, and where."""

    canary: str
    category: str
    chain: str
    channel: str
    path: str
    action: str
    entry: int
    offset: int
    emissions: tuple[int, ...]

    def describe(self) -> str:
        split = f" (split over {len(self.emissions)} frames)" if len(self.emissions) > 1 else ""
        return (f"{self.canary} as {self.chain} in {self.path} on {self.channel} during "
                f"{self.action}, entry {self.entry} byte {self.offset}{split}")


def chain_text(chain: Sequence[str]) -> str:
    """``('zlib', 'base64', 'plain')`` -> ``zlib > base64``."""
    parts = list(chain[:-1]) if len(chain) > 1 and chain[-1] == "plain" else list(chain)
    return " > ".join(parts)


class Hunter:
    """Searches buffers and emissions for a set of canaries.

    Args:
        canaries: the planted values.
        encodings: name -> transform (default: every registered encoding).
        layers: name -> finder (default: every registered layer).
        max_depth: how many layers deep to peel.
    """

    def __init__(self, canaries: Iterable[Canary], encodings: dict[str, Transform] | None = None,
                 layers: dict[str, Finder] | None = None, max_depth: int = MAX_DEPTH) -> None:
        self.canaries = tuple(canaries)
        self.layers = LAYERS if layers is None else layers
        self.max_depth = max_depth
        self.tag = run_tag_of(self.canaries)
        self._automaton: Any = ahocorasick.Automaton()
        for canary in self.canaries:
            for encoding, pattern in patterns(canary.value.encode(), encodings):
                _add(self._automaton, pattern, (canary, encoding, len(pattern)))
        if self.tag is not None:
            for encoding, pattern in patterns(self.tag.value.encode(), encodings, families=False):
                if len(pattern) >= TAG_MIN_PATTERN:
                    _add(self._automaton, pattern, (self.tag, encoding, len(pattern)))
        self.pattern_count = len(self._automaton)
        # Layers only shrink what they wrap (compressed output is judged after
        # inflating), so a peeled buffer shorter than every pattern holds no canary.
        self.shortest = min((length for entries in self._automaton.values()
                             for _c, _e, length in entries), default=0)
        if self.pattern_count:
            self._automaton.make_automaton()
        self._keyed = {family: _differences(self.canaries, diffs)
                       for family, (diffs, _key) in KEY_FAMILIES.items()} if encodings is None else {}

    def scan(self, data: bytes, starts: Sequence[int] = (0,)) -> list[Match]:
        """Canaries in ``data``, outermost span first; one match per canary and offset.

        ``starts`` are offsets where a value begins (raw deflate is tried there).
        """
        if not self.pattern_count:
            return []
        budget = [WORK_FLOOR + WORK_FACTOR * len(data)]
        return _merge(self._scan(data, starts, 0, budget))

    def _scan(self, data: bytes, starts: Sequence[int], depth: int,
              budget: list[int]) -> list[Match]:
        """Matches in ``data``'s own offsets, peeled layers included."""
        budget[0] -= len(data)
        found: list[Match] = []
        for end, payloads in self._automaton.iter(data.decode("latin-1")):
            for canary, encoding, length in payloads:
                start = end + 1 - length
                if canary is self.tag:
                    found += self._tagged(data, encoding, start, end + 1)
                else:
                    found.append(Match(canary, (encoding,), start, end + 1))
        found += self._keyed_matches(data)
        if depth >= self.max_depth:
            return found
        for finder in self.layers.values():
            for peeled in finder(data, starts):
                if budget[0] <= 0:
                    return found
                if len(peeled.data) < self.shortest:
                    continue
                for inner in self._scan(peeled.data, (0,), depth + 1, budget):
                    found.append(Match(inner.canary, (peeled.layer, *inner.chain),
                                       *peeled.outer(inner.start, inner.end), inner.by_tag))
        return found

    def _tagged(self, data: bytes, encoding: str, start: int, end: int) -> list[Match]:
        """The run tag at ``start:end``, tied to the planted value the bytes around it name."""
        assert self.tag is not None
        if encoding in _CASES and hex_flanked(data, start, end):
            return []
        context = data[max(0, start - CONTEXT): end + CONTEXT]
        owner = attribute(self.canaries, self.tag, context)
        chain = "run-tag" if encoding in _CASES else f"run-tag {encoding}"
        return [Match(owner, (chain,), start, end, by_tag=True)]

    def _keyed_matches(self, data: bytes) -> list[Match]:
        """Planted values under a single-byte XOR or additive key (bench.keyed)."""
        found = []
        for family, automaton in self._keyed.items():
            if not len(automaton) or len(data) < 2:
                continue
            diffs = KEY_FAMILIES[family][0](data).decode("latin-1")
            for end, payloads in automaton.iter(diffs):
                for canary, length in payloads:
                    start = end + 1 - length
                    chain = key_of(family, canary.value.encode()[0], data[start])
                    if not chain.endswith("-0x00"):  # key 0 is the plain value, found already
                        found.append(Match(canary, (chain,), start, start + length + 1))
        return found

    def hunt(self, emissions: Sequence[Emission]) -> list[Finding]:
        """Every canary in ``emissions``, per channel and field path, in stream order."""
        findings: list[Finding] = []
        for stream in _streams(emissions):
            for match in self.scan(stream.data, stream.blobs):
                first = bisect.bisect_right(stream.offsets, match.start) - 1
                last = bisect.bisect_right(stream.offsets, max(match.start, match.end - 1)) - 1
                spanned = tuple(stream.members[first : last + 1])
                head = emissions[spanned[0]]
                findings.append(Finding(match.canary.name, match.canary.category, match.encoding,
                                        head.channel, head.path, head.action, head.entry,
                                        match.start - stream.offsets[first], spanned))
        return sorted(findings, key=lambda f: (f.entry, f.offset, f.canary))


@dataclass
class _Stream:
    """The values of one field on one channel, joined; ``offsets[i]`` is where
    emission ``members[i]`` starts, ``blobs`` where the bytes values start."""

    members: list[int] = field(default_factory=list)
    offsets: list[int] = field(default_factory=list)
    blobs: list[int] = field(default_factory=list)
    chunks: list[bytes] = field(default_factory=list)
    size: int = 0

    @property
    def data(self) -> bytes:
        return b"".join(self.chunks)

    def add(self, index: int, value: Any) -> None:
        data = value_bytes(value)
        if data is None:
            return
        self.members.append(index)
        self.offsets.append(self.size)
        if isinstance(value, bytes | bytearray):
            self.blobs.append(self.size)
        self.chunks.append(data)
        self.size += len(data)


def _streams(emissions: Sequence[Emission]) -> list[_Stream]:
    streams: dict[tuple[str, str, str], _Stream] = {}
    for index, emission in enumerate(emissions):
        key = (emission.channel, emission.direction, emission.path)
        streams.setdefault(key, _Stream()).add(index, emission.value)
    return list(streams.values())


def _add(automaton: Any, pattern: bytes, entry: tuple[Any, ...]) -> None:
    key = pattern.decode("latin-1")  # one char per byte: the automaton reads bytes
    known = automaton.get(key, [])
    known.append(entry)
    automaton.add_word(key, known)


def _differences(canaries: Sequence[Canary], diffs: Any) -> Any:
    """An automaton of the byte differences of every distinctive planted value."""
    automaton: Any = ahocorasick.Automaton()
    for canary in canaries:
        value = canary.value.encode()
        if useful(value):
            _add(automaton, diffs(value), (canary, len(value) - 1))
    if len(automaton):
        automaton.make_automaton()
    return automaton


def _merge(found: list[Match]) -> list[Match]:
    """One match per canary per place: overlapping spans keep the shortest chain; the
    run tag counts only where no whole value was found around it."""
    whole = sorted((m.start, m.end) for m in found if not m.by_tag)
    found = [m for m in found if not m.by_tag or not _overlaps(whole, m.start, m.end)]
    kept: list[Match] = []
    for match in sorted(found, key=lambda m: (m.canary.name, m.start, -m.end)):
        last = kept[-1] if kept else None
        if last is None or last.canary != match.canary or match.start >= last.end:
            kept.append(match)
        elif len(match.chain) < len(last.chain):
            kept[-1] = match  # the more direct form also has the more precise span
    return sorted(kept, key=lambda m: (m.start, m.canary.name))


def _overlaps(spans: list[tuple[int, int]], start: int, end: int) -> bool:
    """True when ``start:end`` overlaps one of the sorted ``spans``."""
    index = bisect.bisect_left(spans, (end, end))
    return any(s < end and e > start for s, e in spans[max(0, index - 64): index])


def value_bytes(value: Any) -> bytes | None:
    """The bytes of a leaf value as the hunter reads them; None for nothing to read."""
    if isinstance(value, bytes | bytearray):
        return bytes(value)
    if isinstance(value, str):
        return value.encode("utf-8", "surrogatepass")
    if isinstance(value, int) and not isinstance(value, bool):
        return int_text(value).encode()
    if isinstance(value, float):
        return str(value).encode()
    return None  # None, booleans, empty containers, redaction tokens
