"""Phonetic search: is a planted phrase among the phones a recogniser heard?

The word recogniser (bench.verify.transcribe) rarely gets a synthetic voice's words
right, but its phone recogniser gets most sounds close: "Ada Canary" (``EY D AH K AH
N EH R IY``) comes back as ``IY D AH N AE N R IY``. So a phrase is looked for in
the heard phones by local alignment (Smith-Waterman) where a phone scores 2, a
similar one (same vowel region, voiced/unvoiced pair, nasal for nasal) 0.5, and a
wrong, missing or extra phone -1. The score is normalised to 0..1 (1: every phone
heard exactly).

A score alone proves little on a long clip, so it is set against chance: the same
alignment is made for ``DECOYS`` random dictionary phrases of about the same length,
and ``p`` is the share of decoys that score as well. A phrase is *heard* when its
score and every one of its words' scores reach ``MIN_SCORE``/``MIN_WORD`` and
``p <= MAX_P``. Pronunciations come from the CMU dictionary the pocketsphinx wheel
ships; a word it lacks (``Canarywerk``) is said the way espeak-ng's letter-to-sound
rules say it (bench.verify.g2p), and without espeak-ng the phrase cannot be searched.
"""

from __future__ import annotations

import functools
import random
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from .g2p import espeak_phones

__all__ = ["DECOYS", "KEYWORD_MAX_P", "MAX_P", "MIN_SCORE", "MIN_WORD", "Alignment", "Pronunciation",
           "align", "pronounce", "search"]

MIN_SCORE = 0.45  # the whole phrase: about two thirds of its phones heard right
MIN_WORD = 0.25  # each word on its own: one heard word is not the name
MAX_P = 0.01  # at most 1 decoy in 100 aligns as well
KEYWORD_MAX_P = 0.1  # a spotted keyword must also align better than 9 decoys in 10
DECOYS = 300
_MATCH, _NEAR, _MISS = 2.0, 0.5, -1.0
# Phones a recogniser confuses with each other: vowels of one region, voicing
# pairs, nasals, liquids. Scored 0.5 instead of -1.
_NEAR_GROUPS = (
    {"AA", "AO", "AH", "AW"}, {"AE", "EH", "AH"}, {"IH", "IY", "EY"}, {"UH", "UW", "OW"},
    {"ER", "R"}, {"AY", "EY", "IY"}, {"OY", "AO"}, {"M", "N", "NG"}, {"P", "B"}, {"T", "D"},
    {"K", "G"}, {"F", "V", "TH"}, {"S", "Z", "SH"}, {"DH", "TH", "D"}, {"CH", "JH", "SH", "ZH"},
    {"L", "R", "W"}, {"Y", "IY"},
)
_NEAR_PAIRS = frozenset((a, b) for group in _NEAR_GROUPS for a in group for b in group if a != b)


@dataclass(frozen=True, slots=True)
class Pronunciation:
    """A phrase as phones, and where each word's phones end (exclusive)."""

    phrase: str
    phones: tuple[str, ...]
    word_ends: tuple[int, ...]


@dataclass(frozen=True, slots=True)
class Alignment:
    """The best local alignment of a phrase in heard phones.

    ``first``/``last`` index the heard phones the alignment covers (inclusive);
    ``words`` is each word's normalised score; ``p`` the share of decoys as good."""

    score: float
    first: int
    last: int
    words: tuple[float, ...]
    p: float = 1.0

    @property
    def heard(self) -> bool:
        return self.score >= MIN_SCORE and min(self.words) >= MIN_WORD and self.p <= MAX_P


@functools.cache
def _dictionary() -> dict[str, tuple[str, ...]]:
    from pocketsphinx import get_model_path  # a heavy import: only when speech is searched

    path = Path(get_model_path()) / "en-us" / "cmudict-en-us.dict"
    words: dict[str, tuple[str, ...]] = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        word, *phones = line.split()
        words.setdefault(word, tuple(phones))  # the first pronunciation; "(2)" variants differ
    return words


