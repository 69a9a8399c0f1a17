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
                                      (undefined, simple values, datetime, decimal...)
    {"$set": [item, ...]}             a set (tag 258; "$fset" when frozen), items sorted
    {"$mime": "<text>"}               a MIME message (tag 36), as its text
    {"$cborkey": "<hex>"}             a leaf inside a map key: the CBOR of {leaf: null},
                                      so it decodes frozen (a set as frozenset) as in a key
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

import email.message
import email.parser
import json
import math
from collections.abc import Callable, Iterator, Mapping
from typing import Any

import cbor2

MAX_TREE_DEPTH = 64  # deeper values are written as a $graph, which never recurses
SAFE_INT = 2**53  # integers JSON readers keep exactly
FORMS = frozenset({"$bytes", "$int", "$float", "$map", "$fmap", "$tuple", "$tag", "$cbor",
                   "$cborkey", "$mime", "$set", "$fset", "$graph", "$ref", "$unrepresentable"})
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
        try:
            return _tree(value, 0, False, set())
        except _NeedsGraph:
            return {"$graph": _graph_nodes(value)}
    except Exception as exc:  # a device's value must never stop a save
        return {"$unrepresentable": f"{type(value).__name__}: {type(exc).__name__}"}


class _NeedsGraph(Exception):
    """The tree form met a part it has seen before, or nesting deeper than it allows."""


def _scalar(value: Any, in_key: bool = False) -> tuple[bool, Any]:
    """(True, form) for a non-container value, (False, None) for a container."""
    kind = type(value)
    if kind is str or kind is bool or value is None:  # the common cases first, by type
        return True, value
    if kind is list or kind is dict:
        return False, None
    if isinstance(value, bool | str):
        return True, value
    if isinstance(value, int):
        return True, value if -SAFE_INT < value < SAFE_INT else {"$int": hex(value)}
    if isinstance(value, float):
        return True, value if math.isfinite(value) else {"$float": repr(value)}
    if isinstance(value, bytes | bytearray | memoryview):
        return True, {"$bytes": bytes(value).hex()}
    if isinstance(value, Containers):
        return False, None
    if isinstance(value, set | frozenset):  # items are hashable, as keys are; sorted so
        items = sorted((_key_form(item) for item in value), key=json.dumps)  # equal sets match
        return True, {"$fset" if isinstance(value, frozenset) else "$set": items}
    try:
        if isinstance(value, email.message.Message):  # tag 36, which cbor2 cannot encode back
            return True, {"$mime": value.as_string()}
        if in_key:
            return True, _key_cbor(value)
        return True, {"$cbor": _cbor(value).hex()}
    except Exception as exc:  # one odd leaf must not cost the rest of the body
        return True, {"$unrepresentable": f"{type(value).__name__}: {type(exc).__name__}"}


def _cbor(value: Any) -> bytes:
    """Canonical CBOR (a set's items sorted, so equal sets write alike), else plain CBOR
    (a set whose items cannot be sorted, such as a set of mixed tags)."""
    try:
        return cbor2.dumps(value, canonical=True)
    except cbor2.CBOREncodeError:
        return cbor2.dumps(value)


def _tree(value: Any, depth: int, in_key: bool, seen: set[int]) -> Any:
    """The tree form; ``_NeedsGraph`` when a container repeats or nesting is too deep."""
    done, form = _scalar(value, in_key)
    if done:
        return form
    if depth > MAX_TREE_DEPTH or id(value) in seen:
        raise _NeedsGraph
    seen.add(id(value))
    return _container(value, lambda item: _tree(item, depth + 1, in_key, seen))


def _key_form(key: Any) -> Any:
    """A map key: a tree, or a $graph when deep or shared (its nodes are all immutable)."""
    try:
        return _tree(key, 0, True, set())
    except _NeedsGraph:
        return {"$graph": _graph_nodes(key, in_key=True)}


def _key_cbor(key: Any) -> Any:
    """``{"$cborkey": hex}``: the CBOR of ``{key: null}``, so decoding it yields the key
    in key context (frozenset, frozendict, tuple), exactly as cbor2 first made it."""
    try:
        return {"$cborkey": _cbor({key: None}).hex()}
    except Exception as exc:  # one odd key must not cost the rest of the body
        return {"$unrepresentable": f"{type(key).__name__}: {type(exc).__name__}"}


