"""Candidate pools: teachers' ranked candidates for every anchor, built once and selected from many times."""

from st_hardneg.pool.building import TeacherCandidates
from st_hardneg.pool.candidate_pool import CandidatePool, Selection
from st_hardneg.pool.statistics import PoolStatistics, ScoreSummary, SelectionStatistics, TeacherStatistics

__all__ = [
    "CandidatePool",
    "PoolStatistics",
    "ScoreSummary",
    "Selection",
    "SelectionStatistics",
    "TeacherCandidates",
    "TeacherStatistics",
]
