"""Samplers: picking negatives among a mining method's survivors (top, sampled top-k, top-1 + sampled)."""

from st_hardneg.sampling.samplers import SAMPLINGS, Sampler

__all__ = ["SAMPLINGS", "Sampler"]
