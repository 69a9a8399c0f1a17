"""A loss-free JSON form for any value a device's CBOR decodes to.

A device chooses what its bodies hold, so a capture must be able to save, and
load back unchanged, whatever ``cbor2`` makes of them: maps with non-text keys,
integers of thousands of digits, NaN and infinities, ``undefined``, simple
values, tags (known ones become ``datetime``, ``Decimal``, sets...), and the
shared and self-referring values of tags 28/29. JSON has none of these, so
they are written as one-key objects whose key starts with ``$``:

    {"$bytes": "c0fe"}                byte string (hex)
    {"$int": "-0x1f..."}              integer beyond +-2**53 (hex: no digit limit)
    {"$float": "nan"}                 nan, inf, -inf
    {"$map": [[key, value], ...]}     map with a non-text key, or one that looks
                                      like one of these forms (so it stays a map)
    {"$fmap": [[key, value], ...]}    immutable map (a map used as a key)
    {"$tuple": [...]}                 immutable array (an array used as a key)
    {"$tag": [number, value]}         a tag cbor2 left as a tag
    {"$cbor": "<hex>"}                anything else, as its own CBOR encoding
                                      (undefined, simple values, datetime, sets...)
    {"$graph": [node, ...]}           a value with shared or self-referring parts,
                                      or nested deeper than MAX_TREE_DEPTH: a flat
                                      table of its containers, node 0 the root,
                                      each child container written {"$ref": index}

Everything else (text, booleans, null, integers within +-2**53, finite
floats, lists, text-keyed maps) is plain JSON. ``from_json(to_json(v))``
equals ``v``, shares what ``v`` shares and refers to itself where ``v`` does.
The encoder never recurses deeper than MAX_TREE_DEPTH and writes each shared
part once, so a body that expands exponentially stays the size it was sent.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Iterator, Mapping
from typing import Any

import cbor2

MAX_TREE_DEPTH = 64  # deeper values are written as a $graph, which never recurses
SAFE_INT = 2**53  # integers JSON readers keep exactly
FORMS = frozenset({"$bytes", "$int", "$float", "$map", "$fmap", "$tuple", "$tag", "$cbor",
                   "$graph", "$ref", "$unrepresentable"})
_INT_TEXT_BITS = 12_000  # int -> decimal text stays well inside Python's 4300-digit limit

Containers = (list, dict, tuple, cbor2.frozendict, cbor2.CBORTag)


class ValueFormError(ValueError):
    """A JSON value that is not a valid form of a decoded value."""


# -- writing ------------------------------------------------------------------------


def to_json(value: Any) -> Any:
    """The JSON form of ``value`` (see the module doc); never raises for a decoded value.

    A value nothing can represent (only possible for objects no CBOR decoder
    makes) becomes ``{"$unrepresentable": "<type>"}``.
    """
    try:
        if _needs_graph(value):
            return {"$graph": _graph_nodes(value)}
        return _tree(value, 0)
    except Exception as exc:  # a device's value must never stop a save
        return {"$unrepresentable": f"{type(value).__name__}: {type(exc).__name__}"}


def _scalar(value: Any) -> tuple[bool, Any]:
    """(True, form) for a non-container value, (False, None) for a container."""
    if value is None or isinstance(value, bool | str):
        return True, value
    if isinstance(value, int):
        return True, value if -SAFE_INT < value < SAFE_INT else {"$int": hex(value)}
    if isinstance(value, float):
        return True, value if math.isfinite(value) else {"$float": repr(value)}
    if isinstance(value, bytes | bytearray | memoryview):
        return True, {"$bytes": bytes(value).hex()}
    if isinstance(value, Containers):
        return False, None
    try:
        return True, {"$cbor": cbor2.dumps(value).hex()}
    except Exception as exc:  # one odd leaf must not cost the rest of the body
        return True, {"$unrepresentable": f"{type(value).__name__}: {type(exc).__name__}"}


def _tree(value: Any, depth: int) -> Any:
    done, form = _scalar(value)
    if done:
        return form
    if depth > MAX_TREE_DEPTH:
        raise RecursionError("value nested deeper than the tree form allows")
    return _container(value, lambda item: _tree(item, depth + 1))


def _container(value: Any, child: Callable[[Any], Any]) -> Any:
    """One container's form with ``child`` applied to each item (keys are always trees)."""
    if isinstance(value, list):
        return [child(item) for item in value]
    if isinstance(value, tuple):
        return {"$tuple": [child(item) for item in value]}
    if isinstance(value, cbor2.CBORTag):
        return {"$tag": [value.tag, child(value.value)]}
    pairs = [[_tree(key, 0), child(item)] for key, item in value.items()]
    if isinstance(value, cbor2.frozendict):
        return {"$fmap": pairs}
    if all(isinstance(key, str) for key in value) and not _looks_like_form(value):
        return {key: form for key, (_k, form) in zip(value, pairs, strict=True)}
    return {"$map": pairs}


def _looks_like_form(value: Mapping[Any, Any]) -> bool:
    return len(value) == 1 and next(iter(value)) in FORMS


def _children(value: Any) -> Iterator[Any]:
    if isinstance(value, list | tuple):
        yield from value
    elif isinstance(value, cbor2.CBORTag):
        yield value.value
    else:
        yield from value.values()


