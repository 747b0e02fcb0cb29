"""Comparing two runs of the same notebooks (warm kernels against cold ones, a cluster against this
machine): what legitimately differs between two runs is normalised away, and nothing else."""
from __future__ import annotations

import json
import re
from pathlib import Path

UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
TIMING_KEYS = {"start_time", "end_time", "duration"}


def normalise_notebook(nb: dict, out: Path) -> str:
    """The executed notebook as text, with what legitimately differs between two runs taken
    out: Papermill's and nbclient's timings, the injected cell's random id, chart ids, the
    run's own output folder, and how a cell's printed text was cut into stream messages (the
    kernel flushes on a timer: one line may arrive as one output or two, shown the same)."""
    nb = json.loads(json.dumps(nb))
    for k in TIMING_KEYS:
        nb["metadata"]["papermill"].pop(k, None)
    for cell in nb["cells"]:
        merged: list = []
        for o in cell.get("outputs", []):
            if (merged and o.get("output_type") == "stream"
                    and merged[-1].get("output_type") == "stream"
                    and merged[-1].get("name") == o.get("name")):
                merged[-1]["text"] = "".join(merged[-1]["text"]) + "".join(o["text"])
            else:
                merged.append(o)
        if "outputs" in cell:
            cell["outputs"] = merged
        cell["metadata"].pop("execution", None)
        for k in TIMING_KEYS:
            cell["metadata"].get("papermill", {}).pop(k, None)
        if "injected-parameters" in cell["metadata"].get("tags", []):
            cell.pop("id", None)
    text = json.dumps(nb, sort_keys=True, indent=1)
    return UUID.sub("<uuid>", text.replace(str(out), "<out>"))


def normalise_page(html: str, nb, out: Path) -> str:
    """The page as text, normalised as its notebook is (the page names each cell by its id)."""
    for cell in nb.cells:
        if "injected-parameters" in cell.metadata.get("tags", []):
            html = html.replace(f"cell-id={cell.id}", "cell-id=<injected>")
    return UUID.sub("<uuid>", html.replace(str(out), "<out>"))
