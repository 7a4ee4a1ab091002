"""Save a bi-directional embedder so that a stock ``SentenceTransformer(path)`` loads it, no custom code."""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import TYPE_CHECKING

from st_hardneg._compat import Pooling, Transformer
from st_hardneg.models.bidirectional import BidirectionalDecoder
from st_hardneg.models.pooling import InstructionMeanPooling

if TYPE_CHECKING:
    from sentence_transformers import SentenceTransformer

logger = logging.getLogger(__name__)

_STOCK_TYPES = {
    BidirectionalDecoder: f"{Transformer.__module__}.{Transformer.__name__}",
    InstructionMeanPooling: f"{Pooling.__module__}.{Pooling.__name__}",
}


def save_portable(model: SentenceTransformer, path: str | Path) -> None:
    """Save ``model`` with sentence-transformers' own module types, loadable without ``trust_remote_code``.

    The folder is the same as ``model.save(path)`` except that ``modules.json`` names the stock ``Transformer``
    and ``Pooling`` (``include_prompt=False``) classes and the ``bidirectional`` key is dropped from
    ``sentence_bert_config.json``. Bi-directional attention is carried by ``"is_causal": false`` in
    ``config.json``, which transformers >= 5.2 honours for Mistral, Llama and Qwen2.

    One difference remains: the stock ``Pooling`` leaves out a single prompt length per batch, measured by
    tokenizing the prompt alone. Where the prompt's last token merges with the query's first (a prompt ending
    in a space, with byte-level or SentencePiece tokenizers), it drops the first query token as well, so such
    query embeddings differ slightly from :class:`InstructionMeanPooling`'s. Passages, and prompts that do not
    end in whitespace, embed identically.

    Args:
        model: A model whose modules are :class:`BidirectionalDecoder` and :class:`InstructionMeanPooling`
            (others are saved unchanged).
        path: Output folder.

    Raises:
        ValueError: For a model carrying PEFT adapters: a stock load would read the base model's causal
            ``config.json``. Merge the adapters first.
    """
    backbone = model[0]
    if hasattr(backbone.auto_model, "peft_config"):  # peft-wrapped or transformers-integrated adapters
        raise ValueError("save_portable needs merged weights: merge the LoRA adapter before exporting.")
    path = Path(path)
    model.save(str(path))
    modules = json.loads((path / "modules.json").read_text(encoding="utf-8"))
    for entry, module in zip(modules, model, strict=True):
        for cls, stock_type in _STOCK_TYPES.items():
            if isinstance(module, cls):
                entry["type"] = stock_type
                config_file = path / entry["path"] / module.config_file_name
                config = json.loads(config_file.read_text(encoding="utf-8"))
                config.pop("bidirectional", None)
                config_file.write_text(json.dumps(config, indent=4), encoding="utf-8")
    (path / "modules.json").write_text(json.dumps(modules, indent=2), encoding="utf-8")
    logger.info("Saved %s with stock sentence-transformers module types.", path)
