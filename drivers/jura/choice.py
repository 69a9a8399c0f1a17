"""Which layout a Jura machine has: from its ``TY:`` answer, or the spec's ``model=``.

A ``TY:`` answer names the machine's electronics, and several models can share one
(public captures show ``EF532M V02.03`` from both an E6 and an F50, whose buttons
differ). Then only what all of them agree on is proven: a drink on the same button
in every candidate, a counter word with the same name. A lab names the model with
``model=`` in the device spec; the bench never presses a button it cannot prove.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TypeVar

from .models import MODELS, InputFlag, JuraModel, model_named

__all__ = ["Layout", "choose", "split_type"]

K = TypeVar("K")
V = TypeVar("V")
_VERSION = re.compile(r"^(?P<model>.*?)\s+(?P<firmware>V\d\S*|MASK\s*\S+)\s*$", re.IGNORECASE)


def split_type(machine_type: str) -> tuple[str, str]:
    """``EF532M V02.03`` -> (``EF532M``, ``V02.03``); ``E30   MASK 3`` -> (``E30``, ``MASK 3``).

    Runs of spaces are one; a type with no version part is all model."""
    text = " ".join(machine_type.split())
    found = _VERSION.match(text)
    if found is None:
        return text, ""
    return found.group("model"), " ".join(found.group("firmware").split())


@dataclass(frozen=True)
class Layout:
    """What the bench may use on one machine, and why."""

    model: str  # the documented model, or the candidates joined by "/", or ""
    products: Mapping[str, str] = field(default_factory=dict)
    counters: Mapping[int, str] = field(default_factory=dict)
    maintenance: Mapping[int, str] = field(default_factory=dict)
    inputs: tuple[InputFlag, ...] = ()
    #: one line on how the layout was chosen (empty when the model is certain)
    caveat: str = ""
    sources: tuple[str, ...] = ()


def choose(machine_type: str, hint: str | None = None) -> Layout:
    """The layout of a machine whose ``TY:`` answer is ``machine_type``.

    ``hint`` is the spec's ``model=``: it decides between models that share a type
    and names a model whose type the public record lacks, but it does not override
    a type that belongs to another model.

    Raises:
        ValueError: ``hint`` names no documented model.
    """
    model_token, _ = split_type(machine_type)
    candidates = [model for model in MODELS if model_token in model.types]
    if hint:
        named = model_named(hint)
        if named is None:
            raise ValueError(f"no documented Jura model {hint!r}; known: "
                             f"{', '.join(model.name for model in MODELS)}")
        if candidates and named not in candidates:
            return Layout("", caveat=f"the spec says model={hint} but TY: {machine_type} is "
                                     f"what a {_names(candidates)} reports; no product is "
                                     "pressed until they agree")
        return _of(named)
    if len(candidates) == 1:
        return _of(candidates[0])
    if not candidates:
        return Layout("", caveat=f"TY: {machine_type!r} is no model the public record "
                                 "documents; name it with model= in the device spec "
                                 f"(known: {', '.join(model.name for model in MODELS)})")
    return _agreed(machine_type, candidates)


def _of(model: JuraModel) -> Layout:
    return Layout(model.name, model.products, model.counters, model.maintenance,
                  model.inputs, sources=(model.source,))


def _agreed(machine_type: str, candidates: list[JuraModel]) -> Layout:
    first, *others = candidates
    return Layout(
        _names(candidates),
        _common(first.products, [model.products for model in others]),
        _common(first.counters, [model.counters for model in others]),
        _common(first.maintenance, [model.maintenance for model in others]),
        tuple(flag for flag in first.inputs if all(flag in model.inputs for model in others)),
        f"TY: {machine_type} is reported by the {_names(candidates)}, whose layouts differ; "
        "only what they agree on is used: name the model with "
        + " or ".join(f"model={model.name}" for model in candidates),
        tuple(model.source for model in candidates))


def _common(first: Mapping[K, V], others: list[Mapping[K, V]]) -> dict[K, V]:
    return {key: value for key, value in first.items()
            if all(other.get(key) == value for other in others)}


def _names(models: list[JuraModel]) -> str:
    return "/".join(model.name for model in models)
