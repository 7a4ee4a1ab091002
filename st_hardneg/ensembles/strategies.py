"""The ensemble strategies by name, and the call that runs the one a selection's settings name."""

from __future__ import annotations

from collections.abc import Callable

from st_hardneg.ensembles.base import EnsembleInput
from st_hardneg.ensembles.concat import concat
from st_hardneg.ensembles.cross_sample import cross_sample
from st_hardneg.ensembles.intra_sample import intra_sample, intra_sample_dedup
from st_hardneg.ensembles.mean_score import mean_score
from st_hardneg.ensembles.rrf import rrf
from st_hardneg.select.settings import ENSEMBLES

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
