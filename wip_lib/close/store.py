"""The period store: an embedded DuckDB file that freezes each closed month and never loses one.

Why: period amounts, fade and the WIP journal entry are measured against the *closed* prior
period, not a recomputation with today's data (a late AP invoice must not rewrite September).

Model
-----
- ``closes``: one row per close of a period (``close_id``, ``period``, ``closed_at``,
  ``closed_by``, ``status`` = closed | reopened, ``reopened_at``, ``reopened_by``,
  ``reopen_reason``). Reopening never deletes: the close is marked ``reopened`` and its figures stay
  as history; closing again writes a new ``close_id``.
- One table per artefact (``schedule``, ``completed``, ``etc_used``, ``overrides``, ``findings``,
  ``journal``, ``inputs`` ...), every row tagged with its ``close_id``. Columns come from the
  DataFrames closed; money stays BIGINT cents.
- ``audit``: every close and reopen, who, when, why.
- ``close_artefacts``: the manifest of each close: per artefact its row count and its columns
  with their pandas dtypes (JSON), written in the close's transaction. :meth:`PeriodStore.load`
  restores the dtypes (``Int64`` stays ``Int64``, ``string`` stays ``string``), and
  :meth:`PeriodStore.integrity_problems` checks that every close holds exactly what its manifest
  says (no partial close, no orphan rows).

Rules: a company's first close may be any period; after that periods close in order (the month
after the latest active close). Only the latest active close may be reopened. A close is one
transaction: a process killed mid-close leaves the store as it was before.
"""
from __future__ import annotations

import getpass
import hashlib
import json
import os
import re
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Mapping

import duckdb
import pandas as pd

from wip_lib.core import yaml_text
from wip_lib.core.errors import PeriodError
from wip_lib.core.periods import next_period

DEFAULT_FILENAME = "wip_store.duckdb"
_NAME = re.compile(r"^[a-z][a-z0-9_]*$")
META_TABLES = ("closes", "audit", "close_artefacts")


#: Setting in ``company.yaml`` naming the store file (relative to the company folder).
STORE_SETTING = "store_path"


def store_path(root: Path | str, override: Path | str | None = None) -> Path:
    """The store file of the company in ``root``: ``override``, else ``store_path`` from
    ``company.yaml`` (relative to ``root``), else ``root/wip_store.duckdb``."""
    root = Path(root)
    if override is not None:
        return Path(override)
    setting = None
    yml = root / "company.yaml"
    if yml.is_file():
        try:
            data = yaml_text.load(yml.read_text(encoding="utf-8-sig")) or {}
        except yaml_text.YAMLError:
            data = {}  # load_company reports a broken company.yaml with its line
        if isinstance(data, dict):
            setting = data.get(STORE_SETTING)
    if setting:
        p = Path(str(setting)).expanduser()
        return p if p.is_absolute() else root / p
    return root / DEFAULT_FILENAME


def open_store(root: Path | str, override: Path | str | None = None, *,
               read_only: bool = False) -> PeriodStore:
    return PeriodStore(store_path(root, override), read_only=read_only)


def current_user() -> str:
    """Who is closing: ``WIP_USER`` if set (CI, shared accounts), else the login name."""
    return os.environ.get("WIP_USER") or getpass.getuser()


def fingerprint_inputs(root: Path, *, exclude: tuple[str, ...] = (DEFAULT_FILENAME,)) -> pd.DataFrame:
    """SHA-256 of every input file below ``root`` (path relative, ``/`` separators)."""
    rows = []
    for path in sorted(p for p in root.rglob("*") if p.is_file()):
        rel = path.relative_to(root).as_posix()
        if rel.split("/")[-1].startswith(exclude) or "/." in f"/{rel}":
            continue
        digest = hashlib.sha256(path.read_bytes()).hexdigest()
        rows.append((rel, path.stat().st_size, digest))
    return pd.DataFrame(rows, columns=["file", "bytes", "sha256"]).astype(
        {"file": "string", "bytes": "int64", "sha256": "string"})


def inputs_fingerprint(inputs: pd.DataFrame | None) -> str:
    """One fingerprint of a close's input files: the first 16 hex digits of the SHA-256 of the
    lines ``path<TAB>sha256`` of every file, sorted by path (empty when nothing was recorded).
    Two closes with the same fingerprint were computed from byte-identical files."""
    if inputs is None or inputs.empty or "sha256" not in inputs.columns:
        return ""
    rows = sorted(zip(inputs["file"].astype(str), inputs["sha256"].astype(str)))
    text = "".join(f"{f}\t{h}\n" for f, h in rows)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]


@dataclass(frozen=True, slots=True)
class Close:
    close_id: int
    period: str
    closed_at: str
    closed_by: str
    status: str


