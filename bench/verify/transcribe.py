"""Offline transcription with pocketsphinx: the words and the phones of a clip.

The model is the US English acoustic model, language model and CMU dictionary
inside the ``pocketsphinx`` wheel; nothing is downloaded. Samples are mixed to
mono and resampled to the model's 16 kHz first. Two passes are made: words with
the language model (what a reader sees; poor on synthetic voices) and phones
with the phone language model (what bench.verify.phonetic searches for planted
phrases). Both take about as long as the audio on a shared machine, so a result
is cached per clip digest and only clips that sound like speech are transcribed.
"""

from __future__ import annotations

import functools
import hashlib
import threading
import time
from collections import OrderedDict
from dataclasses import dataclass
from math import gcd
from pathlib import Path
from typing import Any

import numpy as np

__all__ = ["FRAME_S", "RATE", "Phone", "Transcript", "transcribe"]

RATE = 16000  # what the acoustic model was trained on
FRAME_S = 0.01  # pocketsphinx reports spans in 10 ms frames
_NOT_PHONES = frozenset({"SIL", "+NSN+", "+SPN+", "+BREATH+", "+COUGH+", "+UM+"})
_lock = threading.Lock()  # one decoder of each kind, not safe to share between threads
_CACHE: OrderedDict[str, Transcript] = OrderedDict()  # clip digest -> what was heard
_CACHE_SIZE = 256


@dataclass(frozen=True, slots=True)
class Phone:
    """One heard phone and its span in the clip, in seconds."""

    phone: str
    start_s: float
    end_s: float


@dataclass(frozen=True, slots=True)
class Transcript:
    """What the recogniser heard in one clip."""

    words: str
    phones: tuple[Phone, ...]
    duration_s: float
    seconds: float  # how long recognition took


def transcribe(samples: np.ndarray, rate: int) -> Transcript:
    """Words and phones of mono ``samples`` (any numeric dtype) at ``rate`` Hz; cached
    per digest of the 16 kHz samples."""
    pcm = _at_model_rate(samples, rate)
    digest = hashlib.sha256(pcm).hexdigest()
    with _lock:
        known = _CACHE.get(digest)
    if known is None:
        known = _recognise(pcm)
        with _lock:
            _CACHE[digest] = known
            while len(_CACHE) > _CACHE_SIZE:
                _CACHE.popitem(last=False)
    return known


def _at_model_rate(samples: np.ndarray, rate: int) -> bytes:
    values = np.asarray(samples, dtype=np.float64)
    if values.ndim > 1:
        values = values.mean(axis=1)
    if np.issubdtype(samples.dtype, np.floating):  # soundfile hands out -1..1
        values = values * 32767
    if rate != RATE:
        from scipy.signal import resample_poly  # filtered: no aliasing into the speech band

        common = gcd(RATE, rate)
        values = resample_poly(values, RATE // common, rate // common)
    return bytes(np.clip(values, -32768, 32767).astype("<i2").tobytes())


def _recognise(pcm: bytes) -> Transcript:
    start = time.perf_counter()
    with _lock:  # read the results before another clip reuses the decoders
        hypothesis = _decode(_decoder("words"), pcm).hyp()
        heard = tuple(Phone(seg.word, seg.start_frame * FRAME_S, (seg.end_frame + 1) * FRAME_S)
                      for seg in _decode(_decoder("phones"), pcm).seg()
                      if seg.word not in _NOT_PHONES)
    return Transcript(hypothesis.hypstr if hypothesis else "", heard, len(pcm) / 2 / RATE,
                      time.perf_counter() - start)


@functools.cache
def _decoder(kind: str) -> Any:
    from pocketsphinx import Decoder, get_model_path  # a heavy import: only for speech

    if kind == "words":
        return Decoder(loglevel="FATAL")
    model = Path(get_model_path()) / "en-us"
    return Decoder(allphone=str(model / "en-us-phone.lm.bin"), lw=2.0, beam=1e-20,
                   pbeam=1e-20, loglevel="FATAL")


def _decode(decoder: Any, pcm: bytes) -> Any:
    decoder.start_utt()
    decoder.process_raw(pcm, full_utt=True)
    decoder.end_utt()
    return decoder
