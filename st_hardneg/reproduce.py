"""Mining a recorded set again: :class:`MiningConfig` is a :class:`~st_hardneg.hub.config.MiningRecord` (what
``mining_config.json`` holds) that can also rebuild its teacher, check the inputs' fingerprints and mine the same rows;
:func:`load_mining_config` reads one from a saved folder, a file or a Hub dataset repository.

Examples:
    >>> from st_hardneg import CandidatePool
    >>> from st_hardneg.data import load_default
    >>> pairs, corpus = load_default()
    >>> pool = CandidatePool.build(pairs, "bm25", corpus=corpus, depth=20, seed=1, show_progress=False)
    >>> selection = pool.select("topk-marginpos:0.1", num_negatives=2, seed=1, show_progress=False,
    ...                         return_statistics=True)
    >>> config = MiningConfig.from_selection(selection, source="st-hardneg embedded default")
    >>> config = MiningConfig.from_dict(config.to_dict())   # what mining_config.json holds
    >>> config.mine(pairs, corpus=corpus, show_progress=False).to_list() == selection.dataset.to_list()
    True
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from st_hardneg.candidate_pool import CandidatePool
from st_hardneg.hub.config import MiningRecord, read_mining_config
from st_hardneg.pool.inputs import check_fingerprints
from st_hardneg.relabel.arhn import ARHN
from st_hardneg.relabel.settings import ARHNSettings
from st_hardneg.teachers.rebuild import teacher_from_config

__all__ = ["MiningConfig", "load_mining_config"]


class MiningConfig(MiningRecord):
    """How one mined set was made (:class:`~st_hardneg.hub.config.MiningRecord`), and the calls that make it again."""

    def make_teacher(self) -> Any:
        """The teacher, rebuilt from its configuration (a model name loads on first use).

        Raises:
            ValueError: the teacher cannot be rebuilt from what was recorded (a local model, a custom stemmer or
                teacher type): pass your own to :meth:`mine`.
        """
        return teacher_from_config(self.teacher)

    def check_inputs(self, pairs: Any, corpus: Any = None) -> None:
        """Raise ``ValueError`` unless ``pairs`` and ``corpus`` are the ones the set was mined from (fingerprints)."""
        recorded = {
            "settings": self.pool_settings.to_dict(),
            "dataset_fingerprint": self.dataset_fingerprint,
            "corpus_fingerprint": self.corpus_fingerprint,
            "corpus_given": self.corpus_given,
        }
        check_fingerprints(recorded, pairs, corpus, made=("the set", "mined"), corpus_required=True)

    def mine(
        self,
        pairs: Any,
        corpus: Any = None,
        *,
        teacher: Any = None,
        judge: Any = None,
        show_progress: bool = True,
        check: bool = True,
        return_statistics: bool = False,
    ) -> Any:
        """Mine the set again: build the pool with the recorded settings and select with the recorded settings.

        Args:
            pairs / corpus: the data the set was mined from (checked against the fingerprints first).
            teacher: a teacher to use instead of the recorded one (needed for a local model).
            judge: for a relabeled set, the judge to relabel the new pool with (the recorded ARHN settings apply);
                required then, since a judge's model cannot be rebuilt from its record.
            show_progress: tqdm bars.
            check: check the fingerprints before any model loads.
            return_statistics: return a :class:`~st_hardneg.select.selector.Selection` (dataset, statistics,
                settings, context) instead of the dataset, as :func:`~st_hardneg.mine_hard_negatives` does.

        Returns:
            A :class:`datasets.Dataset` with the rows of the pushed set, or a
            :class:`~st_hardneg.select.selector.Selection` with ``return_statistics=True``.
        """
        if self.relabel is not None and judge is None:
            j = self.relabel.get("judge", {})
            raise ValueError(
                f"this set was selected from a pool relabeled by ARHN (judge {j.get('type')} {j.get('model')!r}, "
                f"mode {self.relabel.get('mode')!r}); pass judge=... to mine it again"
            )
        if check:
            self.check_inputs(pairs, corpus)
        teacher = teacher if teacher is not None else self.make_teacher()
        pool = CandidatePool.build(
            pairs, teacher, corpus=corpus, settings=self.pool_settings, show_progress=show_progress
        )
        pool.config["source"] = self.source.to_dict()
        if self.relabel is not None:
            pool.relabel(ARHN(judge, ARHNSettings.from_dict(self.relabel["settings"])), show_progress=show_progress)
        # A single-teacher pool has this one teacher, whatever its name: the recorded teacher key is not needed to
        # select. An ensemble names its members, which the rebuilt teachers carry.
        settings = self.selection_settings
        if settings.ensemble is None:
            settings = settings.replace(teacher=None)
        return pool.select(settings, show_progress=show_progress, return_statistics=return_statistics)


def load_mining_config(
    path_or_repo: str | Path,
    config_name: str | None = None,
    split: str | None = None,
    *,
    revision: str | None = None,
    token: str | None = None,
    api: Any = None,
) -> MiningConfig:
    """The :class:`MiningConfig` of one configuration and split of a saved or pushed set
    (:func:`~st_hardneg.hub.config.read_mining_config`: a folder, a ``mining_config.json`` file or a Hub dataset
    repository; ``config_name`` / ``split`` may be left out when there is only one)."""
    return read_mining_config(
        path_or_repo, config_name, split, revision=revision, token=token, api=api, cls=MiningConfig
    )
