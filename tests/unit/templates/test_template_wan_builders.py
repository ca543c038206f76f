"""The WAN 2.2 built-ins: valid against the captured node definitions, equal to the graphs
the real server accepted, and shaped by use_lora / steps as the official templates are."""

from __future__ import annotations

import json
import random
from pathlib import Path
from typing import Any

import pytest

from comfy_gateway.templates import builtin_templates, render
from comfy_gateway.templates.builtin import wan22_i2v, wan22_s2v

from .graph_against_object_info import problems_of

PNG = "iVBORw0KGgoAAAANSUhEUg=="
TEMPLATES = {template.name: template for template in builtin_templates()}


@pytest.fixture(scope="module")
def object_info(shared_comfyui_dir: Path) -> dict[str, Any]:
    info: dict[str, Any] = json.loads((shared_comfyui_dir / "object_info.json").read_text())
    return info


def without_meta(graph: dict[str, Any]) -> dict[str, Any]:
    return {
        node_id: {k: v for k, v in node.items() if k != "_meta"} for node_id, node in graph.items()
    }


def media_as(graph: dict[str, Any], names: dict[str, str]) -> dict[str, Any]:
    text = json.dumps(graph)
    for media_name, file_name in names.items():
        text = text.replace(json.dumps(media_name), json.dumps(file_name))
    return dict(json.loads(text))


def i2v(**params: Any) -> dict[str, Any]:
    job = render(TEMPLATES["wan22-i2v"], {"prompt": "a cat", "image": PNG, **params})
    return job.workflow


def s2v(**params: Any) -> dict[str, Any]:
    raw = {"prompt": "a man sings", "image": PNG, "audio": PNG, **params}
    return render(TEMPLATES["wan22-s2v"], raw).workflow


def test_i2v_with_the_example_values_is_the_graph_the_real_server_accepted(
    shared_comfyui_dir: Path,
) -> None:
    expected = json.loads((shared_comfyui_dir / "wan22_i2v_api_example.json").read_text())
    graph = i2v(
        negative="blurry", seed=1, width=320, height=320, frames=17, filename_prefix="video/wan"
    )
    assert without_meta(media_as(graph, {"template-image": "input.png"})) == expected


def test_s2v_with_the_example_values_is_the_graph_the_real_server_accepted(
    shared_comfyui_dir: Path,
) -> None:
    expected = json.loads((shared_comfyui_dir / "wan22_s2v_api_example.json").read_text())
    graph = s2v(negative="blurry", seed=1, width=320, height=320, filename_prefix="video/wan_s2v")
    named = media_as(graph, {"template-image": "input.png", "template-audio": "input.wav"})
    assert without_meta(named) == expected


@pytest.mark.parametrize("use_lora", [True, False])
@pytest.mark.parametrize("name", sorted(TEMPLATES))
def test_builders_pass_the_node_definitions(
    object_info: dict[str, Any], name: str, use_lora: bool
) -> None:
    build, module = (i2v, wan22_i2v) if name == "wan22-i2v" else (s2v, wan22_s2v)
    graph = build(use_lora=use_lora)
    values = {p.name: p.default for p in TEMPLATES[name].parameters} | {"use_lora": use_lora}
    installed = frozenset(f for files in module.required_models(values).values() for f in files)
    assert problems_of(graph, object_info, installed) == []
    # The check bites: with no model files installed the same graph is refused.
    assert any("not in list" in problem for problem in problems_of(graph, object_info))
    everything = frozenset(
        f for files in module.required_models({**values, "use_lora": True}).values() for f in files
    )
    assert problems_of(TEMPLATES[name].workflow, object_info, everything) == []


def test_i2v_full_path_drops_the_loras_and_runs_20_steps_split_in_two() -> None:
    job = render(TEMPLATES["wan22-i2v"], {"prompt": "x", "image": PNG, "use_lora": "false"})
    graph = job.workflow
    assert "LoraLoaderModelOnly" not in {node["class_type"] for node in graph.values()}
    assert graph["54"]["inputs"]["model"] == ["37", 0]
    assert graph["55"]["inputs"]["model"] == ["56", 0]
    high, low = graph["57"]["inputs"], graph["58"]["inputs"]
    assert (high["steps"], high["cfg"], low["cfg"]) == (20, 3.5, 3.5)
    assert (high["start_at_step"], high["end_at_step"], low["start_at_step"]) == (0, 10, 10)
    assert (job.resolved_params["steps"], job.resolved_params["cfg"]) == (20, 3.5)


def test_i2v_lora_path_defaults_to_4_steps_cfg_1_and_honours_given_values() -> None:
    graph = i2v(steps=6, cfg=1.5, seed=42, sampler="uni_pc")
    high, low = graph["57"]["inputs"], graph["58"]["inputs"]
    assert (high["steps"], high["cfg"], high["end_at_step"], low["start_at_step"]) == (6, 1.5, 3, 3)
    assert (high["noise_seed"], high["add_noise"], low["add_noise"]) == (42, "enable", "disable")
    assert high["sampler_name"] == low["sampler_name"] == "uni_pc"
    assert graph["38"]["inputs"]["type"] == "wan"
    assert [graph[n]["class_type"] for n in ("8", "94", "61")] == [
        "VAEDecode",
        "CreateVideo",
        "SaveVideo",
    ]


def test_s2v_keeps_the_audio_in_the_video_and_uses_20_steps_without_lora() -> None:
    graph = s2v(use_lora=False, fps=24)
    assert graph["82"]["inputs"]["audio"] == ["58", 0]
    assert graph["82"]["inputs"]["fps"] == 24.0
    assert graph["58"]["inputs"]["audio"] == "template-audio"
    assert graph["52"]["inputs"]["image"] == "template-image"
    assert (graph["3"]["inputs"]["steps"], graph["3"]["inputs"]["cfg"]) == (20, 6.0)
    assert graph["54"]["inputs"]["model"] == ["37", 0]


@pytest.mark.parametrize(
    ("params", "bad"),
    [
        ({"frames": 16}, "frames"),
        ({"width": 100}, "width"),
        ({"fps": 0}, "fps"),
        ({"steps": 0}, "steps"),
    ],
)
def test_wan_parameters_are_checked(params: dict[str, Any], bad: str) -> None:
    with pytest.raises(Exception) as caught:  # noqa: PT011 - the parameter name is what matters
        i2v(**params)
    assert getattr(caught.value, "parameter", None) == bad


def test_a_random_seed_is_recorded_and_used() -> None:
    job = render(TEMPLATES["wan22-i2v"], {"prompt": "x", "image": PNG}, rng=random.Random(3))
    seed = job.resolved_params["seed"]
    assert seed == random.Random(3).randrange(2**53)
    assert job.workflow["57"]["inputs"]["noise_seed"] == seed


def test_required_models_name_the_installed_files_by_folder() -> None:
    values = dict(
        render(
            TEMPLATES["wan22-s2v"],
            {"prompt": "x", "image": PNG, "audio": PNG},
        ).resolved_params
    )
    models = wan22_s2v.required_models(values)
    assert models["audio_encoders"] == ["wav2vec2_large_english_fp16.safetensors"]
    assert "loras" not in wan22_s2v.required_models({**values, "use_lora": False})
    i2v_values = dict(render(TEMPLATES["wan22-i2v"], {"prompt": "x", "image": PNG}).resolved_params)
    assert len(wan22_i2v.required_models(i2v_values)["diffusion_models"]) == 2
