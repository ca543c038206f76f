"""Run every benchmark in bench/ and write bench/results/latest.json (figures, not tests)."""

from __future__ import annotations

import json
import os
import platform
import subprocess
import sys
from pathlib import Path

BENCH_DIR = Path(__file__).resolve().parent
BENCHMARKS = ["simulator_roundtrip.py"]


def run(script: str) -> dict[str, object]:
    completed = subprocess.run(
        [sys.executable, str(BENCH_DIR / script)],
        check=True,
        capture_output=True,
        text=True,
    )
    figures: dict[str, object] = json.loads(completed.stdout)
    return figures


def main() -> None:
    results = {
        "machine": {
            "cpus": os.cpu_count(),
            "platform": platform.platform(),
            "python": platform.python_version(),
        },
        "benchmarks": [run(script) for script in BENCHMARKS],
    }
    out = BENCH_DIR / "results" / "latest.json"
    out.write_text(json.dumps(results, indent=2) + "\n")
    print(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
