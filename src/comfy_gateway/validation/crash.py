"""An exception ComfyUI's validator would have raised part-way through a node.

ComfyUI does not catch some lookups (a link to a missing node, an output slot out of
range); the exception leaves the node and is reported by whoever validated it, as
``exception_during_inner_validation`` or, at an output node, ``exception_during_validation``.
We raise this to take the same path, carrying what ComfyUI would print.
"""

from __future__ import annotations


class ValidationCrash(Exception):
    """Internal to the checker: never escapes :func:`check_graph`."""

    def __init__(self, exception_type: str, reason: str) -> None:
        super().__init__(reason)
        self.exception_type = exception_type
        self.reason = reason

    @classmethod
    def from_exception(cls, exc: BaseException) -> ValidationCrash:
        kind = type(exc)
        name = (
            kind.__qualname__
            if kind.__module__ == "builtins"
            else f"{kind.__module__}.{kind.__qualname__}"
        )
        return cls(name, str(exc))
