"""How a sweep is scored by training: :class:`TrainingSweepSettings`, the single source of those options."""

from __future__ import annotations

from dataclasses import dataclass

from st_hardneg.settings.base import Settings, check_choice, check_float, check_int, option

__all__ = ["BATCH_SAMPLERS", "TrainingSweepSettings", "parse_seeds"]

#: Batch samplers, named as ``sentence_transformers``' ``BatchSamplers`` values.
BATCH_SAMPLERS: tuple[str, ...] = ("no_duplicates", "batch_sampler")


def parse_seeds(text: str) -> tuple[int, ...]:
    """``"0,1,2"`` -> ``(0, 1, 2)`` (the command line's form of ``seeds``)."""
    try:
        seeds = tuple(int(part) for part in str(text).split(",") if part.strip())
    except ValueError:
        raise ValueError(f"seeds must be whole numbers separated by commas, e.g. 0,1,2; got {text!r}") from None
    if not seeds:
        raise ValueError(f"seeds must name at least one seed, e.g. 0 or 0,1,2; got {text!r}")
    return seeds


@dataclass(frozen=True)
class TrainingSweepSettings(Settings):
    """How ``pool.sweep(..., score="train")`` scores each configuration: fine-tune a fresh copy of the student
    for ``steps`` optimizer steps (MultipleNegativesRankingLoss) on the configuration's set without the held-out
    anchors, then NDCG@10 and MRR@10 of retrieving the held-out anchors' positives from the pool's corpus.

    Examples:
        >>> TrainingSweepSettings(student="all-MiniLM-L6-v2", steps=50, holdout=0.2).seeds
        (0,)
        >>> TrainingSweepSettings(steps=0)
        Traceback (most recent call last):
        ...
        ValueError: steps must be a whole number >= 1, got 0
        >>> TrainingSweepSettings(holdout=1.5)
        Traceback (most recent call last):
        ...
        ValueError: holdout must be a share of the anchors in (0, 1) or a whole number of anchors >= 1, got 1.5
    """

    student: str | None = option(
        None,
        "the SentenceTransformer fine-tuned for each configuration (a name or path; in Python also a loaded model); "
        "needed with --score train",
        metavar="MODEL",
    )
    steps: int = option(100, "optimizer steps of each configuration's short training run")
    holdout: float = option(
        0.2,
        "anchors held out (with all their positives) as the dev set: a share in (0, 1), or a whole number of "
        "anchors; which ones follows the selection seed",
        parse=lambda text: int(text) if text.strip().isdigit() else float(text),
    )
    seeds: tuple[int, ...] = option(
        (0,),
        "training seeds, the same for every configuration; the scores are the mean over them (command line: 0,1,2)",
        parse=parse_seeds,
        cli_name="train-seeds",
        metavar="SEEDS",
    )
    train_batch_size: int = option(32, "training batch size (in-batch negatives of MultipleNegativesRankingLoss)")
    learning_rate: float = option(2e-5, "learning rate of the short training runs")
    warmup_ratio: float = option(0.1, "share of the steps spent warming the learning rate up")
    max_seq_length: int | None = option(
        None, "truncate texts to this many tokens when training and evaluating; default: the student's own"
    )
    batch_sampler: str = option(
        "no_duplicates",
        "batches without repeated texts (no_duplicates: no false in-batch negatives) or plain batches",
        choices=BATCH_SAMPLERS,
    )
    eval_batch_size: int = option(64, "encoding batch size of the held-out evaluation")
    cache_folder: str | None = option(
        None,
        "keep each finished (configuration, seed) score here as JSON, so a stopped sweep resumes",
        cli_name="train-cache",
        metavar="DIR",
    )

    def __post_init__(self) -> None:
        if self.student is not None and not isinstance(self.student, str) and not hasattr(self.student, "encode"):
            raise TypeError(f"student must be a SentenceTransformer or its name or path, got {self.student!r}")
        check_int("steps", self.steps, minimum=1)
        check_holdout(self.holdout)
        if isinstance(self.seeds, int) and not isinstance(self.seeds, bool):
            object.__setattr__(self, "seeds", (self.seeds,))
        if isinstance(self.seeds, (list, tuple)):
            object.__setattr__(self, "seeds", tuple(self.seeds))
        if not isinstance(self.seeds, tuple) or not self.seeds:
            raise ValueError(f"seeds must be one or more whole numbers, got {self.seeds!r}")
        for seed in self.seeds:
            check_int("seeds", seed, minimum=0)
        if len(set(self.seeds)) != len(self.seeds):
            raise ValueError(f"seeds repeat a seed: {self.seeds!r}")
        check_int("train_batch_size", self.train_batch_size, minimum=2)
        check_float("learning_rate", self.learning_rate, minimum=0, strict_minimum=True)
        check_float("warmup_ratio", self.warmup_ratio, minimum=0, maximum=1)
        check_int("max_seq_length", self.max_seq_length, minimum=1, optional=True)
        check_choice("batch_sampler", self.batch_sampler, BATCH_SAMPLERS)
        check_int("eval_batch_size", self.eval_batch_size, minimum=1)
        if self.cache_folder is not None:
            object.__setattr__(self, "cache_folder", str(self.cache_folder))

    def to_dict(self) -> dict:
        values = super().to_dict()
        if values["student"] is not None and not isinstance(values["student"], str):
            values["student"] = type(values["student"]).__name__  # a loaded model: named by cache.student_identity
        return values


def check_holdout(holdout: object) -> None:
    """Raise unless ``holdout`` is a share in (0, 1) or a whole number of anchors >= 1."""
    message = f"holdout must be a share of the anchors in (0, 1) or a whole number of anchors >= 1, got {holdout!r}"
    if isinstance(holdout, bool):
        raise TypeError(message)
    if isinstance(holdout, int):
        if holdout < 1:
            raise ValueError(message)
    elif isinstance(holdout, float):
        if not 0 < holdout < 1:
            raise ValueError(message)
    else:
        raise TypeError(message)
