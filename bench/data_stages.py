"""Throughput of the prepare stage at 10k, 100k and 1M generated records, and how it grows.

    .venv/bin/python -m bench.data_stages                  # 10k, 100k, 1M
    .venv/bin/python -m bench.data_stages --sizes 10000 100000 --workers 1 2

Prints records/s per size and worker count, the time ratio per 10x of data (goal: at most 12x),
and the hardware it ran on. Uses the SmolLM2 tokenizer (via a tiny model: the tokenizer is what
prepare needs), materialised once into a temporary directory.
"""

from __future__ import annotations

import argparse
import itertools
import os
import tempfile
import time
from pathlib import Path

from bench.hardware import describe
from tasks.config.schema import GenerateParams, PrepareParams
from tasks.data.prepare import prepare
from tasks.data.synthesize import write_dataset
from tasks.models.base_model import materialize


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000, 1_000_000])
    parser.add_argument("--workers", type=int, nargs="+", default=[0], help="0: one per core")
    args = parser.parse_args()
    print(f"hardware: {describe()}")
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        materialize("tiny", work / "model")
        results: dict[tuple[int, int], float] = {}
        for n in args.sizes:
            raw = work / f"raw-{n}.jsonl"
            t0 = time.perf_counter()
            write_dataset(GenerateParams(n_records=n), raw)
            gen = time.perf_counter() - t0
            for workers in args.workers:
                params = PrepareParams(workers=workers)
                t0 = time.perf_counter()
                summary = prepare([raw], work / f"out-{n}-{workers}", params, work / "model")
                elapsed = time.perf_counter() - t0
                results[(n, workers)] = elapsed
                print(
                    f"{n:>9,} records  workers={workers or os.cpu_count()}  prepare {elapsed:8.1f} s  "
                    f"{n / elapsed:9,.0f} records/s  kept {summary['rows_kept']:,}  (generate {gen:.1f} s)",
                    flush=True,
                )
        for workers in args.workers:
            sizes = [n for n in args.sizes if (n, workers) in results]
            for small, big in itertools.pairwise(sizes):
                ratio = results[(big, workers)] / results[(small, workers)]
                print(
                    f"workers={workers or os.cpu_count()}: {big // small}x the data took {ratio:.2f}x the time "
                    f"({small:,} -> {big:,})"
                )
        if len(args.workers) > 1:
            base = args.workers[0]
            for n in args.sizes:
                for w in args.workers[1:]:
                    print(
                        f"{n:,} records: workers={w or os.cpu_count()} is "
                        f"{results[(n, base)] / results[(n, w)]:.2f}x workers={base or os.cpu_count()}"
                    )


if __name__ == "__main__":
    main()
