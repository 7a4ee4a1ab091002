"""st-hardneg: hard negatives for sentence-transformers, mined with NV-Retriever's positive-aware methods.

Importing the package is cheap: the public names below load their modules on first use.

Examples:
    >>> import st_hardneg
    >>> st_hardneg.TopKPercPos()
    TopKPercPos(percentage=0.95)
"""

from st_hardneg.exports import lazy_exports
from st_hardneg.version import __version__ as __version__

__all__, __getattr__, __dir__ = lazy_exports(
    __name__,
    {
        "mine_hard_negatives": "st_hardneg.mine",
        "HardNegativeMiner": "st_hardneg.miner",
        "CandidatePool": "st_hardneg.candidate_pool",
        "Selection": "st_hardneg.select.selector",
        "load_mining_config": "st_hardneg.reproduce",
        "MiningMethod": "st_hardneg.filters.methods",
        "NaiveTopK": "st_hardneg.filters.methods",
        "TopKShifted": "st_hardneg.filters.methods",
        "TopKAbs": "st_hardneg.filters.methods",
        "TopKMarginPos": "st_hardneg.filters.methods",
        "TopKPercPos": "st_hardneg.filters.methods",
        "Auto": "st_hardneg.filters.methods",
        "get_method": "st_hardneg.filters.methods",
        "Sampler": "st_hardneg.sampling.samplers",
        "DenseTeacher": "st_hardneg.teachers.dense",
        "BM25Teacher": "st_hardneg.teachers.bm25",
        "CrossEncoderTeacher": "st_hardneg.teachers.cross_encoder",
        "RandomTeacher": "st_hardneg.teachers.random",
        "Teacher": "st_hardneg.teachers.base",
    },
    extra=("__version__",),
)
