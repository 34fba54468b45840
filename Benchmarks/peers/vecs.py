"""TEXMEX .fvecs / .ivecs reading for the peer scripts (per row: int32 dimension, then the values)."""
import numpy as np


def read_vecs(path, dtype):
    raw = np.fromfile(path, dtype=np.int32)
    d = raw[0]
    return np.ascontiguousarray(raw.reshape(-1, d + 1)[:, 1:].view(dtype))
