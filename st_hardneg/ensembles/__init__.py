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

Every strategy builds on the single-teacher selection (:func:`~st_hardneg.select.negatives.pick_negatives`): each
member applies the mining method to its own scores and its sampler with the same keyed draws it makes alone.
Each selected negative records which member(s) chose it (``output_teachers=True``, and
``SelectionStatistics.negatives_per_teacher``). Short rows are filled from the first member's fill reserve under its
bound (cross-sample: the drawn teacher's), so list the teachers best first. The statistics' score distributions
are the first member's scores (the fused score for rrf/mean_score).

Also :func:`~st_hardneg.ensembles.agreement.teacher_agreement` (``pool.agreement(k=...)``), the Jaccard similarity
of the teachers' top negatives, NV-Retriever Appendix A.
"""

from st_hardneg.exports import lazy_exports

__all__, __getattr__, __dir__ = lazy_exports(
    __name__,
    {
        "ENSEMBLES": "st_hardneg.select.settings",
        "STRATEGIES": "st_hardneg.ensembles.strategies",
        "select_ensemble": "st_hardneg.ensembles.strategies",
        "EnsembleInput": "st_hardneg.ensembles.base",
        "TeacherAgreement": "st_hardneg.ensembles.agreement",
        "teacher_agreement": "st_hardneg.ensembles.agreement",
    },
)
