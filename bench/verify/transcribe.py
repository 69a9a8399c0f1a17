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
import tempfile
import threading
import time
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass
from math import gcd
from pathlib import Path
from typing import Any

import numpy as np

from .phonetic import Pronunciation

__all__ = ["FRAME_S", "KWS_PER_PHONE", "RATE", "Phone", "Transcript", "spot", "transcribe"]

RATE = 16000  # what the acoustic model was trained on
FRAME_S = 0.01  # pocketsphinx reports spans in 10 ms frames
_NOT_PHONES = frozenset({"SIL", "+NSN+", "+SPN+", "+BREATH+", "+COUGH+", "+UM+"})
_lock = threading.Lock()  # one decoder of each kind, not safe to share between threads
_CACHE: OrderedDict[str, Transcript] = OrderedDict()  # clip digest -> what was heard
_CACHE_SIZE = 256
KWS_PER_PHONE = 10  # keyword spotting threshold: 1e-(10 x phones) of the keyphrase
_SPOTTED: OrderedDict[tuple[str, str], tuple[tuple[float, float], ...]] = OrderedDict()
_SEARCHES: set[str] = set()


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


def spot(samples: np.ndarray, rate: int,
         phrases: Sequence[Pronunciation]) -> dict[str, tuple[tuple[float, float], ...]]:
    """Keyword spotting: where in the clip each phrase is heard, as (start, end) seconds.

    The phrase's phones compete with a loop of all phones (the pocketsphinx ``kws``
    search); a hit needs the phrase to beat the loop by a likelihood ratio of
    1e-``KWS_PER_PHONE`` per phone. Cached per clip digest and phrase."""
    pcm = _at_model_rate(samples, rate)
    digest = hashlib.sha256(pcm).hexdigest()
    out = {}
    for phrase in phrases:
        with _lock:
            known = _SPOTTED.get((digest, phrase.phrase))
            if known is None:
                known = _spot(pcm, phrase)
                _SPOTTED[(digest, phrase.phrase)] = known
                while len(_SPOTTED) > _CACHE_SIZE * 4:
                    _SPOTTED.popitem(last=False)
        out[phrase.phrase] = known
    return out


def _spot(pcm: bytes, phrase: Pronunciation) -> tuple[tuple[float, float], ...]:
    decoder = _decoder("keywords")
    name = "kws " + phrase.phrase
    if name not in _SEARCHES:
        start = 0
        for word, end in zip(phrase.phrase.split(), phrase.word_ends, strict=True):
            if decoder.lookup_word(word) is None:  # said as espeak-ng says it (bench.verify.g2p)
                decoder.add_word(word, " ".join(phrase.phones[start:end]), True)
            start = end
        # Word by word, not as one made-up word: spotting one long token raised false
        # alarms on other names (6 in 168) where the words gave none.
        with tempfile.TemporaryDirectory() as folder:
            keys = Path(folder) / "keys.txt"
            keys.write_text(f"{phrase.phrase} /1e-{KWS_PER_PHONE * len(phrase.phones)}/\n",
                            encoding="utf-8")
            decoder.add_kws(name, str(keys))
        _SEARCHES.add(name)
    decoder.activate_search(name)
    _decode(decoder, pcm)
    return tuple((seg.start_frame * FRAME_S, (seg.end_frame + 1) * FRAME_S)
                 for seg in decoder.seg() or [])


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
    if kind == "keywords":  # a search per phrase is added to it (_spot)
        return Decoder(keyphrase="coffee", loglevel="FATAL")
    model = Path(get_model_path()) / "en-us"
    return Decoder(allphone=str(model / "en-us-phone.lm.bin"), lw=2.0, beam=1e-20,
                   pbeam=1e-20, loglevel="FATAL")


def _decode(decoder: Any, pcm: bytes) -> Any:
    decoder.start_utt()
    decoder.process_raw(pcm, full_utt=True)
    decoder.end_utt()
    return decoder
