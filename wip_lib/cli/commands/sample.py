"""``wip sample --out DIR [--seed N] [--erp NAME]``: write the fictional sample company
(deterministic); ``--erp`` writes its ERP side in that ERP's export shapes (any built-in profile;
the Procore side is the same)."""
from __future__ import annotations

import shutil
from pathlib import Path

from wip_lib.core.errors import InputError, Problem


def register(sub) -> None:
    p = sub.add_parser("sample", help="write the sample company's exports (deterministic)")
    p.add_argument("--out", type=Path, required=True, help="folder to write (replaced if it "
                   "holds a previous sample)")
    p.add_argument("--seed", type=int, default=7, help="random seed (default 7: data/sample)")
    p.add_argument("--jobs", type=int, default=30, help="number of jobs (default 30)")
    p.add_argument("--erp", default="sage300", help="ERP whose export shapes to write: "
                   "sage300 (default), sage100, vista, spectrum, quickbooks_online, "
                   "quickbooks_desktop, acumatica, intacct or foundation")
    p.set_defaults(func=run)


def run(args) -> int:
    from wip_lib.sample.generate import SampleSpec, write_sample
    from wip_lib.sources.readers.erp import builtin_profiles

    out: Path = args.out
    if args.erp not in builtin_profiles():
        raise InputError([Problem("--erp", f"no built-in ERP profile {args.erp!r}",
                                  f"use one of {', '.join(builtin_profiles())}",
                                  value=args.erp)])
    if out.exists() and any(out.iterdir()):
        if not (out / "answer_key.csv").exists():
            raise InputError([Problem(str(out), "the folder exists and is not a sample company",
                                      "choose an empty or new folder")])
        shutil.rmtree(out)
    if args.jobs < 20:
        raise InputError([Problem("--jobs", "the sample plants 14 situations on their own jobs and completes 5 more",
                                  "use --jobs 20 or more", value=str(args.jobs))])
    stats = write_sample(out, SampleSpec(seed=args.seed, n_jobs=args.jobs), erp=args.erp)
    print(f"Wrote {stats['files']} files ({stats['rows']} rows) to {out}"
          + ("" if args.erp == "sage300" else f" ({args.erp} exports)"))
    return 0
