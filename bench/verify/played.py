"""What the bench played: the reference audio a spoken canary is matched with.

The bench says the planted phrase to the machine itself (bench.speech), so the
clip it sent is in the capture (its ``voice_order`` records, direction tx). For
each phrase that can be said, espeak-ng says it alone and that rendering is found
in the played clip; the part of the played clip it lines up with is the
reference, the exact waveform the machine heard. Without a played clip (an
imported capture, another voice) the phrase said alone is the reference.
Decoys are other names said alone in the same voice (``bench.speech.DECOYS``).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np

from ..speech import DECOYS, SPEED, SpeechUnavailable, phrase_samples
from .acoustic import features, score_against
from .clips import ClipError, Decoded, clips, decode_bounded
from .emissions import Emission

__all__ = ["PLAYED_ACTION", "Played", "Reference", "played_clips", "references"]

PLAYED_ACTION = "voice_order"
# The phrase said alone lines up with the played clip at least this well, and this far
# above the decoys: a name the clip does not say reaches 0.5 but never leads the decoys
# (its part of the played clip would otherwise become a reference that is found).
_LOCATED, _LOCATED_MARGIN = 0.5, 0.05
_MAX_PLAYED_S = 60.0  # the bench's own orders are seconds long


@dataclass(frozen=True)
class Reference:
    """The audio of one phrase the bench said, as features, and where it came from."""

    phrase: str
    features: np.ndarray
    source: str  # "played clip" or "espeak-ng"


@dataclass(frozen=True)
class Played:
    """References per phrase and the decoys they are scored against."""

    references: dict[str, Reference]
    decoys: tuple[np.ndarray, ...]
    problem: str = ""  # why there are none


def played_clips(sent: Sequence[Emission]) -> list[Decoded]:
    """The clips the bench sent during ``voice_order`` (emissions of direction tx)."""
    out = []
    for clip in clips(sent):
        if clip.action == PLAYED_ACTION:
            try:
                out.append(decode_bounded(clip, _MAX_PLAYED_S))
            except ClipError:
                continue  # not audio the bench can read back: the phrase alone stands in
    return out


def references(phrases: Iterable[str], played: Sequence[Decoded], voice: str = "en",
               speed: int = SPEED) -> Played:
    """A reference per phrase (located in ``played`` where it can be) and the decoys, said
    in ``voice`` at ``speed`` (the bench's own voice unless told: bench.speech)."""
    wanted = list(dict.fromkeys(phrases))
    if not wanted:
        return Played({}, ())
    try:
        decoys = tuple(features(*phrase_samples(name, speed, voice)) for name in DECOYS
                       if name not in wanted)
        alone = {phrase: features(*phrase_samples(phrase, speed, voice)) for phrase in wanted}
    except SpeechUnavailable as exc:
        return Played({}, (), f"acoustic matching unavailable: {exc}")
    played_features = [(clip, features(clip.samples, clip.rate)) for clip in played]
    # Locating, the other phrases are decoys too: where the clip says one planted name,
    # that name, not another, must lead there.
    return Played({phrase: _locate(phrase, said, played_features,
                                   [*decoys, *(other for name, other in alone.items()
                                               if name != phrase)])
                   for phrase, said in alone.items()}, decoys)


def _locate(phrase: str, said: np.ndarray, played: Sequence[tuple[Decoded, np.ndarray]],
            decoys: Sequence[np.ndarray]) -> Reference:
    best: tuple[float, Decoded, float, float] | None = None
    for clip, frames in played:
        found = score_against(said, decoys, frames)
        if (found.score >= _LOCATED and found.margin >= _LOCATED_MARGIN
                and (best is None or found.score > best[0])):
            best = (found.score, clip, found.start_s, found.end_s)
    if best is None:
        return Reference(phrase, said, "espeak-ng")
    _score, clip, start, end = best
    cut = clip.samples[int(start * clip.rate):int(end * clip.rate)]
    return Reference(phrase, features(cut, clip.rate), "played clip")
