"""Run every benchmark in bench/ and write bench/results/latest.json (figures, not tests).

``--quick`` runs each at a small size (a smoke run in a minute or two); without it the
sizes are the issue's (10,000 submissions, 100,000 stored jobs: several minutes).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
from pathlib import Path

BENCH_DIR = Path(__file__).resolve().parent
#: Script → (arguments of the full run, arguments of the quick run); the full sizes are
#: the scripts' defaults (the issue's).
BENCHMARKS: dict[str, tuple[list[str], list[str]]] = {
    "simulator_roundtrip.py": ([], ["--count", "50"]),
    "overhead.py": ([], ["--count", "20"]),
    "back_to_back.py": ([], ["--count", "40"]),
    "submit_throughput.py": ([], ["--count", "1000"]),
    "status_reads.py": ([], ["--seconds", "3"]),
    "large_output.py": ([], ["--size-mb", "64"]),
    "big_store.py": ([], ["--count", "3000"]),
    "profile_gateway.py": (["--py-spy"], ["--count", "100", "--py-spy", "--seconds", "4"]),
}


def run(script: str, arguments: list[str]) -> dict[str, object]:
    print(f"running {script} {' '.join(arguments)}".rstrip(), file=sys.stderr, flush=True)
    completed = subprocess.run(
        [sys.executable, str(BENCH_DIR / script), *arguments],
        check=True,
        capture_output=True,
        text=True,
    )
    figures: dict[str, object] = json.loads(completed.stdout)
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="small sizes, for a smoke run")
    args = parser.parse_args()
    results = {
        "machine": {
            "cpus": os.cpu_count(),
            "platform": platform.platform(),
            "python": platform.python_version(),
        },
        "quick": args.quick,
        "benchmarks": [
            run(script, quick_args if args.quick else full_args)
            for script, (full_args, quick_args) in BENCHMARKS.items()
        ],
    }
    out = BENCH_DIR / "results" / "latest.json"
    out.write_text(json.dumps(results, indent=2) + "\n")
    print(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
