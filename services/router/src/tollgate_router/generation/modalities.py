"""What a request needs of a model's modalities (catalog ``input_modalities`` /
``output_modalities``), checked before any provider is called."""

from __future__ import annotations

from collections.abc import Sequence

from tollgate_router.catalog.catalog import ModelInfo
from tollgate_router.domain import FilePart, GenerationRequest, ImagePart, Message
from tollgate_router.errors import UnsupportedModality

# Output modalities a chat completion can return.
OUTPUT_MODALITIES = frozenset({"text", "image"})


def file_modality(media_type: str) -> str:
    """The catalog input modality of a file part: image, audio, video, else file (PDF, ...)."""
    kind = media_type.split("/", 1)[0].lower()
    return kind if kind in ("image", "audio", "video") else "file"


def input_modalities(messages: tuple[Message, ...]) -> tuple[str, ...]:
    """The non-text input modalities of ``messages``, in the order they first appear."""
    seen: dict[str, None] = {}
    for message in messages:
        if message.content is None or isinstance(message.content, str):
            continue
        for part in message.content:
            if isinstance(part, ImagePart):
                seen["image"] = None
            elif isinstance(part, FilePart):
                seen[file_modality(part.media_type or _data_uri_type(part.data))] = None
    return tuple(seen)


def _data_uri_type(data: str) -> str:
    if not data.startswith("data:"):
        return ""
    return data[5 : data.find(",", 5, 256)].split(";", 1)[0]


def lacking(model: ModelInfo, request: GenerationRequest) -> tuple[str, str] | None:
    """(``input`` or ``output``, modality) of the first modality ``model`` lacks, else None."""
    for modality in input_modalities(request.messages):
        if modality not in model.input_modalities:
            return "input", modality
    for modality in request.params.modalities:
        if modality != "text" and modality not in model.output_modalities:
            return "output", modality
    return None


def check(models: Sequence[ModelInfo], request: GenerationRequest) -> list[ModelInfo]:
    """``models`` (the requested one first, then the fallback models) narrowed to those that
    can take the request's attachments and produce its output modalities. The requested model
    must: otherwise :class:`UnsupportedModality` (a 400), before any provider is called."""
    unknown = [m for m in request.params.modalities if m not in OUTPUT_MODALITIES]
    if unknown:
        raise UnsupportedModality(
            f"output modality {unknown[0]!r} is not supported; use text and/or image",
            "modalities",
        )
    missing = lacking(models[0], request)
    if missing is not None:
        direction, modality = missing
        if direction == "input":
            raise UnsupportedModality(
                f"model {models[0].id!r} does not accept {modality} input", "messages"
            )
        raise UnsupportedModality(
            f"model {models[0].id!r} cannot generate {modality} output", "modalities"
        )
    return [models[0], *(m for m in models[1:] if lacking(m, request) is None)]
