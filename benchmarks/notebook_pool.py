"""Project dashboards per second on warm kernels, nothing else running: the month-end's notebook
stage in its steady state (after the workbook written beside it is done).

    python -m benchmarks.notebook_pool REPORT_DIR [--workers 2] [--notebooks 120]

``REPORT_DIR`` is a period's month-end output (``.../2026-10``, holding ``data/``), e.g. the
one ``benchmarks.run --only month_end_scale`` leaves under ``benchmarks/data/month-end-out/``.
Its computed period is copied to a scratch folder; each kernel first runs two notebooks (its
start, imports and the period's first load), then ``--notebooks`` more are timed."""
from __future__ import annotations

import argparse
import json
import shutil
import tempfile
import time
from pathlib import Path

from wip_lib.cli.commands.month_end import PRELOAD, PROJECT_NB, ROOT, _runs
from wip_lib.close import bundle as bundles
from wip_lib.reports.notebooks import INLINE_PLOTLY, NotebookPool


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m benchmarks.notebook_pool",
                                 description=__doc__.split("\n")[0])
    ap.add_argument("report_dir", type=Path)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--notebooks", type=int, default=120)
    a = ap.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="wip-pool-") as tmp:
        out = Path(tmp)
        shutil.copytree(a.report_dir / "data", out / "data")
        b = bundles.load(out / "data")
        runs = [r for r in _runs(b, out, out, PROJECT_NB)
                if r.key not in ("portfolio", "reconciliation")]
        warm = runs[:2 * a.workers]
        timed = runs[2 * a.workers:2 * a.workers + a.notebooks]
        with NotebookPool(a.workers, ROOT, preload=PRELOAD, log=out / "kernels.log") as pool:
            pool.run(warm, plotly_src_for=lambda r: INLINE_PLOTLY, progress=False)
            t = time.perf_counter()
            res = pool.run(timed, plotly_src_for=lambda r: INLINE_PLOTLY, progress=False)
            seconds = time.perf_counter() - t
    print(json.dumps({"name": "notebook_pool", "workers": a.workers, "notebooks": len(timed),
                      "ok": sum(r.ok for r in res), "seconds": round(seconds, 3),
                      "notebooks_per_s": round(len(timed) / seconds, 3)}))
    return 0 if all(r.ok for r in res) else 1


if __name__ == "__main__":
    raise SystemExit(main())
