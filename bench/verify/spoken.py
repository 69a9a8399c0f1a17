"""Spoken canaries: planted values said aloud inside a recording a device emitted.

For every clip (bench.verify.clips) that decodes and sounds like speech, the clip
is transcribed offline (bench.verify.transcribe) and each planted value that can
be said is searched among the heard phones (bench.verify.phonetic), then in the
word transcript as text, then by keyword spotting (its phones against a loop of
all phones), where the phonetic alignment must still beat 9 decoys in 10; the
first that hears it makes the finding, which names its method.
A hit is a ``SpokenFinding`` with its evidence: channel, path, action, the time
span in the clip and what was heard there. Like a text finding it names the
emissions that hold the clip, so the classifier labels them with the canary's
category (``owner as spoken``).

What can be said: the words of a value without its run tag, digits or
punctuation (``Ada Canary-7F3A9C2E`` is said as "ada canary"), at least two words
that can be pronounced (bench.verify.phonetic), and no e-mail addresses.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from .canaries import Canary
from .clips import Clip, ClipError, clips, decode, is_speech
from .emissions import Emission
from .phonetic import KEYWORD_MAX_P, Alignment, Pronunciation, pronounce, search
from .transcribe import Transcript, spot, transcribe

__all__ = ["SPOKEN", "Heard", "SpokenFinding", "hunt_spoken", "sayable", "voice_summary"]

SPOKEN = "spoken"  # the chain of a spoken finding


@dataclass(frozen=True, slots=True)
class SpokenFinding:
    """A planted value heard in a recording."""

    canary: str
    category: str
    channel: str
    path: str
    action: str
    entry: int
    emissions: tuple[int, ...]
    start_s: float
    end_s: float
    heard: str  # the phones (or words) where the value was heard
    score: float
    p: float
    format: str
    method: str = "phones"  # phones (phonetic search), words (the transcript) or keyword
    chain: str = SPOKEN

    def describe(self) -> str:
        return (f"{self.canary} spoken in {self.format} clip {self.path} on {self.channel} "
                f"during {self.action}, {self.start_s:.2f}-{self.end_s:.2f} s: heard "
                f"'{self.heard}' by {self.method} (score {self.score:.2f}, p {self.p:.3f})")


@dataclass(frozen=True)
class Heard:
    """One clip and what the bench made of it."""

    clip: Clip
    speech: bool
    transcript: Transcript | None = None
    problem: str = ""
    findings: list[SpokenFinding] = field(default_factory=list)


def sayable(canary: Canary) -> Pronunciation | None:
    """How ``canary`` would be said, or None when it cannot be (see the module doc)."""
    if "@" in canary.value:
        return None
    words = [w for w in re.split(r"[^A-Za-z0-9']+", canary.value)
             if w and not any(ch.isdigit() for ch in w)]
    return pronounce(" ".join(words)) if len(words) >= 2 else None


def hunt_spoken(found: Sequence[Emission], canaries: Iterable[Canary]) -> list[Heard]:
    """Every clip in ``found``, transcribed when it is speech, with the canaries heard in it."""
    found_clips = clips(found)
    if not found_clips:  # the pronouncing dictionary costs ~60 MB: only load it for a clip
        return []
    phrases: dict[str, tuple[Canary, Pronunciation]] = {}
    for canary in canaries:
        said = sayable(canary)
        if said is not None:
            phrases.setdefault(said.phrase, (canary, said))  # owner and e-mail say the same
    return [_hear(clip, list(phrases.values())) for clip in found_clips]


def _hear(clip: Clip, phrases: list[tuple[Canary, Pronunciation]]) -> Heard:
    try:
        samples, rate = decode(clip)
    except ClipError as exc:
        return Heard(clip, False, problem=str(exc))
    if not is_speech(samples, rate):  # a tone, a chime: nothing to transcribe
        return Heard(clip, False)
    transcript = transcribe(samples, rate)
    heard = [p.phone for p in transcript.phones]
    findings = []
    for canary, said in phrases:
        alignment = search(heard, said)
        if alignment.heard:
            span = transcript.phones[alignment.first:alignment.last + 1]
            findings.append(_finding(clip, canary, (span[0].start_s, span[-1].end_s),
                                     " ".join(p.phone for p in span), alignment, "phones"))
        elif f" {said.phrase} " in f" {transcript.words} ":  # whole words, not "adam canaryx"
            findings.append(_finding(clip, canary, (0.0, transcript.duration_s), said.phrase,
                                     alignment, "words"))
        elif ((spots := spot(samples, rate, [said])[said.phrase])
              and (alignment := search(heard, said, always=True)).p <= KEYWORD_MAX_P):
            start, end = spots[0]
            phones = " ".join(p.phone for p in transcript.phones
                              if p.end_s > start and p.start_s < end)
            findings.append(_finding(clip, canary, (start, end), phones, alignment, "keyword"))
    return Heard(clip, True, transcript, findings=findings)


def _finding(clip: Clip, canary: Canary, span: tuple[float, float], heard: str,
             alignment: Alignment, method: str) -> SpokenFinding:
    return SpokenFinding(canary.name, canary.category, clip.channel, clip.path, clip.action,
                         clip.entry, clip.emissions, span[0], span[1], heard, alignment.score,
                         alignment.p, clip.info.format, method)


def voice_summary(heard: Sequence[Heard]) -> list[dict[str, Any]]:
    """What a saved capture keeps of its clips (``meta["voice"]``, read by the nightly):
    where each travelled, its format and length, and which canaries were heard when,
    never the audio nor the words heard."""
    return [{"action": h.clip.action, "channel": h.clip.channel, "path": h.clip.path,
             "format": h.clip.info.format,
             "seconds": round(h.transcript.duration_s if h.transcript
                              else h.clip.info.duration_s or 0.0, 2),
             "speech": h.speech, "transcribed": h.transcript is not None,
             "spoken": [{"canary": f.canary, "category": f.category,
                         "span_s": [round(f.start_s, 2), round(f.end_s, 2)],
                         "score": round(f.score, 2)} for f in h.findings]}
            for h in heard]