def pronounce(phrase: str) -> Pronunciation | None:
    """The phrase's phones from the dictionary (espeak-ng for a word it lacks), or None
    when a word cannot be pronounced."""
    words = re.findall(r"[a-z']+", phrase.lower())
    phones: list[str] = []
    ends: list[int] = []
    for word in words:
        known = _dictionary().get(word) or espeak_phones(word)
        if not known:
            return None
        phones.extend(known)
        ends.append(len(phones))
    return Pronunciation(" ".join(words), tuple(phones), tuple(ends)) if phones else None


def _similarity(a: str, b: str) -> float:
    if a == b:
        return _MATCH
    return _NEAR if (a, b) in _NEAR_PAIRS else _MISS


def align(heard: Sequence[str], phrase: Pronunciation) -> Alignment:
    """Smith-Waterman of ``phrase`` in ``heard``, with per-word scores from the traceback."""
    pattern = phrase.phones
    rows, cols = len(heard) + 1, len(pattern) + 1
    table = [[0.0] * cols for _ in range(rows)]
    best, at = 0.0, (0, 0)
    for i in range(1, rows):
        above, row = table[i - 1], table[i]
        for j in range(1, cols):
            score = max(0.0, above[j - 1] + _similarity(heard[i - 1], pattern[j - 1]),
                        above[j] + _MISS, row[j - 1] + _MISS)
            row[j] = score
            if score > best:
                best, at = score, (i, j)
    if best <= 0:
        return Alignment(0.0, 0, 0, tuple(0.0 for _ in phrase.word_ends))
    gained = _traceback(table, heard, pattern, at)
    first = min((i for i, _j, _g in gained), default=0)
    return Alignment(best / (_MATCH * len(pattern)), first, at[0] - 1,
                     _word_scores(gained, phrase.word_ends))


def _traceback(table: list[list[float]], heard: Sequence[str], pattern: Sequence[str],
               at: tuple[int, int]) -> list[tuple[int, int, float]]:
    """(heard index, pattern index, points) of each aligned pair on the best path."""
    i, j = at
    path: list[tuple[int, int, float]] = []
    while i > 0 and j > 0 and table[i][j] > 0:
        points = _similarity(heard[i - 1], pattern[j - 1])
        if table[i][j] == table[i - 1][j - 1] + points:
            path.append((i - 1, j - 1, points))
            i, j = i - 1, j - 1
        elif table[i][j] == table[i - 1][j] + _MISS:
            i -= 1
        else:
            path.append((i - 1, j - 1, _MISS))  # a phrase phone nobody heard
            j -= 1
    return path


def _word_scores(gained: list[tuple[int, int, float]], ends: tuple[int, ...]) -> tuple[float, ...]:
    scores = []
    start = 0
    for end in ends:
        points = sum(g for _i, j, g in gained if start <= j < end)
        scores.append(max(0.0, points / (_MATCH * (end - start))))
        start = end
    return tuple(scores)


@functools.lru_cache(maxsize=64)
def _decoys(length: int, seed: str) -> tuple[Pronunciation, ...]:
    """Random two-word dictionary phrases of ``length`` ± 1 phones, the same for a phrase."""
    words = sorted(w for w, p in _dictionary().items() if w.isalpha() and len(p) >= 2)
    rng = random.Random(seed)
    found: list[Pronunciation] = []
    while len(found) < DECOYS:
        pair = rng.sample(words, 2)
        phones = _dictionary()[pair[0]] + _dictionary()[pair[1]]
        if abs(len(phones) - length) <= 1:
            found.append(Pronunciation(" ".join(pair), phones, (len(phones),)))
    return tuple(found)


def search(heard: Sequence[str], phrase: Pronunciation, always: bool = False) -> Alignment:
    """The phrase's alignment in ``heard``, with ``p`` measured against decoys (only
    for a score of at least ``MIN_SCORE`` unless ``always``)."""
    found = align(heard, phrase)
    if found.score < MIN_SCORE and not always:  # no need to ask chance about a poor match
        return found
    decoys = _decoys(len(phrase.phones), phrase.phrase)
    as_good = sum(1 for decoy in decoys if align(heard, decoy).score >= found.score)
    return Alignment(found.score, found.first, found.last, found.words, as_good / len(decoys))
