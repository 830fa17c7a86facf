"""cimmeter benchmarks: `./scripts/bench [name ...]` (see bench/__main__.py)."""