class PeriodStore:
    """A company's closed periods. Open with ``PeriodStore(path)``; use as a context manager."""

    def __init__(self, path: Path | str, *, read_only: bool = False):
        self.path = Path(path)
        if read_only and not self.path.exists():
            self.con = duckdb.connect(":memory:")
        else:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self.con = duckdb.connect(str(self.path), read_only=read_only)
        if not read_only:
            self._init()
        elif self.path.exists() is False:
            self._init()

    def _q(self, sql: str, params: list | None = None) -> list[tuple]:
        # DuckDB 2 wants every result consumed before the next statement on a connection.
        return self.con.execute(sql, params or []).fetchall()

    def _df(self, sql: str, params: list | None = None) -> pd.DataFrame:
        return self.con.execute(sql, params or []).df()

    def __enter__(self) -> "PeriodStore":
        return self

    def __exit__(self, *exc) -> None:
        self.close_connection()

    def close_connection(self) -> None:
        self.con.close()

    def _init(self) -> None:
        self._q("""
            CREATE TABLE IF NOT EXISTS closes (
                close_id BIGINT PRIMARY KEY, period VARCHAR NOT NULL, closed_at VARCHAR NOT NULL,
                closed_by VARCHAR NOT NULL, status VARCHAR NOT NULL, reopened_at VARCHAR,
                reopened_by VARCHAR, reopen_reason VARCHAR);
            CREATE TABLE IF NOT EXISTS audit (
                happened_at VARCHAR NOT NULL, who VARCHAR NOT NULL, action VARCHAR NOT NULL,
                period VARCHAR NOT NULL, close_id BIGINT, detail VARCHAR);
            CREATE TABLE IF NOT EXISTS close_artefacts (
                close_id BIGINT NOT NULL, artefact VARCHAR NOT NULL, n_rows BIGINT NOT NULL,
                columns VARCHAR NOT NULL);
        """)

    # -- reading ---------------------------------------------------------------------------
    def closes(self) -> pd.DataFrame:
        return self._df("SELECT * FROM closes ORDER BY close_id")

    def active(self) -> pd.DataFrame:
        return self._df("SELECT * FROM closes WHERE status = 'closed' ORDER BY period")

    def active_close(self, period: str) -> Close | None:
        rows = self._q(
            "SELECT close_id, period, closed_at, closed_by, status FROM closes "
            "WHERE period = ? AND status = 'closed'", [period])
        return Close(*rows[0]) if rows else None

    def is_closed(self, period: str) -> bool:
        return self.active_close(period) is not None

    def latest_closed(self) -> str | None:
        rows = self._q("SELECT max(period) FROM closes WHERE status = 'closed'")
        return rows[0][0] if rows and rows[0][0] else None

    def tables(self) -> list[str]:
        return [r[0] for r in self._q(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = 'main'")]

    def load(self, period: str, artefact: str) -> pd.DataFrame | None:
        """The artefact as closed for ``period`` (active close), or None if not closed."""
        close = self.active_close(period)
        if close is None:
            return None
        return self.load_close(close.close_id, artefact)

    def load_close(self, close_id: int, artefact: str) -> pd.DataFrame:
        """The artefact of one close, active or reopened (reopened closes stay as history)."""
        _check_name(artefact)
        if artefact not in self.tables():
            return pd.DataFrame()
        df = self._df(f"SELECT * FROM {artefact} WHERE close_id = ? ORDER BY _seq", [close_id])
        df = df.drop(columns=["close_id", "_seq"]).reset_index(drop=True)
        return _restore(df, self._columns(artefact, close_id))

    def history(self, artefact: str) -> pd.DataFrame:
        """Every active close's rows of ``artefact``, with their period, oldest first."""
        _check_name(artefact)
        if artefact not in self.tables():
            return pd.DataFrame()
        df = self._df(
            f"SELECT c.period AS closed_period, a.* FROM {artefact} a JOIN closes c USING (close_id) "
            "WHERE c.status = 'closed' ORDER BY c.period, a._seq")
        df = df.drop(columns=["close_id", "_seq"]).reset_index(drop=True)
        df["closed_period"] = df["closed_period"].astype("string")
        return _restore(df, self._columns(artefact, None))

    def manifest(self, close_id: int | None = None) -> pd.DataFrame:
        """``close_id, artefact, n_rows, columns`` of every close (or one)."""
        if "close_artefacts" not in self.tables():
            return pd.DataFrame(columns=["close_id", "artefact", "n_rows", "columns"])
        where, params = ("WHERE close_id = ?", [close_id]) if close_id is not None else ("", [])
        return self._df(f"SELECT * FROM close_artefacts {where} ORDER BY close_id, rowid", params)

    def _columns(self, artefact: str, close_id: int | None) -> list[list[str]]:
        """Column names and dtypes recorded for ``artefact`` (one close, or the latest close)."""
        if "close_artefacts" not in self.tables():
            return []
        if close_id is None:
            rows = self._q("SELECT columns FROM close_artefacts WHERE artefact = ? "
                           "ORDER BY close_id DESC LIMIT 1", [artefact])
        else:
            rows = self._q("SELECT columns FROM close_artefacts WHERE artefact = ? AND "
                           "close_id = ?", [artefact, close_id])
        return json.loads(rows[0][0]) if rows else []

    def integrity_problems(self) -> list[str]:
        """What would make the store inconsistent: rows of a close that is not recorded, or a
        recorded close whose artefacts do not hold exactly the rows of its manifest. Empty when
        every close is whole (the state a committed transaction leaves)."""
        problems = []
        known = {r[0] for r in self._q("SELECT close_id FROM closes")}
        tables = set(self.tables())
        man = self.manifest()
        for cid in sorted(set(man["close_id"]) - known):
            problems.append(f"manifest rows for unknown close {cid}")
        for table in sorted(tables - set(META_TABLES)):
            ids = {r[0] for r in self._q(f"SELECT DISTINCT close_id FROM {table}")}
            for cid in sorted(ids - known):
                problems.append(f"{table}: rows of unknown close {cid}")
        for r in man.itertuples():
            if r.close_id not in known:
                continue
            if r.artefact not in tables:
                problems.append(f"close {r.close_id}: table {r.artefact} missing")
                continue
            n = self._q(f"SELECT count(*) FROM {r.artefact} WHERE close_id = ?", [r.close_id])[0][0]
            if n != r.n_rows:
                problems.append(f"close {r.close_id}: {r.artefact} holds {n} rows, its manifest "
                                f"says {r.n_rows}")
        with_manifest = set(man["close_id"])
        if len(man):
            for cid in sorted(known - with_manifest):
                problems.append(f"close {cid} has no manifest")
        return problems

    def audit(self) -> pd.DataFrame:
        return self._df("SELECT * FROM audit ORDER BY rowid")

    # -- writing ---------------------------------------------------------------------------
    def close_period(self, period: str, artefacts: Mapping[str, pd.DataFrame], *,
                     who: str | None = None, now: datetime | None = None) -> Close:
        """Freeze ``period`` with its artefacts in one transaction."""
        who = who or current_user()
        at = (now or datetime.now(timezone.utc)).isoformat(timespec="seconds")
        self.check_can_close(period)
        for name in artefacts:
            _check_name(name)
        self._q("BEGIN TRANSACTION")
        try:
            close_id = self._q("SELECT coalesce(max(close_id), 0) + 1 FROM closes")[0][0]
            for name, df in artefacts.items():
                stored = self._append(name, df, close_id)
                self._q("INSERT INTO close_artefacts VALUES (?, ?, ?, ?)",
                        [close_id, name, len(stored), json.dumps(
                            [[str(c), str(t)] for c, t in stored.dtypes.items()])])
            self._q("INSERT INTO closes VALUES (?, ?, ?, ?, 'closed', NULL, NULL, NULL)",
                             [close_id, period, at, who])
            self._q("INSERT INTO audit VALUES (?, ?, 'close', ?, ?, ?)",
                             [at, who, period, close_id,
                              ", ".join(f"{k}: {len(v)} rows" for k, v in artefacts.items())])
            self._q("COMMIT")
        except BaseException:
            self._q("ROLLBACK")
            raise
        return Close(close_id, period, at, who, "closed")

    def check_can_close(self, period: str, data_dir: Path | str | None = None) -> None:
        """Raise :class:`PeriodError` unless ``period`` may be closed now (not closed; the first
        close of the company, or the month after the latest active close). ``data_dir``: the
        company folder, so the message's reopen command is the one to type (with ``--store``
        when this store is not the folder's own)."""
        if self.is_closed(period):
            c = self.active_close(period)
            raise PeriodError(
                f"{period} is already closed (closed {c.closed_at} by {c.closed_by}). "
                f"To change it, reopen it first: {self.reopen_command(period, data_dir)}")
        latest = self.latest_closed()
        if latest is not None and period != next_period(latest):
            if period < latest:
                raise PeriodError(
                    f"cannot close {period}: {latest} is already closed and periods close in "
                    f"order. Reopen {latest} (and any later period) first.")
            raise PeriodError(
                f"cannot close {period}: the next period to close is {next_period(latest)} "
                f"(the latest closed is {latest}). Close the periods in between first.")

    def reopen_command(self, period: str, data_dir: Path | str | None = None) -> str:
        """The ``wip reopen`` command for ``period`` of this store, with the real folder."""
        import shlex

        if data_dir is None:
            return f"wip reopen DATA_DIR --period {period} --reason \"...\""
        cmd = f"wip reopen {shlex.quote(str(data_dir))} --period {period} --reason \"...\""
        if self.path.resolve() != store_path(data_dir).resolve():
            cmd += f" --store {shlex.quote(str(self.path))}"
        return cmd

    def reopen(self, period: str, reason: str, *, who: str | None = None,
               now: datetime | None = None) -> Close:
        """Mark the active close of ``period`` reopened (its rows stay, as history) and log who
        and why. Returns the close that was reopened."""
        who = who or current_user()
        at = (now or datetime.now(timezone.utc)).isoformat(timespec="seconds")
        if not reason or not reason.strip():
            raise PeriodError("a reopen needs a reason: --reason \"why the period is reopened\"")
        close = self.active_close(period)
        if close is None:
            raise PeriodError(f"{period} is not closed, so there is nothing to reopen")
        latest = self.latest_closed()
        if latest != period:
            raise PeriodError(f"cannot reopen {period} while {latest} is closed: reopen the later "
                              "periods first, newest first")
        self._q("BEGIN TRANSACTION")
        try:
            self._q("UPDATE closes SET status = 'reopened', reopened_at = ?, "
                             "reopened_by = ?, reopen_reason = ? WHERE close_id = ?",
                             [at, who, reason.strip(), close.close_id])
            self._q("INSERT INTO audit VALUES (?, ?, 'reopen', ?, ?, ?)",
                             [at, who, period, close.close_id, reason.strip()])
            self._q("COMMIT")
        except BaseException:
            self._q("ROLLBACK")
            raise
        return close

    def _append(self, name: str, df: pd.DataFrame, close_id: int) -> pd.DataFrame:
        df = _storable(df)
        frame = df.assign(close_id=close_id, _seq=range(len(df)))
        frame = frame.astype({"_seq": "int64", "close_id": "int64"})
        self.con.register("_incoming", frame)
        try:
            if name not in self.tables():
                self._q(f"CREATE TABLE {name} AS SELECT * FROM _incoming")
            else:
                existing = [r[0] for r in self._q(
                    "SELECT column_name FROM information_schema.columns WHERE table_name = ?",
                    [name])]
                types = {r[0]: r[1] for r in self._q("DESCRIBE SELECT * FROM _incoming")}
                for col in frame.columns:
                    if col not in existing:
                        # A later release may add a column; older closes keep NULL there.
                        sql_type = types.get(col) or "VARCHAR"
                        if sql_type == '"NULL"':
                            sql_type = "VARCHAR"
                        self._q(f'ALTER TABLE {name} ADD COLUMN "{col}" {sql_type}')
                cols = ", ".join(f'"{c}"' for c in frame.columns)
                self._q(f"INSERT INTO {name} ({cols}) SELECT {cols} FROM _incoming")
        finally:
            self.con.unregister("_incoming")
        return df


def changed_inputs(closed: pd.DataFrame, current: pd.DataFrame) -> pd.DataFrame:
    """Files added, removed or changed since a close: ``file, change``."""
    a = closed.set_index("file")["sha256"]
    b = current.set_index("file")["sha256"]
    rows = [(f, "removed") for f in a.index.difference(b.index)]
    rows += [(f, "added") for f in b.index.difference(a.index)]
    both = a.index.intersection(b.index)
    rows += [(f, "changed") for f in both if a[f] != b[f]]
    return pd.DataFrame(sorted(rows), columns=["file", "change"])


def _check_name(name: str) -> None:
    if not _NAME.match(name) or name in META_TABLES:
        raise ValueError(f"not an artefact name: {name!r}")


def _storable(df: pd.DataFrame) -> pd.DataFrame:
    """``df`` with a plain index and no untyped columns: an ``object`` column (all ``None``, or
    mixed) is stored as text, so that DuckDB never creates a column of type NULL."""
    out = df.reset_index(drop=True)
    if any(c in ("close_id", "_seq") for c in out.columns):
        raise ValueError("close_id and _seq are the store's own columns")
    obj = [c for c in out.columns if out[c].dtype == object]
    if obj:
        out = out.copy()
        for c in obj:
            out[c] = out[c].map(lambda v: v if v is None or pd.isna(v) else str(v)).astype(
                "string")
    return out


def _restore(df: pd.DataFrame, columns: list[list[str]]) -> pd.DataFrame:
    """Give ``df`` the pandas dtypes recorded at the close (DuckDB hands back ``int64`` for an
    ``Int64`` column without nulls, ``str`` for ``string``)."""
    for col, dtype in columns:
        if col in df.columns and str(df[col].dtype) != dtype:
            try:
                df[col] = df[col].astype(dtype)
            except (TypeError, ValueError):
                pass  # a dtype this pandas cannot build: keep what DuckDB gave
    return df
