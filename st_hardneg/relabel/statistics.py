"""What a relabeling run asked and decided, as data (:class:`RelabelStatistics`)."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

__all__ = ["RelabelStatistics", "RequestCounts"]


@dataclass
class RequestCounts:
    """Questions of one stage.

    Attributes:
        total: questions the run needed.
        cached: answered from the judgment cache (asked by an earlier run).
        asked: sent to the judge by this run.
        failed: failed after the judge's retries (not cached: a later run asks them again).
        unparseable: replies that could not be read (cached: the model did reply).
    """

    total: int = 0
    cached: int = 0
    asked: int = 0
    failed: int = 0
    unparseable: int = 0


@dataclass
class RelabelStatistics:
    """Counts of an ARHN run.

    Attributes:
        mode: the mode the run was made with.
        anchors: anchors judged.
        candidates: (anchor, candidate) pairs judged (each anchor's top ``candidates``).
        answers / rankings: stage-1 and stage-2 questions (:class:`RequestCounts`).
        relabeled / filtered / unparseable / failed: candidates per outcome under ``mode``; ``unparseable`` and
            ``failed`` candidates are left as they were (negatives).
        by_mode: the same four counts (and ``negative``) under every mode the judgments allow (all three when
            stage 1 was asked, ``relabel`` only otherwise), for comparing ARHN's configurations.
    """

    mode: str = "both"
    anchors: int = 0
    candidates: int = 0
    answers: RequestCounts = field(default_factory=RequestCounts)
    rankings: RequestCounts = field(default_factory=RequestCounts)
    relabeled: int = 0
    filtered: int = 0
    unparseable: int = 0
    failed: int = 0
    by_mode: dict[str, dict[str, int]] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> RelabelStatistics:
        d = dict(d)
        d["answers"] = RequestCounts(**d.get("answers", {}))
        d["rankings"] = RequestCounts(**d.get("rankings", {}))
        return cls(**d)
