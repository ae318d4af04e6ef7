"""Exceptions raised by data_fetch.

Every message says what happened, what was done about it, the likely cause and the next step.
The command line prints them without a traceback and exits with status 1.
"""

from __future__ import annotations

__all__ = ["DataFetchError", "DatasetUnavailable", "UnknownDataset"]


class DataFetchError(Exception):
    """Base class of every error data_fetch raises on purpose."""


class DatasetUnavailable(DataFetchError):
    """A dataset's files are neither in the cache (verified) nor downloadable right now.

    The message names the dataset, the missing files, every URL tried and why it failed, and
    the exact ``data-fetch import NAME DIR`` command that puts hand-downloaded files in place.
    """


class UnknownDataset(DataFetchError, KeyError):
    """The dataset name is not in the catalog; the message lists the known names."""

    def __str__(self) -> str:  # KeyError would quote the message
        return str(self.args[0]) if self.args else ""
