"""Check an API-format graph against a node catalogue the way ComfyUI 0.3.64 does.

The walk follows ``execution.py``'s ``validate_prompt``/``validate_inputs``: every node
must name a known class; then each output node is validated depth-first through its
links, results memoised per node. A node fed by a failing node fails without errors of
its own, and only nodes with errors are reported. Unlike ComfyUI, which runs the outputs
that passed and answers 200, any failing output fails the whole check.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass, field
from typing import Any

from comfy_gateway.comfy import InputSpec, NodeDefinition
from comfy_gateway.validation import error_shapes
from comfy_gateway.validation.check_result import CheckResult, GraphRequirements, graph_requirements
from comfy_gateway.validation.crash import ValidationCrash
from comfy_gateway.validation.error_shapes import ErrorDict
from comfy_gateway.validation.input_values import check_widget_value
from comfy_gateway.validation.model_folders import model_folder
from comfy_gateway.validation.node_catalogue import NodeCatalogue

_CHECKED_SECTIONS = ("required", "optional")


@dataclass(frozen=True, kw_only=True)
class NodeVerdict:
    valid: bool
    errors: list[ErrorDict] = field(default_factory=list)


def check_graph(
    graph: Any, catalogue: NodeCatalogue, *, media_names: Collection[str] = frozenset()
) -> CheckResult:
    """Validate ``graph``; the result carries ComfyUI's error body and the graph's needs."""
    requirements = _requirements(graph, catalogue)
    prompt_error = _prompt_level_error(graph, catalogue)
    if prompt_error is not None:
        return CheckResult(error=prompt_error, node_errors={}, requirements=requirements)
    outputs = [node_id for node_id, node in graph.items() if _is_output(catalogue, node)]
    if not outputs:
        return CheckResult(
            error=error_shapes.no_outputs(), node_errors={}, requirements=requirements
        )
    walk = _GraphWalk(graph=graph, catalogue=catalogue, media_names=media_names)
    error, node_errors = walk.validate_outputs(outputs)
    return CheckResult(
        error=error,
        node_errors=node_errors,
        requirements=requirements,
        stale_classes=frozenset(walk.stale_classes),
    )


def _prompt_level_error(graph: Any, catalogue: NodeCatalogue) -> ErrorDict | None:
    if isinstance(graph, list) and not graph:
        return error_shapes.no_outputs()  # ComfyUI iterates an empty list: no outputs
    if not isinstance(graph, dict):
        return error_shapes.not_a_graph()
    for node_id, node in graph.items():
        if not isinstance(node, dict) or "class_type" not in node:
            return error_shapes.missing_class_type(str(node_id))
        if catalogue.definition(node["class_type"]) is None:
            return error_shapes.unknown_class_type(str(node_id), node["class_type"])
    return None


def _requirements(graph: Any, catalogue: NodeCatalogue) -> GraphRequirements:
    """What the graph needs, even when this catalogue cannot run it.

    A node of a class this backend lacks might be an output elsewhere, so it counts as
    one: another backend's capabilities are matched against the full list.
    """
    if not isinstance(graph, dict):
        return GraphRequirements()
    roots = [
        node_id
        for node_id, node in graph.items()
        if isinstance(node, dict)
        and (catalogue.definition(node.get("class_type")) is None or _is_output(catalogue, node))
    ]
    return graph_requirements(graph, roots)


def _is_output(catalogue: NodeCatalogue, node: dict[str, Any]) -> bool:
    definition = catalogue.definition(node["class_type"])
    return definition is not None and definition.output_node


def types_compatible(received: str, expected: str) -> bool:
    """ComfyUI's link rule: equal, a ``*`` on either side, or comma-separated unions overlap."""
    if received == expected:
        return True
    received_set = {part.strip() for part in received.split(",")}
    expected_set = {part.strip() for part in expected.split(",")}
    if "*" in received_set or "*" in expected_set:
        return True
    return bool(received_set & expected_set)


