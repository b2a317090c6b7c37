"""The engine: indicator definitions compiled to Ibis, run on DuckDB (default) or Spark.

`compile` turns a definition into aggregate queries; `rollup` turns unit-level counts into
values for every area with statistics and comparisons; `run` is the action that writes
``indicator_values`` with provenance.
"""
