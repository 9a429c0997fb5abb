"""The one definition of a commit analysis: what the LLM must return and what is stored."""

from __future__ import annotations

import copy
from enum import StrEnum
from functools import cache
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field


class ChangeType(StrEnum):
    FEATURE = "feature"
    BUGFIX = "bugfix"
    REFACTOR = "refactor"
    PERFORMANCE = "performance"
    DOCS = "docs"
    TEST = "test"
    BUILD = "build"
    CI = "ci"
    CHORE = "chore"
    SECURITY = "security"
    REVERT = "revert"
    STYLE = "style"


class Importance(StrEnum):
    HIGH = "high"
    MEDIUM = "medium"
    LOW = "low"


IMPORTANCE_ORDER: tuple[Importance, ...] = (Importance.HIGH, Importance.MEDIUM, Importance.LOW)


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, use_enum_values=False)


class ScopeItem(_Strict):
    """One area or file the commit touches, with a note on how."""

    area: str = Field(min_length=1, max_length=300, description="A path, module or subsystem.")
    note: str = Field(max_length=1000, description="What changes there, in one sentence.")


class Insights(_Strict):
    """Technical insight by dimension; an empty string means nothing worth saying."""

    architecture: str = Field(max_length=3000)
    performance: str = Field(max_length=3000)
    security: str = Field(max_length=3000)
    compatibility: str = Field(max_length=3000)


# model: the LLM's answer; prefix, paths, message: the commit's own evidence; rubric: the
# importance the rubric gives the type; default: nothing else said anything.
Signal = Literal["model", "prefix", "paths", "diff", "message", "changelog", "rubric", "default"]


class DecidedBy(_Strict):
    """Which signal settled the change type and the importance."""

    change_type: Signal
    importance: Signal


class Analysis(_Strict):
    """The structured analysis of one commit, as validated from the model or the heuristics."""

    change_type: ChangeType
    importance: Importance
    summary: str = Field(min_length=1, max_length=4000)
    impact_scope: list[ScopeItem] = Field(max_length=40)
    insights: Insights
    risks: list[str] = Field(max_length=20)
    recommendations: list[str] = Field(max_length=20)
    breaking_change: bool
    # Ours, not the model's: left out of the schema the model is given; None in analyses
    # stored before it was recorded.
    decided_by: DecidedBy | None = None


# Fields we fill in after the model answers, never asked of it.
_NOT_ASKED = ("decided_by",)
# The order the model writes its answer in (servers that enforce a schema keep its order): the
# summary of what the diff does comes before the labels, so a small model names the type of
# what it has just described instead of guessing it first (prompt v3 asks for this order).
_ASKED_ORDER = ("summary", "change_type", "importance", "breaking_change")


def analysis_json_schema() -> dict[str, Any]:
    """Return the JSON Schema of ``Analysis`` in the strict form structured outputs require.

    Strict mode wants every property listed in ``required`` and ``additionalProperties: false``
    on every object; length limits are checked by pydantic after the call instead, because not
    every OpenAI-compatible server accepts them in a schema.
    """
    return copy.deepcopy(_strict_schema())


@cache
def _strict_schema() -> dict[str, Any]:
    # pydantic builds the schema anew on every call (about 1 ms); it never changes
    schema = copy.deepcopy(Analysis.model_json_schema())
    for name in _NOT_ASKED:
        del schema["properties"][name]
    properties = schema["properties"]
    first = {name: properties.pop(name) for name in _ASKED_ORDER}
    schema["properties"] = {**first, **properties}
    schema["$defs"].pop("DecidedBy", None)
    _make_strict(schema)
    return schema


_UNSUPPORTED_KEYWORDS = ("minLength", "maxLength", "minItems", "maxItems", "title", "default")


def _make_strict(node: Any) -> None:
    if isinstance(node, dict):
        for keyword in _UNSUPPORTED_KEYWORDS:
            if keyword in node and not isinstance(node[keyword], dict):
                del node[keyword]
        if node.get("type") == "object" and "properties" in node:
            node["required"] = list(node["properties"])
            node["additionalProperties"] = False
        for value in node.values():
            _make_strict(value)
    elif isinstance(node, list):
        for item in node:
            _make_strict(item)
