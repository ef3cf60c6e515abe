"""HyperLogLog over uint64 value hashes, vectorised in numpy, with Ertl's improved estimator.

2**p one-byte registers; a hash's top p bits pick the register, which keeps the largest
``1 + leading zeros`` of the remaining ``q = 64 - p`` bits (``q + 1`` when they are all zero).
Registers merge by element-wise maximum, so the sketch of a union is exact to the bit whatever
the order or split, and the estimate is a function of the registers alone. The estimator is
Ertl's improved raw estimator (2017), unbiased from 0 to far beyond 2**64 / 2**p without
empirical bias tables; relative standard error about ``1.04 / sqrt(2**p)`` (0.81 % at p = 14).

A feed is one ``np.minimum.at`` per batch (the smallest remaining bits per register, whose
rho is the register's largest): ~5 ns per value, where the DataSketches binding takes one
Python call per value.
"""

from __future__ import annotations

import math

import numpy as np

DEFAULT_P = 14
_U64 = np.uint64
_ALL_ONES = _U64(0xFFFFFFFFFFFFFFFF)


def leading_zeros(x: np.ndarray) -> np.ndarray:
    """Leading zero bits of each uint64 (64 for 0), int64: exact, from the float exponents of
    the two 32-bit halves (each exactly representable in float64)."""
    x = np.asarray(x, dtype=_U64)
    out = 32 - _exponent((x >> _U64(32)).astype(np.float64))
    low = np.flatnonzero(out == 32 - _ZERO_EXPONENT)  # high half 0: rare for hashes
    if len(low):
        lo_exp = _exponent((x[low] & _U64(0xFFFFFFFF)).astype(np.float64))
        out[low] = np.where(lo_exp == _ZERO_EXPONENT, 64, 64 - lo_exp)
    return out


_ZERO_EXPONENT = -1022  # what _exponent gives for 0.0


def _exponent(v: np.ndarray) -> np.ndarray:
    """frexp's exponent of float64 values that are 0 or integers >= 1 (int64): read off the
    IEEE bits (biased exponent - 1022), without frexp's mantissa array; -1022 for 0."""
    return (v.view(_U64) >> _U64(52)).astype(np.int64) - 1022


class Hll:
    """A HyperLogLog sketch of 2**p registers (4 <= p <= 18)."""

    def __init__(self, p: int = DEFAULT_P, registers: np.ndarray | None = None) -> None:
        if not 4 <= p <= 18:
            raise ValueError(f"HLL precision p must be in 4..18, got {p}")
        self.p, self.q = p, 64 - p
        if registers is None:
            registers = np.zeros(1 << p, dtype=np.uint8)
        if registers.shape != (1 << p,) or registers.dtype != np.uint8 or (
            registers.size and registers.max() > self.q + 1
        ):
            raise ValueError("HLL registers do not fit the precision")
        self.registers = registers

    def update(self, hashes: np.ndarray) -> None:
        """Add uint64 value hashes (already well mixed)."""
        if not len(hashes):
            return
        h = np.asarray(hashes, dtype=_U64)
        index = (h >> _U64(self.q)).astype(np.intp)
        # rho falls as the remaining bits grow: each register's largest rho is the rho of its
        # smallest remaining bits (never all ones, so all ones marks an untouched register)
        least = np.full(len(self.registers), _ALL_ONES)
        np.minimum.at(least, index, h << _U64(self.p))
        touched = np.flatnonzero(least != _ALL_ONES)
        rho = np.minimum(leading_zeros(least[touched]) + 1, self.q + 1).astype(np.uint8)
        self.registers[touched] = np.maximum(self.registers[touched], rho)

    def merge(self, other: Hll) -> None:
        if other.p != self.p:
            raise ValueError(f"HLL precisions differ: {self.p} vs {other.p}")
        np.maximum(self.registers, other.registers, out=self.registers)

    def estimate(self) -> float:
        """Ertl's improved raw estimate of the number of distinct hashes added."""
        m = 1 << self.p
        counts = np.bincount(self.registers, minlength=self.q + 2).astype(np.float64)
        z = m * _tau(1.0 - counts[self.q + 1] / m)
        for k in range(self.q, 0, -1):
            z = 0.5 * (z + counts[k])
        z += m * _sigma(counts[0] / m)
        return m * m / (2.0 * math.log(2.0)) / z


def _sigma(x: float) -> float:
    if x == 1.0:
        return math.inf
    y, z = 1.0, x
    while True:
        x *= x
        z_old = z
        z += x * y
        y += y
        if z_old == z:
            return z


def _tau(x: float) -> float:
    if x in (0.0, 1.0):
        return 0.0
    y, z = 1.0, 1.0 - x
    while True:
        x = math.sqrt(x)
        z_old = z
        y *= 0.5
        z -= (1.0 - x) ** 2 * y
        if z_old == z:
            return z / 3.0
