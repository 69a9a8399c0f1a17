"""Acoustic matching: is a piece of audio the bench played somewhere in a clip?

The bench makes the phrase it says to a machine itself, so it holds the exact
waveform; what comes back may have been resampled, band-limited, compressed,
echoed by a room, buried in noise, cut or mixed with other talk. Both sides are
turned into log-mel frames of the telephone band (300-3400 Hz at 8 kHz, 10 ms a
frame) with each band's mean over the clip removed (a microphone's or codec's
colour is a constant per band). A *match* slides the reference's frames along the
clip's and takes, at every offset, the correlation of the two patches; the best
offset is where the reference is heard and its correlation the score.

One correlation means nothing alone: speech in the same voice correlates with
any other speech a little. So every score is set against *decoys*, other phrases
in the same voice matched against the same clip: ``margin`` is how far the
reference's score stands above the best decoy's. Thresholds were chosen on one
sentence and held out on another (``benchmarks/spoken_recall.py``).

Cost: one FFT correlation per reference and decoy, linear in the clip's length
(n log n); a clip is never longer than the caller's bound.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from dataclasses import dataclass, replace
from math import gcd

import numpy as np

__all__ = ["FRAME_S", "MIN_MARGIN", "MIN_SCORE", "RATE", "Match", "features", "match",
           "score_against"]

RATE = 8000  # everything is compared in the telephone band, the least any path keeps
FRAME_S = 0.01
_HOP = int(RATE * FRAME_S)
_WINDOW = 512  # 64 ms: fine enough in frequency to keep the voice's harmonics
_SLOW_FRAMES = 31  # 0.3 s
_QUIET = 0.3
_BLOCK = 2048  # frames transformed at once: 8 MB of spectra
_BANDS = 64
_LOW, _HIGH = 300.0, 3400.0
# Chosen on "a latte for <name> on floor seven" and held out on "please make an
# espresso for <name>", 8 names in 4 voices (benchmarks/spoken_recall.py): the
# margin is what tells names apart (a rhyming name in the same voice scores up to
# 0.8 but stands at most 0.19 above the decoys); the score keeps silence, tones
# and hiss out, where every correlation is small.
MIN_SCORE = 0.30
MIN_MARGIN = 0.20


@dataclass(frozen=True, slots=True)
class Match:
    """Where a reference is best heard in a clip, and how well."""

    score: float  # correlation at the best offset, -1..1
    start_s: float  # offset of the reference in the clip
    end_s: float
    margin: float = 0.0  # above the best decoy's score (score_against)
    p: float = 1.0  # (1 + decoys scoring at least as well) / (1 + decoys): 1/17 at best with 16

    @property
    def heard(self) -> bool:
        """Whether this match says the reference is in the clip (``MIN_SCORE``, ``MIN_MARGIN``)."""
        return self.score >= MIN_SCORE and self.margin >= MIN_MARGIN


def features(samples: np.ndarray, rate: int) -> np.ndarray:
    """Log-mel frames (frames x bands, float32) of mono ``samples`` at ``rate`` Hz.

    Each band loses its mean over the clip (a channel's colour) and its moving mean
    over ``_SLOW_FRAMES`` (the slow swell of loudness that any speech in this voice
    shares), which leaves the changes that make these words these words."""
    from scipy.ndimage import uniform_filter1d

    values = _telephone(samples, rate)
    if values.size < _WINDOW:
        return np.zeros((0, _BANDS), dtype=np.float32)
    count = 1 + (values.size - _WINDOW) // _HOP
    frames = np.lib.stride_tricks.as_strided(
        values, shape=(count, _WINDOW), strides=(values.strides[0] * _HOP, values.strides[0]))
    window, bank = np.hanning(_WINDOW), _mel_bank()
    mel = np.concatenate([  # in blocks: a long clip's spectra would not fit at once
        (np.abs(np.fft.rfft(frames[start:start + _BLOCK] * window, axis=1)) ** 2) @ bank
        for start in range(0, count, _BLOCK)])
    level = np.log(mel + mel.mean() * 1e-2 + 1e-12)  # a floor: silence and hiss look alike
    level -= level.mean(axis=0)
    level -= uniform_filter1d(level, _SLOW_FRAMES, axis=0, mode="nearest")
    out: np.ndarray = level.astype(np.float32)
    return out


def match(reference: np.ndarray, clip: np.ndarray) -> Match:
    """The best offset of ``reference`` frames in ``clip`` frames (both from ``features``).

    The clip is padded by half the reference on each side, so a clip cut inside
    the reference still lines up with the part it kept (at a lower score)."""
    if reference.shape[0] < 2 or clip.shape[0] < 2:
        return Match(0.0, 0.0, 0.0)
    from scipy.signal import fftconvolve

    length = reference.shape[0]
    pad = length // 2
    padded = np.pad(clip, ((pad, pad), (0, 0)))
    centred = reference - reference.mean()
    norm = float(np.sqrt((centred ** 2).sum()))
    if norm == 0.0:
        return Match(0.0, 0.0, 0.0)
    product = fftconvolve(padded, centred[::-1], mode="valid", axes=0).sum(axis=1)
    spread = _window_spread(padded, length)
    # A patch with next to no variation (digital silence) would correlate with anything
    # by chance: a patch counts as varying at least a third as much as the reference.
    scores = product / (norm * np.maximum(spread, norm * _QUIET))
    best = int(np.argmax(scores))
    start = max(0, best - pad) * FRAME_S
    return Match(float(scores[best]), start, start + length * FRAME_S)


def score_against(reference: np.ndarray, decoys: Sequence[np.ndarray], clip: np.ndarray) -> Match:
    """The reference's match in ``clip``, with its margin over the best decoy's score and
    the share of decoys that do as well."""
    found = match(reference, clip)
    rivals = [match(decoy, clip).score for decoy in decoys]
    return replace(found, margin=found.score - max(rivals, default=0.0),
                   p=(1 + sum(score >= found.score for score in rivals)) / (1 + len(rivals)))


def _window_spread(padded: np.ndarray, length: int) -> np.ndarray:
    """Per offset, the root of the summed squared deviation of the clip's patch
    from its own mean (the correlation's denominator), from running sums."""
    per_frame = padded.sum(axis=1)
    squares = (padded.astype(np.float64) ** 2).sum(axis=1)
    total = np.concatenate(([0.0], np.cumsum(per_frame, dtype=np.float64)))
    total_sq = np.concatenate(([0.0], np.cumsum(squares)))
    window_sum = total[length:] - total[:-length]
    window_sq = total_sq[length:] - total_sq[:-length]
    cells = length * padded.shape[1]
    spread: np.ndarray = np.sqrt(np.maximum(window_sq - window_sum ** 2 / cells, 0.0))
    return spread


def _telephone(samples: np.ndarray, rate: int) -> np.ndarray:
    values = np.asarray(samples, dtype=np.float64)
    if values.ndim > 1:
        values = values.mean(axis=1)
    if rate != RATE and values.size:
        from scipy.signal import resample_poly

        common = gcd(RATE, rate)
        values = resample_poly(values, RATE // common, rate // common)
    return np.ascontiguousarray(values)


@functools.cache
def _mel_bank() -> np.ndarray:
    """Triangular filters, even on the mel scale between 300 and 3400 Hz."""
    def mel(hz: np.ndarray) -> np.ndarray:
        return 2595 * np.log10(1 + hz / 700)

    edges = 700 * (10 ** (np.linspace(mel(np.array(_LOW)), mel(np.array(_HIGH)),
                                      _BANDS + 2) / 2595) - 1)
    bins = np.fft.rfftfreq(_WINDOW, 1 / RATE)
    bank = np.zeros((bins.size, _BANDS))
    for band in range(_BANDS):
        low, centre, high = edges[band:band + 3]
        rising = (bins - low) / (centre - low)
        falling = (high - bins) / (high - centre)
        bank[:, band] = np.clip(np.minimum(rising, falling), 0, None)
    return bank
