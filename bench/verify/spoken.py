"""Spoken canaries: planted values said aloud inside a recording a device emitted.

Two methods, each finding naming its own (``method``) and score:

- ``acoustic`` (first, for every clip that decodes, speech or not): the audio the
  bench played for each planted phrase (bench.verify.played) is matched with the
  clip (bench.verify.acoustic) and scored against decoy names in the same voice;
  ``score`` is the correlation at the best offset, ``p`` the share of decoys (plus
  one) that matched as well, ``margin`` the lead over the best decoy.
- the recogniser (second, for clips that sound like speech, and for values the
  acoustic match did not hear: a person speaking in the lab, a voice the bench did
  not play): the clip is transcribed offline (bench.verify.transcribe) and each
  planted value is searched among the heard phones (bench.verify.phonetic),
  then in the word transcript as text, then by keyword spotting (its phones
  against a loop of all phones), where the phonetic alignment must still beat 9
  decoys in 10 (methods ``phones``, ``words``, ``keyword``).

Listening is bounded (bench.verify.listening): seconds decoded and matched per
clip and per capture, seconds transcribed per clip and per capture; what was
left is said in ``Heard.cut`` and, through it, in the verdict.
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

import numpy as np

from .acoustic import Match, features, score_against
from .canaries import Canary
from .clips import Clip, ClipError, Decoded, clips, decode_bounded, is_speech
from .emissions import Emission
from .listening import Listening, ListeningBudget
from .phonetic import KEYWORD_MAX_P, Alignment, Pronunciation, pronounce, search
from .played import Played, references
from .transcribe import Transcript, spot, transcribe

__all__ = ["ACOUSTIC", "SPOKEN", "Heard", "SpokenFinding", "hunt_spoken", "said_as", "sayable",
           "voice_summary"]

SPOKEN = "spoken"  # the chain of a spoken finding
ACOUSTIC = "acoustic"  # the method of a finding by matching the played audio


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
    method: str = "phones"  # acoustic, phones (phonetic search), words (the transcript) or keyword
    chain: str = SPOKEN
    margin: float | None = None  # acoustic: the lead over the best decoy's score

    def describe(self) -> str:
        where = (f"{self.canary} spoken in {self.format} clip {self.path} on {self.channel} "
                 f"during {self.action}, {self.start_s:.2f}-{self.end_s:.2f} s")
        if self.method == ACOUSTIC:
            return (f"{where}: the audio the bench played, by acoustic match (score "
                    f"{self.score:.2f}, {self.margin or 0.0:.2f} above the best decoy, p {self.p:.3f})")
        return (f"{where}: heard '{self.heard}' by {self.method} (score {self.score:.2f}, "
                f"p {self.p:.3f})")


@dataclass(frozen=True)
class Heard:
    """One clip and what the bench made of it."""

    clip: Clip
    speech: bool
    transcript: Transcript | None = None
    problem: str = ""
    findings: list[SpokenFinding] = field(default_factory=list)
    seconds: float = 0.0  # decoded and matched
    cut: str = ""  # what of the clip was not decoded, matched or transcribed, and why


def said_as(canary: Canary) -> str | None:
    """The words ``canary`` is said with, or None when it cannot be said (module doc)."""
    if "@" in canary.value:
        return None
    words = [w for w in re.split(r"[^A-Za-z0-9']+", canary.value)
             if w and not any(ch.isdigit() for ch in w)]
    return " ".join(words).lower() if len(words) >= 2 else None


def sayable(canary: Canary) -> Pronunciation | None:
    """How ``canary`` would be said, or None when it cannot be (see the module doc)."""
    words = said_as(canary)
    return pronounce(words) if words is not None else None


def hunt_spoken(found: Sequence[Emission], canaries: Iterable[Canary],
                played: Sequence[Decoded] = (),
                budget: ListeningBudget | None = None) -> list[Heard]:
    """Every clip in ``found``, matched with what the bench ``played`` and transcribed
    when it is speech, with the canaries heard in it, within ``budget``."""
    found_clips = clips(found)
    if not found_clips:  # the pronouncing dictionary costs ~60 MB: only load it for a clip
        return []
    texts: dict[str, Canary] = {}
    for canary in canaries:
        text = said_as(canary)
        if text is not None:
            texts.setdefault(text, canary)  # owner and e-mail say the same
    refs = references(texts, played)
    listening = Listening(budget or ListeningBudget())
    return [_hear(clip, texts, refs, listening) for clip in found_clips]


def _hear(clip: Clip, texts: dict[str, Canary], refs: Played, listening: Listening) -> Heard:
    allowed, refused = listening.decode_allowance()
    if allowed <= 0:
        return Heard(clip, False, cut=refused)
    try:
        decoded = decode_bounded(clip, allowed)
    except ClipError as exc:
        return Heard(clip, False, problem=str(exc))
    cut = [f"{decoded.cut} ({refused})"] if decoded.cut else []
    listening.spend(decoded.seconds)
    findings = _acoustic(clip, decoded, texts, refs)
    speech = is_speech(decoded.samples, decoded.rate)
    transcript = None
    if speech:
        span, why = listening.transcribe_allowance(decoded.seconds)
        if why:
            cut.append(why)
        if span > 0:
            samples = decoded.samples[:int(span * decoded.rate)]
            transcript = transcribe(samples, decoded.rate)
            listening.transcribed(span)
            heard_already = {f.canary for f in findings}
            findings += _recognised(clip, samples, decoded.rate, transcript,
                                    [c for c in texts.values() if c.name not in heard_already])
    return Heard(clip, speech, transcript, findings=findings, seconds=decoded.seconds,
                 cut="; ".join(cut))


def _acoustic(clip: Clip, decoded: Decoded, texts: dict[str, Canary],
              refs: Played) -> list[SpokenFinding]:
    if not refs.references:
        return []
    frames = features(decoded.samples, decoded.rate)
    out = []
    for text, reference in refs.references.items():
        found = score_against(reference.features, refs.decoys, frames)
        if found.heard:
            out.append(_matched(clip, texts[text], found))
    return out


def _matched(clip: Clip, canary: Canary, found: Match) -> SpokenFinding:
    return SpokenFinding(canary.name, canary.category, clip.channel, clip.path, clip.action,
                         clip.entry, clip.emissions, found.start_s, found.end_s, "played audio",
                         found.score, found.p, clip.info.format, ACOUSTIC, margin=found.margin)


def _recognised(clip: Clip, samples: np.ndarray, rate: int, transcript: Transcript,
                canaries: list[Canary]) -> list[SpokenFinding]:
    heard = [p.phone for p in transcript.phones]
    findings = []
    for canary in canaries:
        said = sayable(canary)
        if said is None:
            continue
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
    return findings


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
             **({"cut": h.cut} if h.cut else {}),
             "spoken": [{"canary": f.canary, "category": f.category, "method": f.method,
                         "span_s": [round(f.start_s, 2), round(f.end_s, 2)],
                         "score": round(f.score, 2)} for f in h.findings]}
            for h in heard]
