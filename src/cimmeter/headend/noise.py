"""Counter-based random numbers: every draw is a pure function of (seed, stream, keys).

The simulator never draws from a sequential generator on its data path: a value for meter 17
at interval 4,211 is the hash of (seed, stream, 17, 4211). So the same seed gives the same
data whatever the chunking, the time range asked or the order of requests, and meter 17 is the
same meter in a fleet of 100 or of 100,000. The hash is SplitMix64's finaliser, vectorised over
numpy uint64 arrays (wrapping arithmetic is intended).
"""

from __future__ import annotations

import hashlib
from typing import Final

import numpy as np
import numpy.typing as npt

U64 = npt.NDArray[np.uint64]
F64 = npt.NDArray[np.float64]

_MASK: Final = (1 << 64) - 1
_GOLDEN: Final = 0x9E3779B97F4A7C15
_M1: Final = np.uint64(0xBF58476D1CE4E5B9)
_M2: Final = np.uint64(0x94D049BB133111EB)
_K2: Final = 0xD6E8FEB86659FD93
_S30: Final = np.uint64(30)
_S27: Final = np.uint64(27)
_S31: Final = np.uint64(31)


def _mix_int(x: int) -> int:
    """SplitMix64 finaliser on a Python int (scalar keys, no numpy overflow warnings)."""
    x &= _MASK
    x ^= x >> 30
    x = (x * 0xBF58476D1CE4E5B9) & _MASK
    x ^= x >> 27
    x = (x * 0x94D049BB133111EB) & _MASK
    return x ^ (x >> 31)


def mix(x: U64) -> U64:
    """SplitMix64 finaliser on an array (returns a new array)."""
    x = x ^ (x >> _S30)
    x *= _M1
    x ^= x >> _S27
    x *= _M2
    x ^= x >> _S31
    return x


def stream_key(seed: int, stream: str) -> int:
    """A 64-bit key for one named stream of one seed (streams are independent)."""
    digest = hashlib.blake2b(f"{seed}:{stream}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "little")


def hash1(key: int, a: npt.ArrayLike) -> U64:
    """Hash of (key, a) for an integer array `a` (at least 1-d: numpy scalars would warn on the
    intended wrap-around)."""
    arr = np.atleast_1d(np.asarray(a)).astype(np.uint64)
    return mix(arr * np.uint64(_GOLDEN) ^ np.uint64(_mix_int(key)))


def hash2(key: int, a: npt.ArrayLike, b: npt.ArrayLike) -> U64:
    """Hash of (key, a, b), broadcasting `a` against `b` (e.g. meters x intervals)."""
    ha = hash1(key, a)
    bb = np.atleast_1d(np.asarray(b)).astype(np.uint64) * np.uint64(_K2)
    return mix(ha ^ bb)


def to_unit(h: U64) -> F64:
    """Uniform floats in [0, 1) from hashes (53 high bits)."""
    return (h >> np.uint64(11)).astype(np.float64) * (1.0 / (1 << 53))


def to_normal(h: U64) -> F64:
    """Standard normal floats from hashes (Box-Muller on the two 32-bit halves)."""
    hi = (h >> np.uint64(32)).astype(np.float64)
    lo = (h & np.uint64(0xFFFFFFFF)).astype(np.float64)
    u1 = (hi + 0.5) * (1.0 / 4294967296.0)
    u2 = lo * (1.0 / 4294967296.0)
    out: F64 = np.sqrt(-2.0 * np.log(u1)) * np.cos(2.0 * np.pi * u2)
    return out


def uniform(key: int, a: npt.ArrayLike, b: npt.ArrayLike | None = None) -> F64:
    return to_unit(hash1(key, a) if b is None else hash2(key, a, b))


def normal(key: int, a: npt.ArrayLike, b: npt.ArrayLike | None = None) -> F64:
    return to_normal(hash1(key, a) if b is None else hash2(key, a, b))


def uniform_scalar(key: int, *parts: int) -> float:
    """One uniform draw for a tuple of integers (rare, scalar decisions)."""
    x = _mix_int(key)
    for p in parts:
        x = _mix_int(x ^ ((p * _GOLDEN) & _MASK))
    return (x >> 11) * (1.0 / (1 << 53))
