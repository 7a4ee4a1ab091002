"""What a teacher model is called in provenance (pool files, ``mining_config.json``, dataset cards).

A model is recorded by its Hub id (and revision) when that is known: the id a SentenceTransformer verified on the
Hub when it was loaded (``model.model_card_data.base_model`` / ``base_model_revision``), the id st-hardneg set for
its packaged all-MiniLM-L6-v2, or the name the user passed when it is not a folder on this machine. A model loaded
from a local folder is recorded as a local model under the folder's name only: the path on this machine is never
written into a file that may be shared.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

__all__ = ["ModelReference", "model_reference"]


@dataclass(frozen=True)
class ModelReference:
    """How a model is named in provenance.

    Attributes:
        hub_id: the model's Hub id, or ``None`` for a local model.
        revision: the Hub revision (commit) when known.
        name: a short display name: the Hub id, or the local folder's name.
    """

    hub_id: str | None
    revision: str | None
    name: str

    @property
    def local(self) -> bool:
        return self.hub_id is None

    def describe(self) -> str:
        """One line for people: ``org/name`` (``@ revision``), or ``local model `name` (not on the Hub)``."""
        if self.hub_id is None:
            return f"local model `{self.name}` (not on the Hub; its path is not recorded)"
        return f"`{self.hub_id}`" + (f" @ `{self.revision}`" if self.revision else "")


def model_reference(model: Any) -> ModelReference:
    """The :class:`ModelReference` of a model name, a path, or a loaded SentenceTransformer.

    Examples:
        >>> model_reference("sentence-transformers/all-MiniLM-L6-v2").hub_id
        'sentence-transformers/all-MiniLM-L6-v2'
        >>> import tempfile, pathlib
        >>> folder = pathlib.Path(tempfile.mkdtemp()) / "my-finetuned-model"
        >>> folder.mkdir()
        >>> ref = model_reference(str(folder))
        >>> ref.hub_id, ref.name, str(folder) in ref.describe()
        (None, 'my-finetuned-model', False)
    """
    if isinstance(model, (str, Path)):
        return _reference_from_text(str(model))
    card = getattr(model, "model_card_data", None)
    hub_id = getattr(card, "base_model", None)
    if hub_id:
        return ModelReference(str(hub_id), getattr(card, "base_model_revision", None) or None, str(hub_id))
    try:
        name_or_path = str(model[0].auto_model.config._name_or_path)
    except Exception:  # noqa: BLE001 - any module layout
        name_or_path = ""
    if name_or_path:
        return _reference_from_text(name_or_path)
    return ModelReference(None, None, type(model).__name__)


def _reference_from_text(text: str) -> ModelReference:
    path = Path(text).expanduser()
    if path.exists() or path.is_absolute() or text.startswith((".", "~")):
        return ModelReference(None, None, path.resolve().name or "model")
    return ModelReference(text, None, text)
