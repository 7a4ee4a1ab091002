"""Judges for ARHN: the :class:`Judge` contract and its implementations (names load on first use)."""

from st_hardneg.exports import lazy_exports

__all__, __getattr__, __dir__ = lazy_exports(
    __name__,
    {
        "Answer": "st_hardneg.relabel.judges.base",
        "Judge": "st_hardneg.relabel.judges.base",
        "Ranking": "st_hardneg.relabel.judges.base",
        "ChatJudge": "st_hardneg.relabel.judges.chat",
        "Failure": "st_hardneg.relabel.judges.chat",
        "CrossEncoderJudge": "st_hardneg.relabel.judges.cross_encoder",
        "OpenAIJudge": "st_hardneg.relabel.judges.openai",
        "TransformersJudge": "st_hardneg.relabel.judges.transformers",
    },
)
