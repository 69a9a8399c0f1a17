"""One call from a capture to everything the bench verifies about it.

    result = verify(capture, canaries=canaries, contract=Path("contracts/cm-500.toml"))
    result.findings          # canaries found (bench.hunter)
    result.spoken            # canaries heard in recordings (bench.verify.spoken)
    result.said              # canaries as said, written in text: transcripts (bench.verify.said_text)
    result.verdict           # contract check, or None without a contract

``bench.influx.verification_points`` turns a ``Verification`` into InfluxDB points;
this module knows nothing of InfluxDB.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from ...drivers.records import TX
from ..capture import Capture
from .canaries import CanarySet
from .classify import Classified, classify
from .contracts import Contract, Verdict, contract_for, judge
from .emissions import emissions
from .hunter import Finding, hunter_for
from .listening import ListeningBudget
from .played import played_clips
from .redact import Redactor
from .residency import destination_places, entry_destinations
from .said_text import SaidFinding, hunt_said
from .spoken import Heard, SpokenFinding, hunt_spoken, said_as


@dataclass(frozen=True)
class Verification:
    """What the bench found in one capture."""

    capture: Capture
    classified: list[Classified]
    findings: list[Finding]
    verdict: Verdict | None
    problems: list[str] = field(default_factory=list)  # records that could not be analysed
    heard: list[Heard] = field(default_factory=list)  # every clip, transcribed when speech
    said: list[SaidFinding] = field(default_factory=list)  # said forms in text (transcripts)

    @property
    def spoken(self) -> list[SpokenFinding]:
        """The canaries heard in recordings, clip by clip."""
        return [finding for clip in self.heard for finding in clip.findings]

    @property
    def leaks(self) -> int:
        """Planted values found, as text or heard in a recording."""
        return len(self.findings) + len(self.spoken) + len(self.said)

    @property
    def not_analysed(self) -> list[str]:
        """What of the recordings was left unheard by the listening bounds, one line each."""
        return [f"{heard.clip.describe()}: {heard.cut}" for heard in self.heard if heard.cut]


def verify(capture: Capture, canaries: CanarySet | None = None,
           contract: Contract | Path | None = None,
           redactor: Redactor | None = None,
           listening: ListeningBudget | None = None) -> Verification:
    """Classify what the device emitted, hunt ``canaries`` (also spoken, in every
    clip: matched with the audio the bench played, and transcribed when it sounds
    like speech, within ``listening``), check ``contract`` (its violations' examples
    as keyed hashes with ``redactor``).

    Raises:
        ContractError: the contract file is invalid or does not cover the device.
    """
    chosen = contract_for(capture, contract) if contract is not None else None
    problems: list[str] = []
    found = emissions(capture, problems=problems)
    findings = hunter_for(canaries.canaries).hunt(found) if canaries else []
    heard = (hunt_spoken(found, canaries.canaries, played_clips(emissions(capture, TX)), listening)
             if canaries else [])
    spoken = [finding for clip in heard for finding in clip.findings]
    said = (hunt_said(found, [(c, text) for c in canaries.canaries
                              if (text := said_as(c)) is not None], findings) if canaries else [])
    classified = classify(found, [*findings, *spoken, *said], canaries.names() if canaries else ())
    verdict = (judge(classified, chosen, capture.device, redactor,
                     destinations=entry_destinations(capture, found),
                     places=destination_places(capture))
               if chosen is not None else None)
    problems += [f"{clip.clip.describe()}: {clip.problem}" for clip in heard if clip.problem]
    return Verification(capture, classified, findings, verdict, problems, heard, said)
