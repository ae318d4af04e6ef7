"""What every graded thing shares: a target named "topic.name"."""
from __future__ import annotations


class Named:
    """What is graded under a ``target`` that reads "topic.name"."""

    target: str

    @property
    def topic(self) -> str:
        return self.target.partition(".")[0]

    @property
    def function(self) -> str:
        return self.target.partition(".")[2]

    def selected_by(self, only: tuple[str, ...] | list[str]) -> bool:
        """Whether a ``--only`` list (topics or ``topic.name`` targets; empty: all) takes this."""
        return not only or self.target in only or self.topic in only

    def __str__(self) -> str:
        return self.target
