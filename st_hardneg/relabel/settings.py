"""Settings of LLM relabeling: :class:`ARHNSettings` (the method) and one settings class per judge.

Prompts are :class:`~st_hardneg.relabel.prompts.Prompts`. Like every settings class of st-hardneg these are frozen,
validated on creation, and generate the options of ``st-hardneg relabel``.
"""

from __future__ import annotations

from dataclasses import dataclass

from st_hardneg.settings.base import DEFAULT_SEED, Settings, check_choice, check_float, check_int, option

__all__ = [
    "ARHN_MODES",
    "ARHNSettings",
    "ChatSettings",
    "CrossEncoderJudgeSettings",
    "OpenAIJudgeSettings",
    "TransformersJudgeSettings",
]

#: ARHN's three configurations (the first abstract of the seed 003): relabeling only, filtering only, both.
ARHN_MODES: tuple[str, ...] = ("relabel", "filter", "both")


@dataclass(frozen=True)
class ARHNSettings(Settings):
    """How :class:`~st_hardneg.relabel.ARHN` judges a pool's candidates.

    Examples:
        >>> ARHNSettings(mode="filter", candidates=10).mode
        'filter'
        >>> ARHNSettings(mode="relable")  # doctest: +ELLIPSIS
        Traceback (most recent call last):
        ...
        ValueError: mode must be one of 'relabel', 'filter', 'both'; got 'relable' (did you mean 'relabel'?)
    """

    mode: str = option(
        "both",
        "relabel (candidates ranked above the positive become positives), filter (candidates ranked below it that "
        "the judge answers from leave the negatives), or both (the paper's best)",
        choices=ARHN_MODES,
    )
    candidates: int = option(20, "the top this-many candidates of each anchor are judged (the teacher's ranking)")
    teacher: str | None = option(None, "teacher of a multi-teacher pool whose candidates are judged", metavar="NAME")
    seed: int = option(
        DEFAULT_SEED, "places the anchor's positives among its candidates in the ranking prompt (keyed by anchor)"
    )
    cache_folder: str | None = option(
        None,
        "judgment cache (keyed by judge, prompts and texts; a stopped run resumes from it); default "
        "$ST_HARDNEG_CACHE/judgments or ~/.cache/st-hardneg/judgments",
        metavar="DIR",
    )
    chunk_size: int = option(
        256,
        "questions handed to the judge between two cache writes (a kill loses at most these; keep it above the "
        "judge's concurrency, which it caps)",
    )

    stop_after_failed_chunks: int | None = option(
        3,
        "stop (replies so far cached) when the judge fails every question of this many chunks in a row, e.g. a "
        "server that is down; None: never stop, count them as failed",
    )

    def __post_init__(self) -> None:
        check_choice("mode", self.mode, ARHN_MODES)
        check_int("candidates", self.candidates, minimum=1)
        if self.teacher is not None and not isinstance(self.teacher, str):
            raise TypeError(f"teacher must be a teacher's name, got {self.teacher!r}")
        check_int("seed", self.seed, minimum=0)
        check_int("chunk_size", self.chunk_size, minimum=1)
        check_int("stop_after_failed_chunks", self.stop_after_failed_chunks, minimum=1, optional=True)
        if self.cache_folder is not None:
            object.__setattr__(self, "cache_folder", str(self.cache_folder))

    @property
    def asks_answers(self) -> bool:
        """Stage 1 (answer snippets) is needed to filter; relabeling alone needs only the ranking."""
        return self.mode in ("filter", "both")


@dataclass(frozen=True)
class ChatSettings(Settings):
    """Generation settings shared by the LLM judges.

    Used by :class:`~st_hardneg.relabel.TransformersJudge` and :class:`~st_hardneg.relabel.OpenAIJudge`.
    """

    temperature: float = option(0.0, "sampling temperature (0: greedy, the same reply every time)")
    max_tokens: int = option(256, "longest reply, in tokens")
    max_passage_words: int | None = option(
        300, "passages are cut to this many words in the prompts (RankGPT cuts at 300 tokens); None: never cut"
    )

    def __post_init__(self) -> None:
        check_float("temperature", self.temperature, minimum=0)
        check_int("max_tokens", self.max_tokens, minimum=1)
        check_int("max_passage_words", self.max_passage_words, minimum=1, optional=True)


@dataclass(frozen=True)
class OpenAIJudgeSettings(Settings):
    """How :class:`~st_hardneg.relabel.OpenAIJudge` talks to an OpenAI-compatible server (vLLM, TGI, llama.cpp).

    None of these change a reply, so none is part of the judgment cache's key.
    """

    concurrency: int = option(8, "requests in flight at once")
    timeout: float = option(120.0, "seconds before a request is abandoned (then retried)")
    max_retries: int = option(4, "retries of a failed request (timeouts, 429, 5xx), with exponential backoff")

    def __post_init__(self) -> None:
        check_int("concurrency", self.concurrency, minimum=1)
        check_float("timeout", self.timeout, minimum=0, strict_minimum=True)
        check_int("max_retries", self.max_retries, minimum=0)


#: torch dtypes a local judge can load in.
DTYPES: tuple[str, ...] = ("auto", "float32", "bfloat16", "float16")


@dataclass(frozen=True)
class TransformersJudgeSettings(Settings):
    """How :class:`~st_hardneg.relabel.TransformersJudge` runs a local causal LM."""

    batch_size: int = option(8, "prompts generated together (left-padded)", cli_name="judge-batch-size")
    device: str | None = option(None, "torch device; default cuda when available, else cpu", cli_name="judge-device")
    dtype: str = option("auto", "dtype the model is loaded in", choices=DTYPES, cli_name="judge-dtype")

    def __post_init__(self) -> None:
        check_int("batch_size", self.batch_size, minimum=1)
        if self.device is not None and not isinstance(self.device, str):
            raise TypeError(f"device must be a string such as 'cuda:0', got {self.device!r}")
        check_choice("dtype", self.dtype, DTYPES)


#: How a cross-encoder's raw score is turned into the judge's score.
ACTIVATIONS: tuple[str, ...] = ("sigmoid", "none")


@dataclass(frozen=True)
class CrossEncoderJudgeSettings(Settings):
    """How :class:`~st_hardneg.relabel.CrossEncoderJudge` turns cross-encoder scores into ARHN judgments."""

    threshold: float = option(
        0.9, "stage 1: a passage 'answers' when its score is at least this (RocketQA keeps confident ones out)"
    )
    margin: float = option(
        0.05, "stage 2: a candidate scoring within this of the positive (or above it) is ranked above the positive"
    )
    activation: str = option("sigmoid", "score = sigmoid(logit), or the raw logit", choices=ACTIVATIONS)
    batch_size: int = option(32, "pairs scored together", cli_name="cross-encoder-batch-size")

    def __post_init__(self) -> None:
        check_float("threshold", self.threshold)
        check_float("margin", self.margin, minimum=0)
        check_choice("activation", self.activation, ACTIVATIONS)
        check_int("batch_size", self.batch_size, minimum=1)
