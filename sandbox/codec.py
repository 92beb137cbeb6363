"""Plain-data encoding and the comparison rules (trainer side).

Outputs leave the candidate's process as JSON with explicit types (see ``worker.wire_encode``):
only values whose type is *exactly* ``None``, ``bool``, ``int``, ``float``, ``str``, ``list``,
``tuple`` or ``dict`` are accepted; subclasses (an ``int`` subclass with a rigged ``__eq__``), other
classes, sets, generators... make the output ``bad_output``.

Comparison (``equal(output, expected)``) happens here, in the trainer process, on canonical forms:

- types must match exactly: ``True != 1``, ``1.0 != 1``, ``"1" != 1``, ``None`` only equals ``None``;
- floats compare with ``==`` (no tolerance; ``-0.0 == 0.0``); NaN never equals anything, including
  NaN, anywhere inside a structure;
- ``tuple`` and ``list`` are the same type (both are JSON arrays; the contract is JSON data), so
  ``(1, 2)`` equals ``[1, 2]``; element order matters;
- dicts compare as unordered key/value sets with keys under the same exact-type rules.
"""
from __future__ import annotations

import json

from .worker import _Bad, wire_encode  # stdlib-only module: safe to import in the trainer

MAX_DEPTH = 100


class NotPlainData(ValueError):
    """A value cannot be expressed as plain data (or a wire message is malformed)."""


class _HasNaN(Exception):
    pass


def encode_args(args) -> object:
    """Trusted test arguments -> wire form (raises NotPlainData for unsupported values)."""
    if not isinstance(args, (list, tuple)):
        raise NotPlainData("test args must be a list, got %s" % type(args).__name__)
    try:
        return wire_encode(list(args))
    except _Bad as e:
        raise NotPlainData("test args are not plain data: %s" % e) from None


_CONTAINER = object()  # what _canon_scalar gives for anything that is not a scalar


def _canon_scalar(x, depth):
    """The canonical form of a scalar (None, bool, int, float, str), or _CONTAINER; the type is exact."""
    if depth > MAX_DEPTH:
        raise NotPlainData("nested deeper than %d" % MAX_DEPTH)
    t = type(x)
    if x is None:
        return ("N",)
    if t is bool:
        return ("B", x)
    if t is int:
        return ("I", x)
    if t is str:
        return ("S", x)
    if t is float:
        if x != x:
            raise _HasNaN()
        return ("F", x)
    return _CONTAINER


def _canon_py(x, depth):
    """Python value (trusted expected value) -> canonical hashable form."""
    scalar = _canon_scalar(x, depth)
    if scalar is not _CONTAINER:
        return scalar
    t = type(x)
    if t is list or t is tuple:
        return ("L", tuple(_canon_py(v, depth + 1) for v in x))
    if t is dict:
        return ("D", frozenset((_canon_py(k, depth + 1), _canon_py(v, depth + 1)) for k, v in x.items()))
    raise NotPlainData("unsupported type %s" % t.__name__)


def _canon_wire(x, depth):
    """Decoded JSON from the (untrusted) result channel -> canonical form."""
    scalar = _canon_scalar(x, depth)
    if scalar is not _CONTAINER:
        return scalar
    t = type(x)
    if t is list:
        return ("L", tuple(_canon_wire(v, depth + 1) for v in x))
    if t is dict and len(x) == 1:
        (tag, v), = x.items()
        if tag == "$i" and type(v) is str:
            try:
                return ("I", int(v, 16))
            except ValueError:
                raise NotPlainData("bad big int") from None
        if tag == "$f" and type(v) is str:
            if v == "nan":
                raise _HasNaN()
            if v in ("inf", "-inf"):
                return ("F", float(v))
            raise NotPlainData("bad special float")
        if tag == "$d" and type(v) is list:
            pairs = []
            for kv in v:
                if type(kv) is not list or len(kv) != 2:
                    raise NotPlainData("bad dict item")
                pairs.append((_canon_wire(kv[0], depth + 1), _canon_wire(kv[1], depth + 1)))
            return ("D", frozenset(pairs))
    raise NotPlainData("malformed wire value")


NAN = object()  # canonical marker: a value that contains NaN and so equals nothing


def _canonical(canon, value):
    try:
        return canon(value, 0)
    except _HasNaN:
        return NAN
    except RecursionError:
        raise NotPlainData("nested too deep") from None


def canon_expected(x):
    """Canonical form of an expected value; NAN if it contains NaN. Raises NotPlainData."""
    return _canonical(_canon_py, x)


def canon_output(wire_value):
    """Canonical form of a wire value from the child; NAN if it contains NaN. Raises NotPlainData."""
    return _canonical(_canon_wire, wire_value)


def canon_equal(a, b) -> bool:
    if a is NAN or b is NAN:
        return False
    return a == b


def equal(output, expected) -> bool:
    """Compare two Python values under the sandbox's rules (used by tests and docs)."""
    try:
        a = canon_output(json.loads(json.dumps(wire_encode(output))))
    except _Bad:
        return False
    return canon_equal(a, canon_expected(expected))


def decode_line(line: str):
    """Parse one result line (untrusted). Returns a dict or raises NotPlainData."""
    try:
        obj = json.loads(line, parse_constant=_reject_constant)
    except (ValueError, RecursionError) as e:
        raise NotPlainData("unparseable result line: %s" % (str(e)[:80],)) from None
    if type(obj) is not dict:
        raise NotPlainData("result line is not an object")
    return obj


def _reject_constant(name):
    # The harness encodes NaN/Infinity explicitly; bare constants only come from tampering.
    raise ValueError("bare %s" % name)


__all__ = ["NotPlainData", "encode_args", "canon_expected", "canon_output", "canon_equal", "equal",
           "decode_line", "NAN"]
