"""Open research workbench for police data analysts."""

__version__ = "0.1.0"
