"""Frames exchanged between the grader and the sandboxed worker. No pickle, ever.

A frame is a 4-byte big-endian header length, a JSON header, then the arrays the header
announces, each stored with np.save(allow_pickle=False). Values are encoded as JSON with
markers for what JSON cannot hold: {"$array": i}, {"$scalar": i} (a numpy scalar, stored as
a 0-d array), {"$tuple": [...]}, {"$dict": [[key, value], ...]} (a dict with str keys, e.g. a
network's parameters {"conv1.w": array, ...}), {"$probe": name, "args": [...]} (a test
function the worker rebuilds from probes.py) and {"$opaque": "type: repr"} for anything else a
student returns (a generator, a dict with a non-str key, an object array, ...).

Values nest (lists, tuples and dicts of arrays and scalars) up to MAX_DEPTH levels. decode
checks everything that comes back: each array reference names an array of the frame, a
scalar is 0-d, dict keys are unique strings; anything else is a ProtocolError, never an
exception of another kind, whatever the worker sends.

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
MAX_DEPTH = 32


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


def encode(value, arrays, depth=0):
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
    if isinstance(value, (tuple, list, dict, Probe)) and depth >= MAX_DEPTH:
        return {"$opaque": f"{type(value).__name__}: nested more than {MAX_DEPTH} levels deep"}
    if isinstance(value, tuple):
        return {"$tuple": [encode(v, arrays, depth + 1) for v in value]}
    if isinstance(value, list):
        return [encode(v, arrays, depth + 1) for v in value]
    if isinstance(value, dict):
        bad = next((k for k in value if not isinstance(k, str)), None)
        if bad is not None:
            return {"$opaque": f"dict: a dict with the key {bad!r:.60} ({type(bad).__name__}), keys must be str"}
        return {"$dict": [[k, encode(v, arrays, depth + 1)] for k, v in value.items()]}
    if isinstance(value, Probe):
        return {"$probe": value.name, "args": [encode(v, arrays, depth + 1) for v in value.args]}
    text = repr(value) if not isinstance(value, np.ndarray) else f"array of dtype {value.dtype}"
    return {"$opaque": f"{type(value).__name__}: {text[:200]}"}


class Opaque:
    """Stands for a returned object the protocol does not carry (a generator, a dict, ...)."""

    def __init__(self, description):
        self.description = description

    def __repr__(self):
        return self.description


def _array(arrays, index):
    if isinstance(index, bool) or not isinstance(index, int) or not 0 <= index < len(arrays):
        raise ProtocolError(f"array reference {index!r:.40} does not name one of the frame's {len(arrays)} arrays")
    return arrays[index]


def _dict(pairs, arrays, depth):
    if not isinstance(pairs, list) or not all(isinstance(p, list) and len(p) == 2 for p in pairs):
        raise ProtocolError("a dict must be a list of [key, value] pairs")
    result = {}
    for key, value in pairs:
        if not isinstance(key, str):
            raise ProtocolError(f"dict key {key!r:.60} is not a string")
        if key in result:
            raise ProtocolError(f"dict key {key!r:.60} appears twice")
        result[key] = decode(value, arrays, depth + 1)
    return result


def decode(tree, arrays, depth=0):
    """Inverse of encode. Raises ProtocolError on anything malformed."""
    if tree is None or isinstance(tree, (bool, str, int, float)):
        return tree
    if depth > MAX_DEPTH:
        raise ProtocolError(f"value nested more than {MAX_DEPTH} levels deep")
    if isinstance(tree, list):
        return [decode(v, arrays, depth + 1) for v in tree]
    if isinstance(tree, dict) and len(tree) >= 1:
        if "$array" in tree:
            return _array(arrays, tree["$array"])
        if "$scalar" in tree:
            scalar = _array(arrays, tree["$scalar"])
            if scalar.ndim != 0:
                raise ProtocolError(f"scalar reference names an array of shape {scalar.shape}")
            return scalar[()]
        if "$tuple" in tree and isinstance(tree["$tuple"], list):
            return tuple(decode(v, arrays, depth + 1) for v in tree["$tuple"])
        if "$dict" in tree:
            return _dict(tree["$dict"], arrays, depth)
        if "$probe" in tree and isinstance(tree.get("args"), list):
            return Probe(str(tree["$probe"]), [decode(v, arrays, depth + 1) for v in tree["args"]])
        if "$opaque" in tree:
            return Opaque(str(tree["$opaque"]))
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


def write_frame(fd, message, arrays=(), deadline=None):
    """Write one frame. With a deadline (time.monotonic() value), fd must be non-blocking: a
    reader that stops reading makes this raise Timeout at the deadline instead of blocking the
    writer forever (the grader's side; the worker writes without one)."""
    data = memoryview(dumps(message, list(arrays)))
    while data:
        if deadline is not None:
            left = deadline - time.monotonic()
            if left <= 0 or not select.select([], [fd], [], left)[1]:
                raise Timeout(f"the other side stopped reading ({len(data)} bytes left to write)")
        try:
            written = os.write(fd, data)
        except BlockingIOError:
            continue
        except BrokenPipeError:
            raise Closed("the worker closed the connection") from None
        data = data[written:]


def _read_exact(fd, n, deadline):
    chunks, remaining = [], n
    while remaining:
        if deadline is not None:
            left = deadline - time.monotonic()
            if left <= 0 or not select.select([fd], [], [], left)[0]:
                raise Timeout(f"no answer within the time limit ({n - remaining} of {n} bytes read)")
        try:
            chunk = os.read(fd, min(remaining, 1 << 20))
        except BlockingIOError:
            continue
        if not chunk:
            raise Closed("the worker closed the connection")
        chunks.append(chunk)
        remaining -= len(chunk)
    return b"".join(chunks)


def read_frame(fd, deadline=None, max_bytes=MAX_ARRAY_BYTES):
    """Read one frame: (message dict, list of arrays). deadline: time.monotonic() value or None;
    max_bytes: the most array data the frame may announce."""
    (size,) = struct.unpack("!I", _read_exact(fd, 4, deadline))
    if size > MAX_HEADER_BYTES:
        raise ProtocolError(f"frame header of {size} bytes is larger than allowed")
    try:
        header = json.loads(_read_exact(fd, size, deadline).decode())
        message, sizes = header["message"], [int(s) for s in header["sizes"]]
    except (ValueError, KeyError, TypeError, UnicodeDecodeError, RecursionError) as error:
        raise ProtocolError(f"frame header is not valid: {type(error).__name__}: {error}"[:300]) from None
    if not isinstance(message, dict) or any(s < 0 for s in sizes):
        raise ProtocolError("frame header announces invalid content")
    if sum(sizes) > max_bytes:
        raise ProtocolError(f"the frame carries {sum(sizes) / 2**20:.0f} MiB of arrays, more than the "
                       f"{max_bytes / 2**20:.0f} MiB allowed")
    return message, [_load_array(_read_exact(fd, s, deadline)) for s in sizes]


def _load_array(payload):
    """The array of one .npy payload. Its header is read first: an array of objects, or one
    announcing more data than the payload holds, is refused before numpy allocates anything."""
    buffer = io.BytesIO(payload)
    readers = {(1, 0): np.lib.format.read_array_header_1_0, (2, 0): np.lib.format.read_array_header_2_0}
    try:
        version = np.lib.format.read_magic(buffer)
        if version not in readers:
            raise ValueError(f".npy version {version} is not one np.save writes for numbers")
        shape, _, dtype = readers[version](buffer)
        if dtype.hasobject or dtype.kind not in "biufc":
            raise ValueError(f"arrays of dtype {dtype} are not carried")
        announced = int(np.prod(shape, dtype=object)) * dtype.itemsize
        if announced > len(payload):
            raise ValueError(f"it announces {announced} bytes of data but carries {len(payload)}")
        buffer.seek(0)
        return np.load(buffer, allow_pickle=False)
    except (ValueError, OSError, EOFError, MemoryError, OverflowError, TypeError) as error:
        raise ProtocolError(f"array payload is not a valid .npy: {error}"[:300]) from None
