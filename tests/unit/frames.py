"""Small hand-made frames for signal tests (no file IO)."""

from __future__ import annotations

import numpy as np

from synthos.frame import Frame


def numeric_frame(
    x: np.ndarray, names: tuple[str, ...] | None = None, row_hash: np.ndarray | None = None
) -> Frame:
    x = np.asarray(x, dtype=float).reshape(len(x), -1)
    names = names or tuple(f"x{j}" for j in range(x.shape[1]))
    if row_hash is None:
        row_hash = np.arange(x.shape[0], dtype=np.uint64)
    return Frame(x, names, np.zeros((x.shape[0], 0), np.int64), (), (), {}, row_hash)


def categorical_frame(codes: np.ndarray, vocab: tuple[str, ...]) -> Frame:
    codes = np.asarray(codes, dtype=np.int64).reshape(len(codes), -1)
    return Frame(
        np.zeros((codes.shape[0], 0)),
        (),
        codes,
        tuple(f"c{j}" for j in range(codes.shape[1])),
        (vocab,) * codes.shape[1],
        {},
        np.arange(codes.shape[0], dtype=np.uint64),
    )
