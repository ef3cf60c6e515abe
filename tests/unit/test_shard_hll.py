"""The numpy HyperLogLog behind distinct counts: hand-checked bits, error, and merge."""

from __future__ import annotations

import numpy as np
import pytest

from synthos.io.hashing import mix64
from synthos.profiling.hll import Hll, leading_zeros


def test_leading_zeros_by_hand() -> None:
    # GIVEN values whose bit lengths are known
    values = np.array([0, 1, 2**32 - 1, 2**32, 2**53 + 1, 2**63 - 1, 2**63, 2**64 - 1],
                      dtype=np.uint64)
    # WHEN / THEN leading zeros are 64 - bit length
    assert leading_zeros(values).tolist() == [64, 63, 32, 31, 10, 1, 0, 0]


def test_registers_by_hand() -> None:
    # GIVEN p = 4 (16 registers) and two hand-made hashes for register 3
    h = Hll(4)
    first = np.uint64((3 << 60) | (1 << 57))  # remaining bits 0010...: rho = 3
    second = np.uint64(3 << 60)  # remaining bits all zero: rho = q + 1 = 61
    # WHEN fed one, then both
    h.update(np.array([first], dtype=np.uint64))
    assert h.registers.tolist() == [0, 0, 0, 3] + [0] * 12
    h.update(np.array([second], dtype=np.uint64))
    # THEN the register keeps the maximum
    assert h.registers[3] == 61


@pytest.mark.parametrize("n", [1, 100, 10_000, 300_000])
def test_estimate_is_within_three_standard_errors(n: int) -> None:
    # GIVEN n distinct mixed hashes, each fed twice
    x = mix64(np.arange(n, dtype=np.uint64) + np.uint64(7))
    h = Hll(14)
    h.update(x)
    h.update(x[::-1])
    # WHEN estimated / THEN within 3 x 1.04 / sqrt(2^14) (and exact for tiny n)
    assert abs(h.estimate() - n) <= max(1.0, 3 * 1.04 / 128 * n)


def test_merge_equals_one_sketch_of_the_union() -> None:
    # GIVEN 50,000 hashes split into three overlapping parts
    x = mix64(np.arange(50_000, dtype=np.uint64))
    whole, parts = Hll(12), [Hll(12) for _ in range(3)]
    whole.update(x)
    for part, chunk in zip(parts, (x[:20_000], x[15_000:40_000], x[35_000:]), strict=True):
        part.update(chunk)
    # WHEN the parts merge in any order
    merged = Hll(12)
    for part in (parts[2], parts[0], parts[1]):
        merged.merge(part)
    # THEN the registers (hence the estimate) are those of one sketch of everything
    np.testing.assert_array_equal(merged.registers, whole.registers)
    with pytest.raises(ValueError):
        merged.merge(Hll(13))
