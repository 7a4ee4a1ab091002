"""How a cross-encoder teacher rescores a first stage's candidates: :class:`CrossEncoderSettings`."""

from __future__ import annotations

from dataclasses import dataclass

from st_hardneg.settings.base import Settings, check_choice, check_int, option

__all__ = ["ACTIVATIONS", "CrossEncoderSettings"]

#: What a cross-encoder's logit becomes: kept as is, or squashed into (0, 1).
ACTIVATIONS: tuple[str, ...] = ("sigmoid", "raw")


@dataclass(frozen=True)
class CrossEncoderSettings(Settings):
    """Options of :class:`~st_hardneg.teachers.CrossEncoderTeacher`.

    Examples:
        >>> CrossEncoderSettings(depth=200, activation="raw").to_dict()
        {'depth': 200, 'activation': 'raw', 'batch_size': 32}
        >>> CrossEncoderSettings(activation="softmax")  # doctest: +ELLIPSIS
        Traceback (most recent call last):
        ...
        ValueError: activation must be one of 'sigmoid', 'raw'; got 'softmax'
    """

    depth: int | None = option(
        None,
        "first-stage candidates the cross-encoder rescores per anchor; default as many as the pool keeps",
        cli_name="cross-encoder-depth",
    )
    activation: str = option(
        "sigmoid",
        "the cross-encoder's score: its logit squashed into (0, 1) by a sigmoid (fits percentage and absolute "
        "thresholds), or the raw logit",
        choices=ACTIVATIONS,
        cli_name="cross-encoder-activation",
    )
    batch_size: int = option(32, "cross-encoder prediction batch size", cli_name="cross-encoder-batch-size")

    def __post_init__(self) -> None:
        check_int("depth", self.depth, minimum=1, optional=True)
        check_choice("activation", self.activation, ACTIVATIONS)
        check_int("batch_size", self.batch_size, minimum=1)
