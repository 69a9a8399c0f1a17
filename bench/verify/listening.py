"""What listening may cost: seconds of audio decoded, matched and transcribed.

A hostile machine can send a clip that claims hours, or thousands of small ones.
Acoustic matching costs about 1/20 of the audio's length and transcription about
its whole length, so both are bounded per clip and per capture; what is past a
bound is left, and the clip says so (``Heard.cut``), as does the verdict.

    ListeningBudget()                      # the defaults below
    ListeningBudget(capture_s=3600.0)      # an hour of audio per capture
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["Listening", "ListeningBudget"]


@dataclass(frozen=True)
class ListeningBudget:
    """Seconds of audio per clip and per capture, decoded and matched, and transcribed."""

    clip_s: float = 120.0
    capture_s: float = 600.0
    transcribe_clip_s: float = 30.0
    transcribe_capture_s: float = 120.0


class Listening:
    """What one capture's clips have spent of a budget so far."""

    def __init__(self, budget: ListeningBudget) -> None:
        self.budget = budget
        self.decoded_s = 0.0
        self.transcribed_s = 0.0

    def decode_allowance(self) -> tuple[float, str]:
        """Seconds the next clip may decode, and why it may not decode more ("" if no reason)."""
        left = self.budget.capture_s - self.decoded_s
        if left <= 0:
            return 0.0, f"not analysed: the capture's {self.budget.capture_s:.0f} s of listening were spent"
        if left < self.budget.clip_s:
            return left, f"the capture's {self.budget.capture_s:.0f} s of listening ran out"
        return self.budget.clip_s, f"{self.budget.clip_s:.0f} s per clip"

    def spend(self, seconds: float) -> None:
        self.decoded_s += seconds

    def transcribe_allowance(self, seconds: float) -> tuple[float, str]:
        """Seconds of a clip of ``seconds`` to transcribe, and what was left ("" if none)."""
        left = max(0.0, self.budget.transcribe_capture_s - self.transcribed_s)
        span = min(seconds, self.budget.transcribe_clip_s, left)
        if span >= seconds:
            return span, ""
        bound = ("per clip" if span == self.budget.transcribe_clip_s
                 else f"of {self.budget.transcribe_capture_s:.0f} s per capture")
        limit = self.budget.transcribe_clip_s if bound == "per clip" else left
        return span, (f"transcribed the first {span:.0f} s of {seconds:.0f} s "
                      f"({limit:.0f} s {bound})")

    def transcribed(self, seconds: float) -> None:
        self.transcribed_s += seconds
