"""Writer for Tactus weight files, format version 1 (docs/weight-format.md).

Shared by tools/convert_madmom.py and training/export.py so that there is one Python encoder.
"""
import struct
import zlib

import numpy as np

MAGIC = b"TACTUSNN"
VERSION = 1
LSTM, DENSE = 1, 2
ACTIVATIONS = {"identity": 0, "linear": 0, "sigmoid": 1, "tanh": 2, "relu": 3}


def _u32(v):
    return struct.pack("<I", int(v))


def _f32(a, shape):
    a = np.asarray(a, dtype="<f4")
    if a.shape != tuple(shape):
        raise ValueError("array has shape %s, expected %s" % (a.shape, tuple(shape)))
    return np.ascontiguousarray(a).tobytes()


def lstm_layer(gates, init, cell_init, activation="tanh"):
    """gates: list of 4 dicts (input, forget, cell, output) with 'weights' (in x units), 'bias',
    'recurrent' (units x units) and 'peephole' (units, or None for the cell)."""
    inputs, units = np.asarray(gates[0]["weights"]).shape
    peep = gates[0].get("peephole") is not None
    out = [_u32(LSTM), _u32(inputs), _u32(units), _u32(ACTIVATIONS[activation]), _u32(1 if peep else 0)]
    for g, gate in enumerate(gates):
        out.append(_f32(gate["weights"], (inputs, units)))
        out.append(_f32(gate["bias"], (units,)))
        out.append(_f32(gate["recurrent"], (units, units)))
        if peep and g != 2:
            out.append(_f32(gate["peephole"], (units,)))
    out.append(_f32(init, (units,)))
    out.append(_f32(cell_init, (units,)))
    return b"".join(out)


def dense_layer(weights, bias, activation):
    inputs, units = np.asarray(weights).shape
    return b"".join([_u32(DENSE), _u32(inputs), _u32(units), _u32(ACTIVATIONS[activation]), _u32(0),
                     _f32(weights, (inputs, units)), _f32(bias, (units,))])


def encode(networks, metadata):
    """networks: list of lists of encoded layers; metadata: dict of str -> str."""
    meta = "".join("%s=%s\n" % (k, metadata[k]) for k in sorted(metadata)).encode("utf-8")
    body = [MAGIC, _u32(VERSION), _u32(len(meta)), meta, _u32(len(networks))]
    for layers in networks:
        body.append(_u32(len(layers)))
        body.extend(layers)
    data = b"".join(body)
    return data + _u32(zlib.crc32(data) & 0xFFFFFFFF)


def read_metadata(data):
    """The metadata (dict of str -> str) of an encoded weight file, without decoding the layers."""
    n = len(MAGIC)
    if data[:n] != MAGIC:
        raise ValueError("not a Tactus weight file")
    size = struct.unpack("<I", data[n + 4:n + 8])[0]
    text = data[n + 8:n + 8 + size].decode("utf-8")
    return dict(line.split("=", 1) for line in text.splitlines() if "=" in line)


def with_metadata(data, updates):
    """The weight file DATA with its metadata updated by UPDATES (str -> str; None removes a
    key), checksum recomputed; the networks are untouched."""
    meta = read_metadata(data)
    size = struct.unpack("<I", data[12:16])[0]
    for k, v in updates.items():
        if v is None:
            meta.pop(k, None)
        else:
            meta[k] = v
    text = "".join("%s=%s\n" % (k, meta[k]) for k in sorted(meta)).encode("utf-8")
    body = data[:12] + _u32(len(text)) + text + data[16 + size:-4]
    return body + _u32(zlib.crc32(body) & 0xFFFFFFFF)
