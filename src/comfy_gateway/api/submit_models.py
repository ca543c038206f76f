"""The body of ``POST /v1/jobs`` as pydantic models (API.md "Submitting", "Media").

Names and base64 are checked later by the media intake, so that a bad media name answers
``unsafe_media_name`` and bad base64 ``invalid_base64`` rather than a generic schema
error; the workflow's shape is checked by the graph edits (``workflow_invalid``).
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

InputType = Literal["raw", "base64", "url"]
MAX_PRIORITY = 1000
#: Fields that tell how to answer, not what to run: they stay out of the idempotency hash
#: so a client that retries with ``wait`` switched on still gets its first job back.
ANSWER_ONLY_FIELDS = frozenset({"wait", "wait_timeout_s"})
#: Aliases clients of Modal-style APIs send inside an input item, and the type each means.
_INPUT_ALIASES: dict[str, InputType] = {"image_base64": "base64", "image_url": "url"}


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class InputItem(_Strict):
    """``{"node", "field", "value", "type"}``: set one node input (media when not raw)."""

    node: str
    field: str = Field(min_length=1)
    value: Any = None
    type: InputType = "raw"

    @model_validator(mode="before")
    @classmethod
    def _accept_aliases(cls, data: Any) -> Any:
        if not isinstance(data, dict):
            return data
        present = [alias for alias in _INPUT_ALIASES if alias in data]
        if not present:
            return data
        if len(present) > 1 or "value" in data:
            raise ValueError("give one of value, image_base64 or image_url")
        normalised = {key: item for key, item in data.items() if key != present[0]}
        return {**normalised, "value": data[present[0]], "type": _INPUT_ALIASES[present[0]]}

    @field_validator("node", mode="before")
    @classmethod
    def _node_id_as_text(cls, value: Any) -> Any:
        # Graph node ids are strings, but clients often write them as numbers.
        return str(value) if isinstance(value, int) and not isinstance(value, bool) else value

    @model_validator(mode="after")
    def _media_value_is_text(self) -> InputItem:
        if self.type != "raw" and not isinstance(self.value, str):
            raise ValueError(f"a {self.type} input needs its value as a string")
        return self

    @property
    def is_media(self) -> bool:
        return self.type != "raw"


class MediaItem(_Strict):
    """``{"name", "data" | "url"}``: a file the graph names by ``name``."""

    name: str
    data: str | None = None
    url: str | None = None

    @model_validator(mode="after")
    def _one_source(self) -> MediaItem:
        if (self.data is None) == (self.url is None):
            raise ValueError("a media item needs exactly one of data or url")
        return self


class SubmitRequest(_Strict):
    """The JSON body of ``POST /v1/jobs`` (or the ``request`` part of a multipart one)."""

    workflow: Any = Field(description="A ComfyUI API-format graph: {node_id: {class_type, …}}")
    params: dict[str, Any] = Field(default_factory=dict)
    inputs: list[InputItem] = Field(default_factory=list)
    media: list[MediaItem] = Field(default_factory=list)
    priority: int = Field(default=0, ge=-MAX_PRIORITY, le=MAX_PRIORITY)
    timeout_s: float | None = Field(default=None, gt=0)
    webhook_url: str | None = Field(default=None, min_length=1, max_length=2048)
    wait: bool = False
    wait_timeout_s: float | None = Field(default=None, ge=0)

    @property
    def media_input_count(self) -> int:
        return sum(1 for item in self.inputs if item.is_media)
