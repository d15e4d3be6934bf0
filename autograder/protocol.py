"""Frames exchanged between the grader and the sandboxed worker. No pickle, ever.

A frame is a 4-byte big-endian header length, a JSON header, then the arrays the header
announces, each stored with np.save(allow_pickle=False). Values are encoded as JSON with
markers for what JSON cannot hold: {"$array": i}, {"$scalar": i} (a numpy scalar, stored as
a 0-d array), {"$tuple": [...]}, {"$probe": name, "args": [...]} (a test function the worker
rebuilds from probes.py) and {"$opaque": "type: repr"} for anything else a student returns.

This module is copied into the worker's scratch directory: it imports only the stdlib and numpy.
"""
import io
import json
import os
import select
import struct
import time

import numpy as np

MAX_HEADER_BYTES = 1 << 20
MAX_ARRAY_BYTES = 1 << 28


class ProtocolError(Exception):
    """The other side sent something that is not a well-formed frame."""


class Closed(ProtocolError):
    """The other side closed the pipe (the worker ended)."""


class Timeout(ProtocolError):
    """No complete frame arrived before the deadline."""


class Probe:
    """A named test function and its array parameters, e.g. Probe("cube", [])."""

    def __init__(self, name, args):
        self.name, self.args = name, list(args)

    def __repr__(self):
        return f"Probe({self.name!r})"


def encode(value, arrays):
    """JSON-able form of value; arrays it holds are appended to `arrays`."""
    if value is None or isinstance(value, (bool, str)):
        return value
    if isinstance(value, (int, float)) and not isinstance(value, np.generic):
        return value
    if isinstance(value, np.ndarray) and value.dtype.kind in "biufc":
        arrays.append(value)
        return {"$array": len(arrays) - 1}
    if isinstance(value, np.generic) and value.dtype.kind in "biufc":
        arrays.append(np.asarray(value))
        return {"$scalar": len(arrays) - 1}
    if isinstance(value, tuple):
        return {"$tuple": [encode(v, arrays) for v in value]}
    if isinstance(value, list):
        return [encode(v, arrays) for v in value]
    if isinstance(value, Probe):
        return {"$probe": value.name, "args": [encode(v, arrays) for v in value.args]}
    text = repr(value) if not isinstance(value, np.ndarray) else f"array of dtype {value.dtype}"
    return {"$opaque": f"{type(value).__name__}: {text[:200]}"}


class Opaque:
    """Stands for a returned object the protocol does not carry (a generator, a dict, ...)."""

    def __init__(self, description):
        self.description = description

    def __repr__(self):
        return self.description


def decode(tree, arrays):
    """Inverse of encode. Raises ProtocolError on anything malformed."""
    if tree is None or isinstance(tree, (bool, str, int, float)):
        return tree
    if isinstance(tree, list):
        return [decode(v, arrays) for v in tree]
    if isinstance(tree, dict) and len(tree) >= 1:
        try:
            if "$array" in tree:
                return arrays[tree["$array"]]
            if "$scalar" in tree:
                return arrays[tree["$scalar"]][()]
            if "$tuple" in tree:
                return tuple(decode(v, arrays) for v in tree["$tuple"])
            if "$probe" in tree:
                return Probe(str(tree["$probe"]), [decode(v, arrays) for v in tree["args"]])
            if "$opaque" in tree:
                return Opaque(str(tree["$opaque"]))
        except (IndexError, KeyError, TypeError) as error:
            raise ProtocolError(f"bad value reference {tree!r:.100}: {error}") from None
    raise ProtocolError(f"unexpected value {tree!r:.100}")


def dumps(message, arrays):
    """The bytes of one frame: message (JSON-able dict) plus its arrays."""
    payloads = []
    for a in arrays:
        buffer = io.BytesIO()
        np.save(buffer, a, allow_pickle=False)
        payloads.append(buffer.getvalue())
    header = json.dumps({"message": message, "sizes": [len(p) for p in payloads]}).encode()
    return struct.pack("!I", len(header)) + header + b"".join(payloads)


def write_frame(fd, message, arrays=()):
    data = memoryview(dumps(message, list(arrays)))
    while data:
        written = os.write(fd, data)
        data = data[written:]


def _read_exact(fd, n, deadline):
    chunks, remaining = [], n
    while remaining:
        if deadline is not None:
            left = deadline - time.monotonic()
            if left <= 0 or not select.select([fd], [], [], left)[0]:
                raise Timeout(f"no answer within the time limit ({n - remaining} of {n} bytes read)")
        chunk = os.read(fd, min(remaining, 1 << 20))
        if not chunk:
            raise Closed("the worker closed the connection")
        chunks.append(chunk)
        remaining -= len(chunk)
    return b"".join(chunks)


def read_frame(fd, deadline=None):
    """Read one frame: (message dict, list of arrays). deadline: time.monotonic() value or None."""
    (size,) = struct.unpack("!I", _read_exact(fd, 4, deadline))
    if size > MAX_HEADER_BYTES:
        raise ProtocolError(f"frame header of {size} bytes is larger than allowed")
    try:
        header = json.loads(_read_exact(fd, size, deadline).decode())
        message, sizes = header["message"], [int(s) for s in header["sizes"]]
    except (ValueError, KeyError, TypeError, UnicodeDecodeError) as error:
        raise ProtocolError(f"frame header is not valid: {error}") from None
    if not isinstance(message, dict) or any(s < 0 for s in sizes) or sum(sizes) > MAX_ARRAY_BYTES:
        raise ProtocolError("frame header announces invalid content")
    arrays = []
    for s in sizes:
        try:
            arrays.append(np.load(io.BytesIO(_read_exact(fd, s, deadline)), allow_pickle=False))
        except (ValueError, OSError, EOFError) as error:
            raise ProtocolError(f"array payload is not a valid .npy: {error}") from None
    return message, arrays
