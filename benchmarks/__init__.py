"""Benchmarks: speed and memory figures with ratios against peers, measured side by side.

Each ``bench_<area>.py`` module exposes ``run(quick: bool = False) -> list[dict]``.
``python -m benchmarks`` runs them all; ``python -m benchmarks stats web`` runs some;
``--quick`` runs the small variants.
"""
