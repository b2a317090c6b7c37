"""Indicators as code: definitions (YAML, validated), the filter language, the built-in
library and the catalogue. The engine that computes them is `carepath.engine`; exports
of their values are `carepath.reports.export`."""
