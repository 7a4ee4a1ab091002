"""Teacher ensembles, chosen at selection time: several teachers of one candidate pool combined into one set of
negatives, with no encoding (``pool.select(teacher=["e5", "bm25"], ensemble=...)``).

Strategies (``SelectionSettings.ensemble``), one module each:

- ``"cross_sample"`` (:mod:`~st_hardneg.ensembles.cross_sample`): one teacher drawn per anchor (seeded) gives all
  its negatives (NV-Retriever section 3.4.2, Table 2).
- ``"intra_sample"`` / ``"intra_sample_dedup"`` (:mod:`~st_hardneg.ensembles.intra_sample`): the teachers take
  turns giving their next negative; duplicates kept (the paper's best) or replaced by that teacher's next unique
  negative.
- ``"concat"`` (:mod:`~st_hardneg.ensembles.concat`): the union of the teachers' lists (the ECI paper's hybrid sets).
- ``"rrf"`` and ``"mean_score"`` (:mod:`~st_hardneg.ensembles.rrf`, :mod:`~st_hardneg.ensembles.mean_score`): one
  fused ranking (reciprocal ranks, or mean normalised scores), the method applied to the fused score; an extension
  beyond both papers.

Every strategy builds on the single-teacher selection (:func:`~st_hardneg.pool.selection.pick_negatives`): each
member applies the mining method to its own scores and its sampler with the same keyed draws it makes alone.
Each selected negative records which member(s) chose it (``output_teachers=True``, and
``SelectionStatistics.negatives_per_teacher``). Short rows are filled from the first member's fill reserve under its
bound (cross-sample: the drawn teacher's), so list the teachers best first. The statistics' score distributions
are the first member's scores (the fused score for rrf/mean_score).

Also :func:`~st_hardneg.ensembles.agreement.teacher_agreement` (``pool.agreement(k=...)``), the Jaccard similarity
of the teachers' top negatives, NV-Retriever Appendix A.
"""

from __future__ import annotations

from collections.abc import Callable

from st_hardneg.ensembles.agreement import TeacherAgreement, teacher_agreement
from st_hardneg.ensembles.base import EnsembleInput
from st_hardneg.ensembles.concat import concat
from st_hardneg.ensembles.cross_sample import cross_sample
from st_hardneg.ensembles.intra_sample import intra_sample, intra_sample_dedup
from st_hardneg.ensembles.mean_score import mean_score
from st_hardneg.ensembles.rrf import rrf
from st_hardneg.settings.selection import ENSEMBLES

__all__ = ["ENSEMBLES", "STRATEGIES", "EnsembleInput", "TeacherAgreement", "select_ensemble", "teacher_agreement"]

#: Strategy name -> function ``(EnsembleInput) -> (Selected, SelectionStatistics)``.
STRATEGIES: dict[str, Callable] = {
    "cross_sample": cross_sample,
    "intra_sample": intra_sample,
    "intra_sample_dedup": intra_sample_dedup,
    "concat": concat,
    "rrf": rrf,
    "mean_score": mean_score,
}
assert tuple(STRATEGIES) == ENSEMBLES


def select_ensemble(inp: EnsembleInput):
    """Run the strategy ``inp.settings.ensemble`` names."""
    return STRATEGIES[inp.settings.ensemble](inp)
