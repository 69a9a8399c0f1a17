"""Spoken values in text: a planted value as it is said, found where a machine wrote it down.

A machine that keeps only its recogniser's transcript of a voice order writes the
words it heard ("a latte for Ada Canary on floor seven"), never the run tag a
canary carries in text (``Ada Canary-7F3A9C2E``), which is not said. So every
text value a device emitted is also searched for the said form of each canary
(bench.verify.spoken ``said_as``: its words without the tag) as whole words, any
case, with spaces, hyphens or underscores between them. A value where the hunter
already found that canary with its tag is left to the hunter: nothing is counted twice.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from .canaries import Canary
from .emissions import Emission
from .hunter import Finding

__all__ = ["SAID", "SaidFinding", "hunt_said"]

SAID = "said"  # the chain of a finding by the said form
_MAX_TEXT = 1 << 16  # characters of one value searched: a transcript is short


@dataclass(frozen=True, slots=True)
class SaidFinding:
    """A planted value's said form in a text value (a transcript): which, and where."""

    planted: Canary
    emission: Emission
    index: int  # of the emission, in what the hunt was given
    said: str
    chain: str = SAID
    method: str = "transcript"

    @property
    def canary(self) -> str:
        return self.planted.name

    @property
    def category(self) -> str:
        return self.planted.category

    @property
    def emissions(self) -> tuple[int, ...]:
        return (self.index,)

    def describe(self) -> str:
        where = self.emission
        return (f"{self.canary} as said ('{self.said}' without its run tag) in {where.path} on "
                f"{where.channel} during {where.action}")


def hunt_said(found: Sequence[Emission], canaries: Iterable[tuple[Canary, str]],
              already: Iterable[Finding] = ()) -> list[SaidFinding]:
    """Each (canary, said form) pair's said form in the text values of ``found``."""
    known = {(index, f.canary) for f in already for index in f.emissions}
    patterns = [(canary, said, _pattern(said)) for canary, said in canaries]
    out = []
    for index, emission in enumerate(found):
        if not isinstance(emission.value, str):
            continue
        text = emission.value[:_MAX_TEXT]
        for canary, said, pattern in patterns:
            if (index, canary.name) not in known and pattern.search(text):
                out.append(SaidFinding(canary, emission, index, said))
    return out


def _pattern(said: str) -> re.Pattern[str]:
    words = [re.escape(word) for word in said.split()]
    return re.compile(r"(?<![\w])" + r"[\s_\-]+".join(words) + r"(?![\w])", re.IGNORECASE)
