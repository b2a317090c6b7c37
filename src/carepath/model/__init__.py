"""Data model: the tables, columns and code lists of a Carepath workspace."""

from carepath.model.schema import ALL_TABLES, DATA_TABLES, SCHEMA_VERSION, Column, Table, table

__all__ = ["ALL_TABLES", "DATA_TABLES", "SCHEMA_VERSION", "Column", "Table", "table"]
