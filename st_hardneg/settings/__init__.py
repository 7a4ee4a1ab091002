"""Settings: one frozen, validated dataclass per configurable part, the single source of every default.

Each settings class lives beside what it configures (``teachers/settings.py``, ``pool/settings.py``,
``select/settings.py``, ``engines/settings.py``, ``eci/settings.py``, ``sweep_training/settings.py``,
``relabel/settings.py``, ``hub/settings.py``); this package holds what they share (:mod:`.base`: the ``Settings``
base class, ``option``, the checks) and names every one of them.

- :class:`PoolSettings`: how a candidate pool is built (depth, fill reserve, seed, columns).
- :class:`SelectionSettings`: how negatives are selected from it (method, sampler, format, short rows, seed).
- :class:`DenseSettings`: how a dense teacher encodes and searches (prompts, batch size, backend, cache).
- :class:`CrossEncoderSettings`: how a cross-encoder teacher rescores its first stage (depth, activation).
- :class:`EngineSettings`: where a pool is built (this process or Ray) and the work folder that makes it resumable.
- :class:`TrainingSweepSettings`: how ``pool.sweep(..., score="train")`` trains and scores a student per set.
- :class:`ECISettings`: how ECI is computed; :class:`ARHNSettings`: how ARHN relabels; :class:`CardSettings`: what
  a dataset card shows.

The public functions take these fields as keyword arguments, or a settings object, or both (keywords override);
the ``st-hardneg`` command's options are generated from the same fields. Names load on first use.
"""

from st_hardneg.exports import lazy_exports

__all__, __getattr__, __dir__ = lazy_exports(
    __name__,
    {
        "Settings": "st_hardneg.settings.base",
        "option": "st_hardneg.settings.base",
        "CrossEncoderSettings": "st_hardneg.teachers.settings",
        "DenseSettings": "st_hardneg.teachers.settings",
        "EngineSettings": "st_hardneg.engines.settings",
        "PoolSettings": "st_hardneg.pool.settings",
        "SelectionSettings": "st_hardneg.select.settings",
        "ECISettings": "st_hardneg.eci.settings",
        "TrainingSweepSettings": "st_hardneg.sweep_training.settings",
        "ARHNSettings": "st_hardneg.relabel.settings",
        "CardSettings": "st_hardneg.hub.settings",
    },
)
