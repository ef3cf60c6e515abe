"""HyperLogLog over uint64 value hashes, vectorised in numpy, with Ertl's improved estimator.

2**p one-byte registers; a hash's top p bits pick the register, which keeps the largest
``1 + leading zeros`` of the remaining ``q = 64 - p`` bits (``q + 1`` when they are all zero).
Registers merge by element-wise maximum, so the sketch of a union is exact to the bit whatever
the order or split, and the estimate is a function of the registers alone. The estimator is
Ertl's improved raw estimator (2017), unbiased from 0 to far beyond 2**64 / 2**p without
empirical bias tables; relative standard error about ``1.04 / sqrt(2**p)`` (0.81 % at p = 14).

A feed is one ``np.maximum.at`` per batch: ~20 ns per value, where the DataSketches binding
takes one Python call per value.
"""

from __future__ import annotations

import math

import numpy as np

DEFAULT_P = 14
_U64 = np.uint64


def leading_zeros(x: np.ndarray) -> np.ndarray:
    """Leading zero bits of each uint64 (64 for 0), int64: exact, from the float exponents of
    the two 32-bit halves (each exactly representable in float64)."""
    x = np.asarray(x, dtype=_U64)
    hi = np.frexp((x >> _U64(32)).astype(np.float64))[1]
    lo = np.frexp((x & _U64(0xFFFFFFFF)).astype(np.float64))[1]
    return np.where(hi > 0, 32 - hi, 64 - lo).astype(np.int64)


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
        index = (h >> _U64(self.q)).astype(np.int64)
        rho = np.minimum(leading_zeros(h << _U64(self.p)) + 1, self.q + 1).astype(np.uint8)
        np.maximum.at(self.registers, index, rho)

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
