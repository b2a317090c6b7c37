"""Carepath: outcomes-based commissioning of cancer and end-of-life care.

The package is layered; each layer is a folder and only reaches down:

    model, workspace  ->  ingest, sources, synth  ->  indicators  ->  engine
    ->  stats  ->  domain (benchmarking, contracts, journeys, experience, economics)
    ->  reports, web, cli
"""

__version__ = "0.1.0"

__all__ = ["__version__"]
