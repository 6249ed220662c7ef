"""The exceptions the library raises; every message is one line that names the thing."""

from __future__ import annotations


def shown(value: object, limit: int = 80) -> str:
    """Return a value as a message quotes it: its repr, cut short when long."""
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 1] + "…"


class KbError(Exception):
    """Base of every error the library reports to a user."""


class UsageError(KbError):
    """The caller asked for something that cannot be done as asked."""


class NotFoundError(KbError):
    """A named thing (comment, article, tag, index) does not exist."""


class IndexMissingError(NotFoundError):
    """No index has been built yet at the given location."""


class IndexWriteError(KbError):
    """The index folder cannot be written to (read-only, full, no permission)."""


class BusyError(KbError):
    """Another process holds the lock this operation needs."""


class CorpusError(KbError):
    """The corpus has problems; ``problems`` lists each as ``path:line: message``."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = list(problems)
        count = len(self.problems)
        first = self.problems[0] if self.problems else "unknown problem"
        more = f" (and {count - 1} more; run `kb check`)" if count > 1 else ""
        super().__init__(f"{first}{more}")


class ImportFormatError(KbError):
    """An input file for an importer cannot be read as the format it claims."""


class StoreError(KbError):
    """A corpus file cannot be extended safely; nothing was written."""


class EditError(KbError):
    """An edit cannot be made safely; the file was left as it was."""


class CorpusWriteError(KbError):
    """The corpus folder cannot be written to (read-only, missing permissions)."""


class ModelError(KbError):
    """The embedding model cannot be loaded."""


class SyncError(KbError):
    """The site could not be read as a WordPress REST API; the corpus was left as it was."""
