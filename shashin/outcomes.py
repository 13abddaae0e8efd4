"""What a use case yields for each thing it handles, and the statuses every command counts alike."""

from dataclasses import dataclass

FAILED, SKIPPED, CACHED = "failed", "skipped", "cached"


@dataclass
class Outcome:
    """What happened to one input: its status, and the record made or the message saying why not.

    ``path`` is None for what concerns no one file (the model chosen, a group).
    """

    path: str | None
    status: str
    record: dict | None = None
    message: str | None = None
