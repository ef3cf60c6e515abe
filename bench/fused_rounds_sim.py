"""How often the fused k-NN kernel's selection leaves its fast path: a CPU simulation.

    python bench/fused_rounds_sim.py            # m = 1,000,000 base points, d = 64, normal data

For one block of ``BLOCK_M`` query rows, walk the base in tiles of ``BLOCK_N`` exactly as
``synthos.backends.fused.kernel`` does, and count the tiles where some row could improve its
running top-K (the kernel then runs extraction rounds) and the rounds themselves (the most
insertions any row of the block makes in the tile, plus the final round that finds nothing).
The cost model's CUDA-core ops per pair are 2 on every tile plus about 5 per round.
"""

from __future__ import annotations

import argparse

import numpy as np


def simulate(base: np.ndarray, query: np.ndarray, block_n: int, k_slots: int
             ) -> tuple[int, int, int]:
    """(tiles, tiles that run extraction, rounds) for one block of query rows."""
    norms = np.einsum("ij,ij->i", base, base)
    s = norms[None, :] - 2.0 * (query @ base.T)
    best = np.full((query.shape[0], k_slots), np.inf)
    tiles = extracting = rounds = 0
    for c0 in range(0, base.shape[0], block_n):
        tiles += 1
        tile = s[:, c0 : c0 + block_n]
        if not (tile.min(axis=1) < best.max(axis=1)).any():
            continue
        extracting += 1
        kept = np.partition(np.hstack([best, tile]), k_slots - 1, axis=1)[:, :k_slots]
        inserted = np.minimum((tile <= kept.max(axis=1)[:, None]).sum(axis=1), k_slots)
        rounds += int(inserted.max()) + 1
        best = kept
    return tiles, extracting, rounds


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n")[0])
    parser.add_argument("--m", type=int, default=1_000_000)
    parser.add_argument("--d", type=int, default=64)
    args = parser.parse_args()
    rng = np.random.default_rng(0)
    base = rng.normal(size=(args.m, args.d)).astype(np.float32)
    print("| BLOCK_M | BLOCK_N | K | tiles extracting | rounds per tile | ops per pair |")
    print("| ---: | ---: | ---: | ---: | ---: | ---: |")
    for block_m, block_n, k_slots in ((128, 64, 16), (64, 64, 16), (128, 128, 16),
                                      (64, 128, 16), (256, 64, 16), (128, 64, 8)):
        query = rng.normal(size=(block_m, args.d)).astype(np.float32)
        tiles, extracting, rounds = simulate(base, query, block_n, k_slots)
        print(f"| {block_m} | {block_n} | {k_slots} | {extracting / tiles:.1%} | "
              f"{rounds / tiles:.2f} | {2 + 5 * rounds / tiles:.1f} |")


if __name__ == "__main__":
    main()
