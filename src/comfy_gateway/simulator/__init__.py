"""A protocol-faithful fake ComfyUI for tests, benchmarks and demos.

Run it with ``comfy-gateway simulate``; in-process, ``create_app(Simulator(settings))``.
It shares no code with ``comfy_gateway.comfy`` (the client) on purpose.

    server.py          uvicorn runner, "SIMULATOR READY <url>" line
    app.py             Starlette app: ComfyUI routes (+ /api copies), /ws, /_sim/*
    comfy_routes.py    ComfyUI's HTTP routes         control_routes.py  /_sim/* routes
    http_files.py      /view and /upload/image       responses.py       aiohttp-shaped replies
    state.py           Simulator: every part assembled from SimulatorSettings (config.py)
    prompt_queue.py    the heap of pending prompts   history.py         history + executions
    worker.py          the prompt worker thread      executor.py        one prompt, in order
    graph.py           execution order, signatures   node_cache.py      ComfyUI's classic cache
    node_runtime.py    NodeContext for nodes/        progress.py        progress_state payloads
    sockets.py         WebSocket routing             messages.py        pure WS payload builders
    faults.py          injected faults               catalogue.py, validation/, nodes/  (see there)
"""