def _needs_graph(value: Any) -> bool:
    """True when ``value`` shares a container or nests deeper than the tree form allows."""
    seen: set[int] = set()
    stack = [(value, 0)]
    while stack:
        item, depth = stack.pop()
        if not isinstance(item, Containers):
            continue
        if id(item) in seen or depth > MAX_TREE_DEPTH:
            return True
        seen.add(id(item))
        stack.extend((child, depth + 1) for child in _children(item))
    return False


def _graph_nodes(root: Any) -> list[Any]:
    """Every container of ``root`` once, in depth-first pre-order, children as refs."""
    index: dict[int, int] = {}
    order: list[Any] = []
    stack = [root]
    while stack:
        item = stack.pop()
        if not isinstance(item, Containers) or id(item) in index:
            continue
        index[id(item)] = len(order)
        order.append(item)
        stack.extend(reversed(list(_children(item))))

    def ref(item: Any) -> Any:
        done, form = _scalar(item)
        return form if done else {"$ref": index[id(item)]}

    return [_container(item, ref) for item in order]


# -- reading ------------------------------------------------------------------------


def from_json(form: Any) -> Any:
    """The value ``form`` stands for (the inverse of ``to_json``).

    Raises:
        ValueFormError: ``form`` is not something ``to_json`` writes.
    """
    try:
        return _read(form, None)
    except ValueFormError:
        raise
    except (KeyError, IndexError, TypeError, ValueError, RecursionError) as exc:
        raise ValueFormError(f"not a valid value form: {type(exc).__name__}: {exc}") from exc


def _read(form: Any, nodes: list[Any] | None) -> Any:
    if isinstance(form, list):
        return [_read(item, nodes) for item in form]
    if not isinstance(form, dict):
        if isinstance(form, int | float | str | bool) or form is None:
            return form
        raise ValueFormError(f"unexpected {type(form).__name__}")
    if not _looks_like_form(form):
        return {key: _read(item, nodes) for key, item in form.items()}
    (name, arg), = form.items()
    return _READERS[name](arg, nodes)


def _pairs(arg: Any, nodes: list[Any] | None) -> list[tuple[Any, Any]]:
    return [(_read(key, None), _read(item, nodes)) for key, item in arg]


def _ref(arg: Any, nodes: list[Any] | None) -> Any:
    if nodes is None or not isinstance(arg, int) or not 0 <= arg < len(nodes):
        raise ValueFormError(f"$ref {arg!r} outside a $graph")
    node = nodes[arg]
    if node is _PENDING:
        raise ValueFormError(f"$ref {arg} refers to an immutable value that contains itself")
    return node


_PENDING = object()


def _graph(arg: Any, _nodes: list[Any] | None) -> Any:
    """Shells for the mutable nodes first (so cycles can close), then every node from
    the last: in pre-order a node's tree children come after it, so they are done."""
    if not isinstance(arg, list) or not arg:
        raise ValueFormError("$graph needs a non-empty list of nodes")
    nodes: list[Any] = [[] if isinstance(n, list) else {} if _is_plain_map(n) else _PENDING
                        for n in arg]
    for number in range(len(arg) - 1, -1, -1):
        built = _read(arg[number], nodes)
        shell = nodes[number]
        if isinstance(shell, list):
            shell.extend(built)
        elif isinstance(shell, dict):
            shell.update(built)
        else:
            nodes[number] = built
    return nodes[0]


def _is_plain_map(node: Any) -> bool:
    return isinstance(node, dict) and (not _looks_like_form(node) or "$map" in node)


_READERS: dict[str, Callable[[Any, list[Any] | None], Any]] = {
    "$bytes": lambda arg, _n: bytes.fromhex(arg),
    "$int": lambda arg, _n: int(arg, 16),
    "$float": lambda arg, _n: float(arg),
    "$map": lambda arg, nodes: dict(_pairs(arg, nodes)),
    "$fmap": lambda arg, nodes: cbor2.frozendict(_pairs(arg, nodes)),
    "$tuple": lambda arg, nodes: tuple(_read(item, nodes) for item in arg),
    "$tag": lambda arg, nodes: cbor2.CBORTag(int(arg[0]), _read(arg[1], nodes)),
    "$cbor": lambda arg, _n: cbor2.loads(bytes.fromhex(arg)),
    "$graph": _graph,
    "$ref": _ref,
    "$unrepresentable": lambda arg, _n: {"$unrepresentable": arg},
}


# -- text for people and for hunting -------------------------------------------------


def int_text(value: int) -> str:
    """Decimal text of an integer, or hex when decimal would exceed Python's digit limit."""
    return str(value) if value.bit_length() <= _INT_TEXT_BITS else hex(value)


def value_repr(value: Any) -> str:
    """``repr(value)``, or its JSON form when repr fails (a huge integer inside a Fraction)."""
    try:
        return repr(value)
    except (ValueError, RecursionError):
        return json.dumps(to_json(value), ensure_ascii=False)


def key_text(key: Any) -> str:
    """A map key as a path element: text as is, anything else in a short readable form."""
    if isinstance(key, str):
        return key
    if isinstance(key, bool) or key is None:
        return repr(key)
    if isinstance(key, int):
        text = int_text(key)
        return text if len(text) <= 40 else text[:20] + "…" + text[-8:]
    if isinstance(key, bytes):
        return "h'" + key.hex()[:40] + "'"
    if isinstance(key, float):
        return repr(key)
    return "<" + type(key).__name__ + ">"


__all__ = ["FORMS", "MAX_TREE_DEPTH", "ValueFormError", "from_json", "int_text", "key_text",
           "to_json", "value_repr"]
