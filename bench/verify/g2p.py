"""Pronunciations the dictionary lacks, from espeak-ng's own letter-to-sound rules.

``espeak-ng -q --ipa=3 -v en-us WORD`` prints the word in IPA with its
multi-letter phonemes tied by a zero-width joiner (``kˈænɑː‍ɹɹˌɪwɜːk`` for
"Canarywerk"); each phoneme is mapped to the ARPAbet phones the recogniser
uses. Without ``espeak-ng`` on PATH there is no fallback: the word stays unknown.
"""

from __future__ import annotations

import functools
import shutil
import subprocess

__all__ = ["arpabet", "espeak_phones"]

_TIE = "\u200d"
_MARKS = "ˈˌ'.-"  # stress and syllable marks: the recogniser's phones carry none
_MODIFIERS = "ːˑ̩̃ʰ"  # length, syllabic, nasal, aspiration: part of the phoneme before them
_PHONES = {
    # tied (diphthongs, affricates, r-coloured vowels)
    "eɪ": "EY", "aɪ": "AY", "aʊ": "AW", "oʊ": "OW", "əʊ": "OW", "ɔɪ": "OY", "dʒ": "JH",
    "tʃ": "CH", "ɑːɹ": "AA R", "ɔːɹ": "AO R", "ʊɹ": "UH R", "ɛɹ": "EH R", "ɪɹ": "IH R",
    "əl": "AH L", "aɪə": "AY ER", "aʊə": "AW ER", "iə": "IY AH", "eə": "EH R", "ʊə": "UH R",
    # vowels
    "æ": "AE", "ɑ": "AA", "ɑː": "AA", "ɒ": "AA", "ʌ": "AH", "ə": "AH", "ɐ": "AH", "ɚ": "ER",
    "ɜ": "ER", "ɜː": "ER", "ɛ": "EH", "e": "EH", "ɪ": "IH", "ᵻ": "IH", "i": "IY", "iː": "IY",
    "ɔ": "AO", "ɔː": "AO", "ʊ": "UH", "u": "UW", "uː": "UW", "o": "OW", "oː": "OW", "a": "AE",
    "aː": "AA", "y": "UW", "ø": "ER",
    # consonants
    "p": "P", "b": "B", "t": "T", "d": "D", "k": "K", "g": "G", "ɡ": "G", "f": "F", "v": "V",
    "θ": "TH", "ð": "DH", "s": "S", "z": "Z", "ʃ": "SH", "ʒ": "ZH", "h": "HH", "m": "M",
    "n": "N", "ŋ": "NG", "l": "L", "ɫ": "L", "ɹ": "R", "r": "R", "ɾ": "D", "w": "W", "j": "Y",
    "x": "K", "ç": "HH", "ʔ": "",
}


def arpabet(ipa: str) -> tuple[str, ...]:
    """ARPAbet phones of one IPA word as espeak-ng prints it; unknown symbols are dropped."""
    phones: list[str] = []
    for token in _tokens(ipa):
        mapped = _PHONES.get(token)
        if mapped is None:  # an unknown tie: map its parts one by one
            mapped = " ".join(_PHONES.get(part, "") for part in _tokens(token.replace(_TIE, "")))
        phones.extend(mapped.split())
    out: list[str] = []
    for phone in phones:  # espeak doubles a linking r ("ɑː‍ɹɹ"): one R is heard
        if not (out and phone == out[-1] == "R"):
            out.append(phone)
    return tuple(out)


def _tokens(ipa: str) -> list[str]:
    """Phonemes: a symbol with its modifiers, joined to the next one across a tie."""
    tokens: list[str] = []
    tied = False
    for char in ipa:
        if char in _MARKS or char.isspace():
            continue
        if char == _TIE:
            tied = True
        elif char in _MODIFIERS and tokens:
            tokens[-1] += char if char == "ː" else ""
        elif tied and tokens:
            tokens[-1] += char
            tied = False
        else:
            tokens.append(char)
    return [t for t in tokens if t]


@functools.lru_cache(maxsize=512)
def espeak_phones(word: str) -> tuple[str, ...] | None:
    """How espeak-ng (US English) says ``word``, as ARPAbet; None without espeak-ng."""
    binary = shutil.which("espeak-ng")
    if binary is None:
        return None
    try:
        done = subprocess.run([binary, "-q", "--ipa=3", "-v", "en-us", word], check=True,
                              capture_output=True, text=True, timeout=10)
    except (OSError, subprocess.SubprocessError):
        return None
    return arpabet(done.stdout.strip()) or None
