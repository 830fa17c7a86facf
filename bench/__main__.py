"""Run benchmarks: `python -m bench [name ...]`; each `bench/<name>.py` has `main(argv) -> int`.

Every benchmark measures cimmeter and its references (floors, other libraries) in the same run
and prints absolute rates and ratios; none is a timed unit test (DESIGN.md, Conventions).
"""

from __future__ import annotations

import importlib
import pkgutil
import sys
from pathlib import Path


def available() -> list[str]:
    here = Path(__file__).parent
    return sorted(m.name for m in pkgutil.iter_modules([str(here)]) if not m.name.startswith("_"))


def main(argv: list[str]) -> int:
    names = [a for a in argv if not a.startswith("-")]
    options = [a for a in argv if a.startswith("-")]
    if "-h" in options or "--help" in options:
        print("usage: python -m bench [name ...] [--quick]\navailable:", " ".join(available()))
        return 0
    status = 0
    for name in names or available():
        module = importlib.import_module(f"bench.{name}")
        print(f"\n=== bench {name}", flush=True)
        status |= int(module.main(options))
    return status


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
