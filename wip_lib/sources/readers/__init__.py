"""Company folder -> :class:`~wip_lib.core.settings.Company`: the only place files become tables.

``read_company`` returns everything it learnt (tables, problems, per-file reports) so
``wip validate`` can print the counts; ``load_company`` is what the rest of the workbook calls: it
raises :class:`~wip_lib.core.errors.InputError` listing every problem when any is an error.
"""
from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from wip_lib.core import schema
from wip_lib.core.errors import InputError, Problem
from wip_lib.core.memory import reading_pool, release_unused
from wip_lib.core.settings import Company, Settings
from wip_lib.sources import validate
from wip_lib.sources.export_size import exports_bytes, folder_bytes
from wip_lib.sources.overrides_file import read_all_overrides
from wip_lib.sources.readers.erp import read_erp
from wip_lib.sources.readers.procore import read_procore
from wip_lib.sources.readers.tabular import FileReport


@dataclass
class ReadResult:
    company: Company | None
    problems: list[Problem]
    reports: list[FileReport]

    @property
    def ok(self) -> bool:
        return not any(p.severity == "error" for p in self.problems)


def read_company(root: Path | str) -> ReadResult:
    root = Path(root)
    if not root.is_dir():
        raise InputError([Problem(str(root), "company folder not found",
                                  "give the folder that holds company.yaml, procore/ and erp/")])
    settings = Settings.load(root / "company.yaml")
    erp_bytes = folder_bytes(root / "erp")
    with reading_pool(exports_bytes(root)):
        if erp_bytes >= ERP_THREAD_BYTES:
            # The ERP's exports beside Procore's: much of a large read is pyarrow's parsing and
            # Arrow kernels, which release the GIL, so the two sides share the cores
            # (reading_pool: the memory). The ERP's side has ended first (30 and 2,000 jobs):
            # Procore's exports that nothing else waits for are read there after it, unless
            # Procore's side is done first and takes them back (procore.BESIDE).
            with ThreadPoolExecutor(max_workers=1) as pool:
                erp = pool.submit(read_erp, root, settings)
                p_tables, problems, reports = read_procore(root, settings, pool)
                e_tables, e_probs, e_reports, erp_facts = erp.result()
        else:
            p_tables, problems, reports = read_procore(root, settings)
            e_tables, e_probs, e_reports, erp_facts = read_erp(root, settings)
    problems += e_probs
    reports += e_reports
    read = {**p_tables, **e_tables}
    # An empty typed frame only for a table no reader returned (building one costs milliseconds).
    tables = {**{n: t.empty() for n, t in schema.TABLES.items() if n not in read}, **read}
    tables, rule_probs, rejected = validate.run_rules(tables, settings)
    problems += rule_probs
    by_file = {r.file: r for r in reports}
    for name, mask in rejected.items():
        df_files = _rejected_files(name, mask, p_tables, e_tables)
        for f, n in df_files.items():
            if f in by_file:
                by_file[f].rows_accepted -= n
                by_file[f].rows_reported += n
    overrides, ov_problems = read_all_overrides(root)
    problems += ov_problems
    company = Company.from_tables(settings, tables, root, overrides, erp_facts)
    del read, p_tables, e_tables
    # the exports' text, freed, is not kept from the steps that follow
    release_unused(rows=sum(r.rows_in for r in reports))
    return ReadResult(company, problems, reports)


#: ERP exports of at least this many bytes are read on a second thread beside Procore's. Below
#: it the read is mostly pandas steps, which hold the GIL: on the sample (1 MB of ERP exports)
#: two threads took 4-7% longer than one, and more CPU. Above it the columns' conversions in
#: Arrow (which release the GIL) overlap: the 30-job company (8 MB) read 8-19% faster
#: (2026-12-02, with the columns converted in Arrow), 300 jobs (79 MB) a tenth faster.
ERP_THREAD_BYTES = 4 * 2**20


def _rejected_files(name, mask, p_tables, e_tables) -> dict[str, int]:
    df = p_tables.get(name)
    if df is None:
        df = e_tables.get(name)
    if df is None or df.empty or "_file" not in df.columns:
        return {}
    return df.loc[mask.to_numpy(), "_file"].value_counts().to_dict()


def load_company(root: Path | str) -> Company:
    """Read and validate a company folder; raise InputError listing every error found."""
    result = read_company(root)
    if not result.ok:
        raise InputError(result.problems)
    return result.company


__all__ = ["ReadResult", "read_company", "load_company", "FileReport"]
