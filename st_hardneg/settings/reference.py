"""The options reference (``docs/options.md``), generated from the settings dataclasses so it cannot drift.

python -m st_hardneg.settings.reference > docs/options.md
"""

from __future__ import annotations

import dataclasses
import importlib

__all__ = ["SETTINGS_CLASSES", "options_markdown"]

#: The settings classes, in the order the reference lists them, with who reads them.
SETTINGS_CLASSES = {
    "st_hardneg.pool.settings:PoolSettings": "`CandidatePool.build`, `mine_hard_negatives`, `HardNegativeMiner`, "
    "the command",
    "st_hardneg.select.settings:SelectionSettings": "`CandidatePool.select`, `mine_hard_negatives`, "
    "`HardNegativeMiner`, the command",
    "st_hardneg.teachers.settings:DenseSettings": "`DenseTeacher(model, ...)`, the command",
    "st_hardneg.teachers.settings:CrossEncoderSettings": "`CrossEncoderTeacher(cross_encoder, first_stage, ...)`, "
    "the command (with `--cross-encoder NAME`)",
    "st_hardneg.engines.settings:EngineSettings": "`CandidatePool.build`, the command",
    "st_hardneg.eci.settings:ECISettings": "`compute_eci`, `compare_eci`, `ECIEvaluator`, `ECICallback`",
    "st_hardneg.sweep_training.settings:TrainingSweepSettings": '`pool.sweep(..., score="train")`, '
    "`score_by_training`, `st-hardneg sweep --score train`",
    "st_hardneg.relabel.settings:ARHNSettings": "`ARHN(judge, ...)`, `st-hardneg relabel`",
    "st_hardneg.relabel.prompts:Prompts": "`TransformersJudge`, `OpenAIJudge` (`prompts=`), `st-hardneg relabel`",
    "st_hardneg.relabel.settings:ChatSettings": "`TransformersJudge`, `OpenAIJudge`, `st-hardneg relabel`",
    "st_hardneg.relabel.settings:OpenAIJudgeSettings": "`OpenAIJudge`, `st-hardneg relabel --judge openai`",
    "st_hardneg.relabel.settings:TransformersJudgeSettings": "`TransformersJudge`, "
    "`st-hardneg relabel --judge transformers`",
    "st_hardneg.relabel.settings:CrossEncoderJudgeSettings": "`CrossEncoderJudge`, "
    "`st-hardneg relabel --judge cross-encoder`",
    "st_hardneg.hub.settings:CardSettings": "`save_for_hub`, `push_to_hub`, `pool.push_to_hub`, `MinedDatasetCard`, "
    "`PoolCard`, the command",
}


def options_markdown() -> str:
    """Every option of every settings class: name, command-line flag, default, meaning."""
    lines = [
        "# Options",
        "",
        "Every option of st-hardneg, generated from the settings dataclasses (`python -m st_hardneg.settings.reference"
        " > docs/options.md`; a test checks this file is current). The Python functions take these names as keyword "
        "arguments (or a settings object, keywords overriding it); the command takes the flags.",
        "",
    ]
    for path, used_by in SETTINGS_CLASSES.items():
        module, _, name = path.partition(":")
        cls = getattr(importlib.import_module(module), name)
        lines += [
            f"## `{name}`",
            "",
            f"Used by {used_by}.",
            "",
            "| option | flag | default | meaning |",
            "|---|---|---|---|",
        ]
        for f in dataclasses.fields(cls):
            default = f.default.spec if hasattr(f.default, "spec") else repr(f.default)
            flag = "--" + (f.metadata.get("cli_name") or f.name.replace("_", "-")) if f.metadata.get("cli") else ""
            if module.startswith("st_hardneg.eci"):
                flag = ""
            choices = f.metadata.get("choices")
            meaning = f.metadata.get("help", "") + (f" (one of {', '.join(choices)})" if choices else "")
            lines.append(f"| `{f.name}` | {f'`{flag}`' if flag else ''} | `{default}` | {meaning} |")
        lines.append("")
    return "\n".join(lines)


if __name__ == "__main__":
    print(options_markdown())
