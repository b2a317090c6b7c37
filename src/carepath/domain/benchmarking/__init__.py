"""Benchmarking and peer review (C5): peer groups, opportunity with uncertainty, outliers,
peer-review records. Plain functions over the workspace; pages and packs call them."""