class _GraphWalk:
    """One validation pass: the memo of verdicts and the classes whose lists may be stale."""

    def __init__(
        self, *, graph: dict[str, Any], catalogue: NodeCatalogue, media_names: Collection[str]
    ) -> None:
        self.graph = graph
        self.catalogue = catalogue
        self.media_names = media_names
        self.validated: dict[Any, NodeVerdict] = {}
        self.stale_classes: set[str] = set()
        self._in_progress: set[Any] = set()

    def validate_outputs(self, outputs: list[str]) -> tuple[ErrorDict | None, dict[str, Any]]:
        failures: list[tuple[str, list[ErrorDict]]] = []
        node_errors: dict[str, Any] = {}
        for output_id in outputs:
            verdict = self._validate_output(output_id)
            if verdict.valid:
                continue
            failures.append((output_id, verdict.errors))
            self._collect_node_errors(output_id, node_errors)
        if not failures:
            return None, {}
        details = "\n".join(
            f"{error['message']}: {error['details']}" for _, errors in failures for error in errors
        )
        return error_shapes.outputs_failed(details), node_errors

    def _validate_output(self, output_id: str) -> NodeVerdict:
        try:
            return self.validate_node(output_id)
        except ValidationCrash as crash:
            error = error_shapes.exception_during_validation(crash.exception_type, crash.reason)
            verdict = NodeVerdict(valid=False, errors=[error])
            self.validated[output_id] = verdict
            return verdict

    def _collect_node_errors(self, output_id: str, node_errors: dict[str, Any]) -> None:
        # As ComfyUI does, every failing node known so far is charged to this output, even
        # one found while validating an earlier output.
        for node_id, verdict in self.validated.items():
            if verdict.valid or not verdict.errors:
                continue
            entry = node_errors.setdefault(
                node_id,
                {
                    "errors": verdict.errors,
                    "dependent_outputs": [],
                    "class_type": self.graph[node_id]["class_type"],
                },
            )
            entry["dependent_outputs"].append(output_id)

    def validate_node(self, node_id: Any) -> NodeVerdict:
        """Validate one node and (through links) everything it depends on."""
        if node_id in self.validated:
            return self.validated[node_id]
        if node_id in self._in_progress:
            # ComfyUI recurses without end on a cycle and reports the RecursionError.
            raise ValidationCrash("RecursionError", "maximum recursion depth exceeded")
        self._in_progress.add(node_id)
        try:
            verdict = self._validate_inputs(node_id)
        finally:
            self._in_progress.discard(node_id)
        # A cycle back to this node may have filed an error under it meanwhile: keep it.
        earlier = self.validated.get(node_id)
        if earlier is not None:
            verdict = NodeVerdict(valid=False, errors=[*earlier.errors, *verdict.errors])
        self.validated[node_id] = verdict
        return verdict

    def _validate_inputs(self, node_id: Any) -> NodeVerdict:
        node = self.graph[node_id]
        if "inputs" not in node:
            raise ValidationCrash.from_exception(KeyError("inputs"))
        inputs = node["inputs"]
        if not isinstance(inputs, dict):
            raise ValidationCrash("TypeError", "a node's inputs must be a JSON object")
        class_type = node["class_type"]
        definition = self.catalogue.definitions[class_type]
        errors: list[ErrorDict] = []
        valid = True
        for spec in _checked_inputs(definition):
            if spec.name not in inputs:
                if spec.section == "required":
                    errors.append(error_shapes.required_input_missing(spec.name))
                continue
            value = inputs[spec.name]
            if isinstance(value, list):
                error, linked_ok = self._check_link(class_type, spec, value)
                valid = valid and linked_ok
            else:
                error = self._check_widget(class_type, spec, value)
            if error is not None:
                errors.append(error)
        return NodeVerdict(valid=valid and not errors, errors=errors)

    def _check_widget(self, class_type: str, spec: InputSpec, value: Any) -> ErrorDict | None:
        verdict = check_widget_value(
            spec,
            value,
            choices=self.catalogue.choices(class_type, spec),
            folder=model_folder(class_type, spec.name),
            media_names=self.media_names,
        )
        if verdict.list_may_be_stale:
            self.stale_classes.add(class_type)
        return verdict.error

    def _check_link(
        self, class_type: str, spec: InputSpec, link: list[Any]
    ) -> tuple[ErrorDict | None, bool]:
        """The link's own error, and whether the node it comes from validated."""
        config = error_shapes.input_config(spec, self.catalogue.choices(class_type, spec))
        if len(link) != 2:
            return error_shapes.bad_linked_input(spec.name, config, link), True
        received = self._received_type(link)
        if not types_compatible(received, spec.type):
            mismatch = error_shapes.return_type_mismatch(
                spec.name, config, received, spec.type, link
            )
            return mismatch, True
        try:
            return None, self.validate_node(link[0]).valid
        except ValidationCrash as crash:
            inner = error_shapes.exception_during_inner_validation(
                spec.name, config, link, crash.exception_type, crash.reason
            )
            # ComfyUI files the error under the linked node, with this input's name.
            self.validated[link[0]] = NodeVerdict(valid=False, errors=[inner])
            return None, False

    def _received_type(self, link: list[Any]) -> str:
        """The type of output ``link[1]`` of node ``link[0]``; crashes as ComfyUI's lookup does."""
        try:
            linked_class = self.graph[link[0]]["class_type"]
            output_types = tuple(
                output.type for output in self.catalogue.definitions[linked_class].outputs
            )
            received: str = output_types[link[1]]
            return received
        except (KeyError, IndexError, TypeError) as exc:
            raise ValidationCrash.from_exception(exc) from exc


def _checked_inputs(definition: NodeDefinition) -> list[InputSpec]:
    ordered = [
        definition.inputs[name] for name in definition.input_order if name in definition.inputs
    ]
    rest = [spec for name, spec in definition.inputs.items() if name not in definition.input_order]
    return [spec for spec in ordered + rest if spec.section in _CHECKED_SECTIONS]
