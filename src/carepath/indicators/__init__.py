"""Indicators as code: definitions (YAML, validated), the filter language, the built-in
library, the catalogue and exports. The engine that computes them is `carepath.engine`."""
