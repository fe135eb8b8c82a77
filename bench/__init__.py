"""Benchmarks that print ratios measured side by side: run as modules, e.g. `python -m bench.serve`."""
