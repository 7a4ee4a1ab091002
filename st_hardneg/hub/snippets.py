"""The Python shown in a mined set's card: loading and training on it, and mining it again.

Each snippet is complete (imports, data, every setting that differs from its default) so that it runs as written;
the tests execute them.
"""

from __future__ import annotations

from st_hardneg.hub.config import MiningRecord
from st_hardneg.hub.contents import HubPart

__all__ = ["PLACEHOLDER_REPO", "format_of", "reproduce_code", "train_code"]

#: What the snippets name the repository when the folder was saved without a ``repo_id``.
PLACEHOLDER_REPO = "<user>/<dataset>"

_STUDENT = "sentence-transformers/all-MiniLM-L6-v2"
_RERANKER_BASE = "microsoft/MiniLM-L12-H384-uncased"


def format_of(part: HubPart) -> str:
    """The part's output format: from its selection settings, else read from its columns."""
    if part.selection is not None:
        return part.selection.settings.output_format
    from st_hardneg.eci.groups import detect_format

    return detect_format(part.dataset)


def _load_line(repo_id: str, part: HubPart, several_configs: bool) -> str:
    config = f", {part.config!r}" if several_configs or part.config != "default" else ""
    return f"train_dataset = load_dataset({repo_id!r}{config}, split={part.split!r})"


def train_code(repo_id: str, part: HubPart, *, several_configs: bool) -> str:
    """Load ``part`` from the Hub and fine-tune on it with the loss its format is made for."""
    fmt = format_of(part)
    load = _load_line(repo_id, part, several_configs)
    if fmt in ("n-tuple", "triplet"):
        has_scores = "scores" in part.dataset.column_names
        lines = [
            "from datasets import load_dataset",
            "from sentence_transformers import SentenceTransformer, SentenceTransformerTrainer, "
            "SentenceTransformerTrainingArguments",
            "from sentence_transformers.sentence_transformer.losses import MultipleNegativesRankingLoss",
            "",
            load,
        ]
        if has_scores:
            lines.append('train_dataset = train_dataset.remove_columns("scores")  # or DistillKLDivLoss on them')
        lines += [
            f"model = SentenceTransformer({_STUDENT!r})  # the model to fine-tune",
            "loss = MultipleNegativesRankingLoss(model)  # the hard negatives plus in-batch negatives",
            "args = SentenceTransformerTrainingArguments(",
            '    output_dir="hard-negatives-model",',
            "    num_train_epochs=1,",
            "    per_device_train_batch_size=32,",
            '    batch_sampler="no_duplicates",  # an anchor with several positives must not meet itself in a batch',
            ")",
            "trainer = SentenceTransformerTrainer(model=model, args=args, train_dataset=train_dataset, loss=loss)",
            "trainer.train()",
        ]
        return "\n".join(lines)
    loss = "LambdaLoss" if fmt == "labeled-list" else "BinaryCrossEntropyLoss"
    return "\n".join(
        [
            "from datasets import load_dataset",
            "from sentence_transformers import CrossEncoder, CrossEncoderTrainer, CrossEncoderTrainingArguments",
            f"from sentence_transformers.cross_encoder.losses import {loss}",
            "",
            load,
            f"model = CrossEncoder({_RERANKER_BASE!r}, num_labels=1)  # a reranker to train",
            f"loss = {loss}(model)",
            'args = CrossEncoderTrainingArguments(output_dir="hard-negatives-reranker", num_train_epochs=1)',
            "trainer = CrossEncoderTrainer(model=model, args=args, train_dataset=train_dataset, loss=loss)",
            "trainer.train()",
        ]
    )


def reproduce_code(repo_id: str, parts: list[HubPart], configs: dict[str, MiningRecord | None]) -> list[str]:
    """Code blocks that mine the parts again: from ``mining_config.json``, then spelled out with the settings.

    Parts that share a teacher, a pool configuration and a source share one ``CandidatePool.build``.
    """
    mined = [(p, configs[p.key]) for p in parts if configs.get(p.key) is not None]
    if not mined:
        return []
    several = len(parts) > 1
    part, config = mined[0]
    imports, data = config.source.loading_code(bool(config.corpus_given))
    names = f", {part.config!r}, {part.split!r}" if several else ""
    from_file = "\n".join(
        [
            *imports,
            "from st_hardneg.hub import load_mining_config",
            "",
            *data,
            f"config = load_mining_config({repo_id!r}{names})",
            "dataset = config.mine(pairs, corpus=corpus"
            + (", judge=judge)  # relabeled: bring a judge;" if config.relabel is not None else ")  #")
            + " checks these are the recorded pairs and corpus first",
        ]
    )
    blocks = [from_file]
    groups: dict[str, list[tuple[HubPart, MiningRecord]]] = {}
    for p, c in mined:
        key = repr((c.teacher, c.pool_settings, c.source, c.dataset_fingerprint, c.corpus_fingerprint, c.relabel))
        groups.setdefault(key, []).append((p, c))
    for group in groups.values():
        first = group[0][1]
        teacher_import, teacher_expr = first.teacher_code()
        imports, data = first.source.loading_code(bool(first.corpus_given))
        lines = [*imports, "from st_hardneg import CandidatePool"]
        if teacher_import:
            lines.append(teacher_import)
        lines += ["", *data, f"teacher = {teacher_expr}", first.pool_code()]
        if first.relabel is not None:
            lines.insert(1, "from st_hardneg.relabel import ARHN")
            lines.append(first.relabel_code())
        for p, c in group:
            target = "dataset" if len(group) == 1 else _variable(p)
            lines.append(c.select_code(target))
        blocks.append("\n".join(lines))
    return blocks


def _variable(part: HubPart) -> str:
    import re

    name = re.sub(r"\W+", "_", f"{part.config}_{part.split}").strip("_").lower()
    return name if name and not name[0].isdigit() else f"set_{name}"
