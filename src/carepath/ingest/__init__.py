"""Generic loader: readers, validation, quarantine, pseudonymisation, load log.

``load_files(ws, table, paths)`` loads CSV, Parquet or Excel files into one table of the
data model in one transaction; see ``docs/ingest.md``.
"""

from carepath.ingest.loader import LoadResult, load_batches, load_files
from carepath.ingest.mapping import Mapping, load_mapping

__all__ = ["LoadResult", "Mapping", "load_batches", "load_files", "load_mapping"]
