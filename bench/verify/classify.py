"""Classification: which data categories each emission reveals, and why.

Three sources, each leaving a ``Label`` with its reason:

- ``schema``: the protocol's field catalogue (bench.schema) knows the field;
- ``content``: a content detector (bench.detectors) recognised the value, or the
  value is a recording (bench.verify.audio: labelled ``voice``);
- ``canary``: a value the bench planted was found in it (bench.hunter).

An emission nothing explains is ``unknown`` (reason ``schema``: not in the
catalogue), so an undocumented field can never pass unnoticed.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from .audio import sniff_audio
from .catalogue import LOCATION, SENSITIVE, UNKNOWN, VOICE, categories_of, own_identifier
from .clips import clips
from .detectors import detect
from .emissions import Emission, is_redacted

SCHEMA = "schema"
CONTENT = "content"
CANARY = "canary"

_CONTRADICTS = "catalogued as"
_LAT = {"lat", "latitude"}
_LON = {"lon", "lng", "long", "longitude"}


@dataclass(frozen=True, slots=True)
class Label:
    """One category of one emission, with the reason and a short detail."""

    category: str
    reason: str
    detail: str = ""


@dataclass(frozen=True, slots=True)
class Classified:
    emission: Emission
    labels: tuple[Label, ...]

    @property
    def categories(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(label.category for label in self.labels))

    @property
    def sensitive(self) -> bool:
        return any(category in SENSITIVE for category in self.categories)


class CanaryHit(Protocol):
    """What classify needs from a canary finding (bench.hunter.Finding is one)."""

    @property
    def category(self) -> str: ...
    @property
    def canary(self) -> str: ...
    @property
    def chain(self) -> str: ...
    @property
    def emissions(self) -> tuple[int, ...]: ...


def classify(emissions: Sequence[Emission], findings: Iterable[CanaryHit] = (),
             names: Iterable[str] = ()) -> list[Classified]:
    """Label every emission; ``findings`` are canary findings over the same emissions.

    Args:
        emissions: as bench.emissions.emissions() returns them.
        findings: bench.hunter findings whose ``emissions`` index into ``emissions``.
        names: planted person/organisation names for the name detector.
    """
    names = list(names)
    extra: dict[int, list[Label]] = defaultdict(list)
    for finding in findings:
        for index in finding.emissions:
            extra[index].append(_against_catalogue(Label(
                finding.category, CANARY, f"{finding.canary} as {finding.chain}"),
                emissions[index].path))
    for index, label in _coordinate_pairs(emissions):
        extra[index].append(_against_catalogue(label, emissions[index].path))
    for index, label in _clip_pieces(emissions):
        extra[index].append(_against_catalogue(label, emissions[index].path))
    return [Classified(e, _dedupe(_found_first(_safe_labels(e, names) + extra.get(i, []))))
            for i, e in enumerate(emissions)]


def _safe_labels(emission: Emission, names: list[str]) -> list[Label]:
    """``_labels``, or ``unknown`` with the reason when a hostile value defeats a detector."""
    try:
        return _labels(emission, names)
    except Exception as exc:  # one value must not stop the classification
        return [Label(UNKNOWN, CONTENT, f"not classified: {type(exc).__name__}")]


def _labels(emission: Emission, names: list[str]) -> list[Label]:
    if is_redacted(emission.value):
        return _recorded_labels(emission.value["$redacted"])
    labels = [Label(c, SCHEMA) for c in categories_of(emission.path)]
    if not own_identifier(emission.path):  # the device's own link address is how we reach it
        labels += [_against_catalogue(Label(hit.category, CONTENT, hit.detector), emission.path)
                   for hit in detect(emission.value, names)]
        audio = sniff_audio(emission.value)
        if audio is not None:  # a recording of whoever stood in front of the machine
            detail = f"audio {audio.describe()}" if audio.samples else audio.describe()
            labels.append(_against_catalogue(Label(VOICE, CONTENT, detail),
                                             emission.path))
    if not labels:
        labels.append(Label(UNKNOWN, SCHEMA, "not in the field catalogue"))
    return labels


def _against_catalogue(label: Label, path: str) -> Label:
    """Trust the bytes, not the label: a finding in a field the catalogue files under
    another category says so (``owner as base32; catalogued as device``)."""
    catalogued = categories_of(path)
    if not catalogued or label.category in catalogued:
        return label
    note = f"{_CONTRADICTS} {', '.join(catalogued)}"
    return Label(label.category, label.reason, f"{label.detail}; {note}" if label.detail else note)


def _found_first(labels: list[Label]) -> list[Label]:
    """Content that contradicts the catalogue comes first: it wins."""
    return sorted(labels, key=lambda label: _CONTRADICTS not in label.detail)


def _recorded_labels(token: Mapping[str, Any]) -> list[Label]:
    """A redacted value keeps the labels it had when it was redacted."""
    return [Label(str(c), str(r), str(d)) for c, r, d in token.get("labels", [])] or \
        [Label(str(c), SCHEMA) for c in token.get("categories", [UNKNOWN])]


def _coordinate_pairs(emissions: Sequence[Emission]) -> Iterable[tuple[int, Label]]:
    """Numeric lat/lon siblings of one message reveal a position: decimal degrees, or
    integers scaled by 10^7 under an ``E7`` key (``latitudeE7``, ``lat_e7``)."""
    groups: dict[tuple[int, str], dict[str, tuple[int, float]]] = defaultdict(dict)
    for index, emission in enumerate(emissions):
        parent, _, name = emission.path.rpartition(".")
        axis, scale = _axis(name.lower())
        value = emission.value
        if axis and isinstance(value, int | float) and not isinstance(value, bool) \
                and (scale > 1 or isinstance(value, float)):
            groups[(emission.entry, parent)][axis] = (index, value / scale)
    for pair in groups.values():
        if len(pair) == 2:
            (_, lat), (_, lon) = pair["lat"], pair["lon"]
            if abs(lat) <= 90 and abs(lon) <= 180 and (lat, lon) != (0.0, 0.0):
                for index, _value in pair.values():
                    yield index, Label(LOCATION, CONTENT, "lat_lon")


def _clip_pieces(emissions: Sequence[Emission]) -> Iterable[tuple[int, Label]]:
    """Pieces of a reassembled clip that are not audio on their own (an Ogg page
    split over notifications, the tail of a clip): labelled with the whole clip."""
    for clip in clips(emissions):
        for number, index in enumerate(clip.emissions, 1):
            if sniff_audio(emissions[index].value) is None:
                yield index, Label(VOICE, CONTENT, f"audio {clip.info.describe()}, piece {number} "
                                                   f"of {len(clip.emissions)}")


def _axis(name: str) -> tuple[str, float]:
    """("lat" | "lon" | "", scale) for a field name."""
    scale = 1e7 if name.endswith("e7") else 1.0
    base = name.removesuffix("e7").removesuffix("_")
    if base in _LAT:
        return "lat", scale
    if base in _LON:
        return "lon", scale
    return "", 1.0


def _dedupe(labels: list[Label]) -> tuple[Label, ...]:
    unknown_only = all(label.category == UNKNOWN for label in labels)
    kept = [label for label in labels if unknown_only or label.category != UNKNOWN
            or label.reason != SCHEMA or label.detail != "not in the field catalogue"]
    return tuple(dict.fromkeys(kept))
