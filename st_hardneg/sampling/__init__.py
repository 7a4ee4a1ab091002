"""Samplers: picking negatives among a mining method's survivors (top, sampled top-k, top-1 + sampled)."""

from st_hardneg.exports import lazy_exports

__all__, __getattr__, __dir__ = lazy_exports(
    __name__,
    {
        "SAMPLINGS": "st_hardneg.sampling.samplers",
        "Sampler": "st_hardneg.sampling.samplers",
    },
)
