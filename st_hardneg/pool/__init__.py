"""Candidate pools: teachers' ranked candidates for every anchor, built once and selected from many times.

The pool itself is a store (:mod:`.store`: candidates, scores, judgments, fingerprints; :mod:`.storage`: save and
load); :class:`CandidatePool` (:mod:`st_hardneg.candidate_pool`) adds building, selecting and the Hub to it.
Names load on first use.
"""

from st_hardneg.exports import lazy_exports

__all__, __getattr__, __dir__ = lazy_exports(
    __name__,
    {
        "CandidatePool": "st_hardneg.candidate_pool",
        "Selection": "st_hardneg.select.selector",
        "PoolStore": "st_hardneg.pool.store",
        "TeacherCandidates": "st_hardneg.pool.candidates",
        "CandidateExtension": "st_hardneg.pool.candidates",
        "PoolStatistics": "st_hardneg.pool.statistics",
        "ScoreSummary": "st_hardneg.pool.statistics",
        "SelectionStatistics": "st_hardneg.pool.statistics",
        "TeacherStatistics": "st_hardneg.pool.statistics",
    },
)