def _container(value: Any, child: Callable[[Any], Any]) -> Any:
    """One container's form with ``child`` applied to each item (keys are always trees)."""
    if isinstance(value, list):
        return [child(item) for item in value]
    if isinstance(value, tuple):
        return {"$tuple": [child(item) for item in value]}
    if isinstance(value, cbor2.CBORTag):
        return {"$tag": [value.tag, child(value.value)]}
    frozen = isinstance(value, cbor2.frozendict)
    if not frozen and all(type(key) is str for key in value) and not _looks_like_form(value):
        return {key: child(item) for key, item in value.items()}
    pairs = [[_key_form(key), child(item)] for key, item in value.items()]
    return {"$fmap" if frozen else "$map": pairs}


def _looks_like_form(value: Mapping[Any, Any]) -> bool:
    return len(value) == 1 and next(iter(value)) in FORMS


def _children(value: Any) -> Iterator[Any]:
    if isinstance(value, list | tuple):
        yield from value
    elif isinstance(value, cbor2.CBORTag):
        yield value.value
    else:
        yield from value.values()


def _graph_nodes(root: Any, in_key: bool = False) -> list[Any]:
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
        done, form = _scalar(item, in_key)
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
    return [(_key(_read(key, None)), _read(item, nodes)) for key, item in arg]


def _key(value: Any) -> Any:
    """A map key as cbor2 makes it: what decodes mutable in a key ($cbor of a set) is frozen."""
    if isinstance(value, set):
        return frozenset(value)
    if isinstance(value, dict):  # {"$unrepresentable": ...} standing in for a key
        return cbor2.frozendict(value)
    return value


def _ref(arg: Any, nodes: list[Any] | None) -> Any:
    if nodes is None or not isinstance(arg, int) or not 0 <= arg < len(nodes):
        raise ValueFormError(f"$ref {arg!r} outside a $graph")
    node = nodes[arg]
    if node is _PENDING:
        raise ValueFormError(f"$ref {arg} refers to an immutable value that contains itself")
    return node


_PENDING = object()


def _graph(arg: Any, _nodes: list[Any] | None) -> Any:
    """Shells for the mutable nodes first (so cycles can close on them), then the
    immutable nodes (tuples, tags, frozen maps) each after those it contains,
    then the shells are filled."""
    if not isinstance(arg, list) or not arg:
        raise ValueFormError("$graph needs a non-empty list of nodes")
    nodes: list[Any] = [[] if isinstance(n, list) else {} if _is_plain_map(n) else _PENDING
                        for n in arg]
    for number in _immutable_order(arg, nodes):
        nodes[number] = _read(arg[number], nodes)
    for number, shell in enumerate(nodes):
        if isinstance(shell, list):
            shell.extend(_read(arg[number], nodes))
        elif isinstance(shell, dict) and not isinstance(shell, cbor2.frozendict):
            shell.update(_read(arg[number], nodes))
    return nodes[0]


def _immutable_order(forms: list[Any], nodes: list[Any]) -> list[int]:
    """Immutable nodes, each after the immutable nodes it refers to (iterative DFS)."""
    order: list[int] = []
    state: dict[int, bool] = {}  # False: being visited, True: placed
    for start in range(len(forms)):
        if nodes[start] is not _PENDING or start in state:
            continue
        stack = [(start, iter(_refs(forms[start])))]
        state[start] = False
        while stack:
            number, pending = stack[-1]
            child = next(pending, None)
            if child is None:
                stack.pop()
                state[number] = True
                order.append(number)
            elif not 0 <= child < len(forms):
                raise ValueFormError(f"$ref {child} outside the $graph")
            elif nodes[child] is _PENDING:
                if state.get(child) is False:
                    raise ValueFormError(f"$ref {child}: an immutable value that contains itself")
                if child not in state:
                    state[child] = False
                    stack.append((child, iter(_refs(forms[child]))))
    return order


def _refs(form: Any) -> Iterator[int]:
    """The node numbers one node's form refers to (a node's form is shallow)."""
    stack = [form]
    while stack:
        item = stack.pop()
        if isinstance(item, list):
            stack.extend(item)
        elif isinstance(item, dict):
            if len(item) == 1 and isinstance(item.get("$ref"), int):
                yield item["$ref"]
            elif not (len(item) == 1 and "$graph" in item):  # a key's own graph: its own refs
                stack.extend(item.values())


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
    "$set": lambda arg, _n: {_key(_read(item, None)) for item in arg},
    "$fset": lambda arg, _n: frozenset(_key(_read(item, None)) for item in arg),
    "$mime": lambda arg, _n: email.parser.Parser().parsestr(arg),
    "$cborkey": lambda arg, _n: next(iter(cbor2.loads(bytes.fromhex(arg)))),
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
