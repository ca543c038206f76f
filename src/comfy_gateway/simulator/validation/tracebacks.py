"""Exceptions ComfyUI's validator lets escape, and the traceback lines it reports for them.

ComfyUI's `validate_inputs` does not guard every step: a link to a node id that does not
exist, an output slot out of range or an `inputs` that is not a dict raise a plain Python
exception, which the *caller* catches and reports with `traceback.format_tb`. The
simulator performs the same Python operation, so the exception type and message come out
the same, and wraps it in `ValidationCrash` with the frame ComfyUI would print for it.
Frames of the captured cases (lines 788, 790, 808, 1010) are copied from protocol.md.
The others are what Python 3.11 prints for the same source line, at line numbers counted
from a nearby upstream revision: close, not verified against 0.3.64 (no capture has them).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")

EXECUTION_FILE = "<ComfyUI>/execution.py"


def source_frame(line: int, function: str, source: str, markers: str) -> str:
    """One `traceback.format_tb` entry: location, source line and the 3.11 marker line."""
    location = f'  File "{EXECUTION_FILE}", line {line}, in {function}\n'
    marker_line = f"    {markers}\n" if markers else ""
    return f"{location}    {source}\n{marker_line}"


def _markers(indent: int, text: str) -> str:
    return " " * indent + text


# validate_prompt → validate_inputs(output node): frame of the exception_during_validation.
PROMPT_CALL_FRAME = source_frame(
    1010,
    "validate_prompt",
    "m = await validate_inputs(prompt_id, prompt, o, validated)",
    _markers(4, "^" * 54),
)
# validate_inputs → validate_inputs(linked node): frame of exception_during_inner_validation.
INNER_CALL_FRAME = source_frame(
    808,
    "validate_inputs",
    "r = await validate_inputs(prompt_id, prompt, o_id, validated)",
    _markers(4, "^" * 57),
)
LINKED_NODE_FRAME = source_frame(
    788,
    "validate_inputs",
    "o_class_type = prompt[o_id]['class_type']",
    _markers(15, "~" * 6 + "^" * 6),
)
LINKED_SLOT_FRAME = source_frame(
    790, "validate_inputs", "received_type = r[val[1]]", _markers(16, "~" + "^" * 8)
)
NODE_INPUTS_FRAME = source_frame(
    730,
    "validate_inputs",
    "inputs = prompt[unique_id]['inputs']",
    _markers(9, "~" * 17 + "^" * 10),
)
INPUT_PRESENT_FRAME = source_frame(
    757, "validate_inputs", "if x not in inputs:", _markers(3, "^" * 15)
)
INPUT_VALUE_FRAME = source_frame(
    770, "validate_inputs", "val = inputs[x]", _markers(6, "~" * 6 + "^" * 3)
)
MIN_FRAME = source_frame(
    869,
    "validate_inputs",
    'if "min" in extra_info and val < extra_info["min"]:',
    _markers(27, "^" * 23),
)
MAX_FRAME = source_frame(
    882,
    "validate_inputs",
    'if "max" in extra_info and val > extra_info["max"]:',
    _markers(27, "^" * 23),
)
CUSTOM_VALIDATION_FRAME = source_frame(
    920,
    "validate_inputs",
    "ret = await _async_map_node_over_list(prompt_id, unique_id, obj_class, input_filtered, "
    "validate_function_name, hidden_inputs=hidden_inputs)",
    _markers(14, "^" * 124),
)
# A dependency cycle makes ComfyUI's recursive validation run out of stack.
CYCLE_FRAME = source_frame(
    725,
    "validate_inputs",
    "async def validate_inputs(prompt_id, prompt, item, validated):",
    "",
)


class ValidationCrash(Exception):
    """An exception ComfyUI's validate_inputs would let escape to its caller."""

    def __init__(self, error: Exception, frame: str) -> None:
        super().__init__(str(error))
        self.error = error
        self.frame = frame

    @property
    def exception_type(self) -> str:
        """The type's full name as ComfyUI's full_type_name spells it (builtins bare)."""
        kind = type(self.error)
        if kind.__module__ == "builtins":
            return kind.__qualname__
        return f"{kind.__module__}.{kind.__qualname__}"

    @property
    def exception_message(self) -> str:
        return str(self.error)


def guarded(frame: str, step: Callable[[], T]) -> T:
    """Run one unguarded step of ComfyUI's validation; an exception escapes as a crash."""
    try:
        return step()
    except Exception as error:
        raise ValidationCrash(error, frame) from error
