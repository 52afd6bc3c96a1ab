"""Importing providers' delivery logs: one module per concern, detection included."""

from .run import FileResult, ImportOptions, Rejection, import_files, import_history

__all__ = ["FileResult", "ImportOptions", "Rejection", "import_files", "import_history"]
