"""Datasette plugins shipped with shashin."""
