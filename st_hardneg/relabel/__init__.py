"""False negatives: relabeling and filtering a pool's hard negatives with a judge (ARHN, the first abstract of the
seed 003), with pluggable judges.

- :class:`ARHN` (``arhn.py``): the method; ``pool.relabel(ARHN(judge, mode="both", candidates=20))``.
- Judges (``judges/``): the :class:`Judge` contract (stage 1 ``answer``, stage 2 ``rank``, both batched),
  :class:`TransformersJudge` (a local causal LM), :class:`OpenAIJudge` (any OpenAI-compatible server, e.g. vLLM),
  :class:`CrossEncoderJudge` (a cross-encoder, no LLM).
- :class:`Prompts` (``prompts.py``): replaceable templates; ``parsing.py`` reads the replies.
- :class:`JudgmentCache` (``cache.py``): replies on disk, so a stopped run resumes without asking again.
- :class:`Judgments` (``judgments.py``): the outcome as data, kept and saved with the pool and used by selection.

Names load on first use.
"""

from st_hardneg.exports import lazy_exports

__all__, __getattr__, __dir__ = lazy_exports(
    __name__,
    {
        "ARHN": "st_hardneg.relabel.arhn",
        "ARHNSettings": "st_hardneg.relabel.settings",
        "ChatSettings": "st_hardneg.relabel.settings",
        "CrossEncoderJudgeSettings": "st_hardneg.relabel.settings",
        "OpenAIJudgeSettings": "st_hardneg.relabel.settings",
        "TransformersJudgeSettings": "st_hardneg.relabel.settings",
        "Prompts": "st_hardneg.relabel.prompts",
        "JudgmentCache": "st_hardneg.relabel.cache",
        "Judgments": "st_hardneg.relabel.judgments",
        "RelabelStatistics": "st_hardneg.relabel.statistics",
        "Answer": "st_hardneg.relabel.judges.base",
        "Judge": "st_hardneg.relabel.judges.base",
        "Ranking": "st_hardneg.relabel.judges.base",
        "ChatJudge": "st_hardneg.relabel.judges.chat",
        "CrossEncoderJudge": "st_hardneg.relabel.judges.cross_encoder",
        "OpenAIJudge": "st_hardneg.relabel.judges.openai",
        "TransformersJudge": "st_hardneg.relabel.judges.transformers",
    },
)
