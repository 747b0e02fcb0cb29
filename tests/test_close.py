"""Month-end close of the sample company: close, refuse, reopen with a reason, close again; period
amounts against the prior *closed* figures; history as closed; re-run identical; changed inputs
named; a close killed (SIGKILL) mid-transaction leaves the old state or the new one, never a part.

The sample is copied to a temporary folder (never written in place) and loaded once per module;
2026-07 (the company's first close) and 2026-08 are closed once into a base store that each test
copies, so every test starts from the same state and may change its copy.
"""
import csv
import pickle
import random
import shutil
import signal
import subprocess
import sys
import textwrap
import time
from decimal import Decimal
from pathlib import Path

import pandas as pd
import pytest

import wip_lib.sources.readers
from wip_lib.close import close as closing
from wip_lib.close.store import store_path
from wip_lib.accounting import forecast
from wip_lib.cli.main import main
from wip_lib.core.settings import Company
from wip_lib.core.errors import PeriodError
from wip_lib.accounting.overrides import apply_overrides
from wip_lib.sources.readers import load_company
from wip_lib.accounting.schedule import PRIOR_ASOF, PRIOR_CLOSED, PRIOR_NONE
from wip_lib.close.store import PeriodStore

SAMPLE = Path(__file__).resolve().parents[1] / "data" / "sample"
JCT = "erp/JCT_CURRENT__TRANSACTION.csv"


@pytest.fixture(scope="module")
def company_dir(tmp_path_factory) -> Path:
    d = tmp_path_factory.mktemp("company") / "sample"
    shutil.copytree(SAMPLE, d, ignore=shutil.ignore_patterns("wip_store.duckdb*"))
    return d


@pytest.fixture(scope="module")
def company(company_dir) -> Company:
    return load_company(company_dir)


@pytest.fixture(scope="module")
def closed(company, company_dir, tmp_path_factory) -> tuple[Path, dict]:
    """A store with 2026-07 (first close) and 2026-08 closed by ana, and those closes."""
    path = tmp_path_factory.mktemp("base") / "wip_store.duckdb"
    with PeriodStore(path) as s:
        done = {p: closing.close_period(company, p, s, who="ana") for p in ("2026-07", "2026-08")}
    return path, done


@pytest.fixture(scope="module")
def base_store(closed) -> Path:
    return closed[0]


@pytest.fixture
def store_file(base_store, tmp_path) -> Path:
    path = tmp_path / "store" / "wip_store.duckdb"
    path.parent.mkdir()
    shutil.copy(base_store, path)
    return path


def run_cli(capsys, *argv) -> tuple[int, str, str]:
    rc = main([str(a) for a in argv])
    out = capsys.readouterr()
    return rc, out.out, out.err


def test_close_refuse_reopen_with_reason_close_again(company, company_dir, store_file, capsys,
                                                     monkeypatch):
    d = company_dir
    # refused before anything is computed, with a clear message and a non-zero exit
    rc, _, err = run_cli(capsys, "close", d, "--period", "2026-08", "--store", store_file)
    assert rc == 1 and "2026-08 is already closed" in err and "by ana" in err
    # the reopen command to type: the real folder (and this store, not the folder's own)
    assert f"wip reopen {d} --period 2026-08" in err and f"--store {store_file}" in err
    rc, _, err = run_cli(capsys, "close", d, "--period", "2026-07", "--store", store_file)
    assert rc == 1 and "already closed" in err
    rc, _, err = run_cli(capsys, "close", d, "--period", "2026-10", "--store", store_file)
    assert rc == 1 and "the next period to close is 2026-09" in err
    rc, _, err = run_cli(capsys, "reopen", d, "--period", "2026-07", "--reason", "typo",
                         "--store", store_file)
    assert rc == 1 and "reopen the later periods first" in err
    rc, _, err = run_cli(capsys, "reopen", d, "--period", "2026-08", "--reason", "  ",
                         "--store", store_file)
    assert rc == 1 and "needs a reason" in err

    monkeypatch.setenv("WIP_USER", "ben")
    rc, out, _ = run_cli(capsys, "reopen", d, "--period", "2026-08", "--reason",
                         "late AP invoice from Acme", "--store", store_file)
    assert rc == 0 and "Reopened 2026-08 by ben" in out
    with PeriodStore(store_file) as s:
        assert not s.is_closed("2026-08") and s.latest_closed() == "2026-07"
        closes = s.closes()
        old = closes[closes["period"] == "2026-08"].iloc[0]
        assert (old["status"], old["reopened_by"], old["reopen_reason"]) == (
            "reopened", "ben", "late AP invoice from Acme")
        last = s.audit().iloc[-1]
        assert (last["action"], last["who"], last["period"], last["detail"]) == (
            "reopen", "ben", "2026-08", "late AP invoice from Acme")

        again = closing.close_period(company, "2026-08", s)  # who: WIP_USER
        assert again.close.closed_by == "ben" and again.close.close_id > old["close_id"]
        assert s.closes()["status"].tolist() == ["closed", "reopened", "closed"]
        # unchanged inputs: the new close holds exactly the figures of the reopened one
        for name in closing.ARTEFACTS:
            pd.testing.assert_frame_equal(s.load("2026-08", name),
                                          s.load_close(int(old["close_id"]), name))
        with pytest.raises(PeriodError, match="already closed"):
            closing.close_period(company, "2026-08", s)
        assert s.integrity_problems() == []


def test_period_amounts_are_figures_minus_prior_closed_figures(base_store):
    with PeriodStore(base_store, read_only=True) as s:
        prior = s.load("2026-07", "schedule").set_index("job_id")
        cur = s.load("2026-08", "schedule").set_index("job_id")
        totals = pd.concat([s.load(p, "totals") for p in ("2026-07", "2026-08")]
                           ).set_index("period")
    assert len(cur) and prior.index.isin(cur.index).all()

    def p(col):  # the prior closed figure, 0 for a job not in the prior period
        return prior[col].reindex(cur.index).fillna(0).astype("int64")

    assert (cur["revenue_period"] == cur["earned_revenue"] - p("earned_revenue")).all()
    assert (cur["cost_period"] == cur["cost_to_date"] - p("cost_to_date")
            + cur["loss_provision"] - p("loss_provision")).all()
    assert (cur["gross_profit_period"] == cur["revenue_period"] - cur["cost_period"]).all()
    both = cur.index.intersection(prior.index)
    fade = cur.loc[both, "est_gross_profit"] - prior.loc[both, "est_gross_profit"]
    assert fade.equals(cur.loc[both, "fade"])
    assert (cur.loc[both, "prior_source"] == PRIOR_CLOSED).all()
    assert (cur.loc[cur.index.difference(both), "prior_source"] == PRIOR_NONE).all()
    # the first close of the company had no closed prior: it says so
    assert totals.loc["2026-07", "prior_source"] == PRIOR_ASOF
    assert totals.loc["2026-08", "prior_source"] == PRIOR_CLOSED
    assert totals.loc["2026-08", "revenue_period"] == cur["revenue_period"].sum()


def test_close_freezes_etc_used_with_overrides_and_input_fingerprints(company, company_dir,
                                                                       base_store):
    with PeriodStore(base_store, read_only=True) as s:
        etc = s.load("2026-08", "etc_used")
        sched = s.load("2026-08", "schedule")
        inputs = s.load("2026-08", "inputs")
        manifest = s.manifest()
        assert s.integrity_problems() == []
    assert set(manifest["artefact"]) == set(closing.ARTEFACTS)
    assert inputs.equals(closing.fingerprints(company_dir))
    assert inputs["file"].str.startswith("erp/").any() and "company.yaml" in set(inputs["file"])
    # the ETC used by cost code adds up to each job's estimated cost to complete
    by_job = etc.groupby("job_id")["etc_used"].sum()
    s8 = sched.set_index("job_id")["est_cost_to_complete"].dropna()
    assert (by_job.reindex(s8.index) == s8).all()
    assert etc["etc_used"].dtype == "int64"
    assert etc["override_who"].isna().all()  # the sample has no overrides in 2026-08

    # an override: the rows it set carry who / when / why
    fc = forecast.cost_to_complete(company, "2026-08")
    row = fc.iloc[0]
    ov = pd.DataFrame({"job_id": [row["job_id"]], "cost_code": [row["cost_code"]],
                       "cost_type": [""], "etc_amount": [123_456_00], "who": ["carla"],
                       "when": pd.to_datetime(["2026-09-03T10:00"]).astype("datetime64[us]"),
                       "why": ["PM forecast omits the crane"]})
    used = closing.etc_used(apply_overrides(fc, ov), ov)
    hit = used[used["override_who"].notna()]
    assert len(hit) >= 1 and (hit["job_id"] == row["job_id"]).all()
    assert set(hit["override_why"]) == {"PM forecast omits the crane"}
    assert hit["etc_used"].sum() == 123_456_00 and (hit["override_amount"] == 123_456_00).all()


def test_rerun_identical_and_changed_inputs_named(company, company_dir, store_file, tmp_path,
                                                  capsys):
    with PeriodStore(store_file) as s:
        v = closing.verify_period(company, "2026-08", s)
        assert v.identical and v.changed_files.empty, v.differences.head()

    # change one cost on disk (a copy of the company folder) ...
    changed = tmp_path / "changed"
    shutil.copytree(company_dir, changed)
    with open(changed / JCT, newline="") as f:
        rows = list(csv.reader(f))
    amount = rows[0].index("Amount")
    rows[1][amount] = str(Decimal(rows[1][amount]) + 100)
    with open(changed / JCT, "w", newline="") as f:
        csv.writer(f, lineterminator="\n").writerows(rows)
    with PeriodStore(store_file) as s:
        diff = closing.input_changes(s, "2026-08", changed)
    assert diff.values.tolist() == [[JCT, "changed"]]
    rc, _, err = run_cli(capsys, "close", changed, "--period", "2026-08", "--store", store_file)
    assert rc == 1 and "already closed" in err
    assert f"1 input file changed since 2026-08 was closed: {JCT} (changed)" in err

    # ... and the same change in the tables: the re-run names the figures that moved
    jc = company["erp_job_cost"].copy()
    i = jc.index[jc["period"] <= "2026-08"][0]
    jc.loc[i, "amount"] += 10000
    job = jc.loc[i, "job_id"]
    moved = Company.from_tables(company.settings, {**company.tables, "erp_job_cost": jc},
                                root=changed)
    with PeriodStore(store_file) as s:
        v = closing.verify_period(moved, "2026-08", s)
        assert s.load("2026-08", "schedule").set_index("job_id").loc[job, "cost_to_date"] == \
            v.result.schedule.set_index("job_id").loc[job, "cost_to_date"] - 10000
    assert not v.identical
    assert v.changed_files.values.tolist() == [[JCT, "changed"]]
    d = v.differences
    assert ((d["artefact"] == "schedule") & (d["row"] == job) & (d["column"] == "cost_to_date")
            ).any()


def test_close_through_shows_progress_and_skips_closed(company, company_dir, store_file, capsys,
                                                       monkeypatch):
    monkeypatch.setattr(wip_lib.sources.readers, "load_company", lambda root: company)
    rc, out, _ = run_cli(capsys, "close", company_dir, "--through", "2026-09", "--store",
                         store_file)
    assert rc == 0, out
    assert "Closing 2026-09 .. 2026-09 (1 period)" in out and "latest closed so far: 2026-08" in out
    assert "[1/1] 2026-09 closed (close 3)" in out and "latest closed: 2026-09" in out
    rc, out, _ = run_cli(capsys, "close", company_dir, "--from", "2026-08", "--through",
                         "2026-09", "--store", store_file)
    assert rc == 0 and "[1/2] 2026-08 already closed, skipped" in out
    assert "[2/2] 2026-09 already closed, skipped" in out
    rc, _, err = run_cli(capsys, "close", company_dir, "--from", "2026-11", "--through",
                         "2026-12", "--store", store_file)
    assert rc == 1 and "the next period to close is 2026-10" in err
    with PeriodStore(store_file) as s:
        assert s.active()["period"].tolist() == ["2026-07", "2026-08", "2026-09"]
        assert s.load("2026-09", "totals")["prior_source"].tolist() == [PRIOR_CLOSED]
    assert closing.first_period(company) == "2025-01"


def test_store_path_setting(tmp_path):
    (tmp_path / "company.yaml").write_text("name: X\ncurrent_period: 2026-10\n")
    assert store_path(tmp_path) == tmp_path / "wip_store.duckdb"
    (tmp_path / "company.yaml").write_text(
        "name: X\ncurrent_period: 2026-10\nstore_path: ../stores/x.duckdb\n")
    assert store_path(tmp_path) == tmp_path / "../stores/x.duckdb"
    assert store_path(tmp_path, tmp_path / "y.duckdb") == tmp_path / "y.duckdb"


def test_compare_frames_names_the_figures_that_moved():
    a = pd.DataFrame({"job_id": pd.Series(["001", "002"], dtype="string"),
                      "cost_to_date": pd.Series([100, 200], dtype="int64"),
                      "fade": pd.Series([pd.NA, 5], dtype="Int64")})
    assert closing.compare_frames("schedule", a, a.copy()).empty
    assert closing.compare_frames("schedule", a.iloc[:0], a.iloc[:0]).empty
    b = a.copy()
    b.loc[1, "cost_to_date"] = 250
    b = pd.concat([b, a.iloc[:1].assign(job_id="003")], ignore_index=True)
    d = closing.compare_frames("schedule", a, b)
    assert d[["row", "column", "closed", "now"]].values.tolist() == [
        ["003", "", "(none)", "row"], ["002", "cost_to_date", "200", "250"]]
    assert closing.compare_frames("journal", a, b)["closed"].tolist() == ["2 rows"]


# -- SIGKILL in the middle of a close ------------------------------------------------------------
FREEZER = textwrap.dedent("""
    import pickle, sys, time
    from wip_lib.close import close as closing
    from wip_lib.close.store import PeriodStore

    result, inputs = pickle.loads(open(sys.argv[2], "rb").read())
    pause = float(sys.argv[3])
    append = PeriodStore._append

    def slow_append(self, name, df, close_id):
        # Widens the transaction (ten artefacts) so that a kill at a random moment lands
        # inside it; the writes themselves are the store's own.
        print("writing", name, flush=True)
        out = append(self, name, df, close_id)
        time.sleep(pause)
        return out

    PeriodStore._append = slow_append
    with PeriodStore(sys.argv[1]) as s:
        print("ready", flush=True)
        c = closing.freeze(s, result, inputs, who="ci")
    print("committed", c.close_id, flush=True)
""")


def _state(s: PeriodStore) -> dict:
    return {"closes": s.closes(), "audit": len(s.audit()),
            "rows": {t: s._q(f"SELECT count(*) FROM {t}")[0][0] for t in sorted(s.tables())}}


def test_sigkill_mid_close_leaves_old_or_new_state_never_partial(closed, store_file, tmp_path):
    # The close of 2026-08 as computed for the base store, written again after a reopen: the
    # subprocess runs the store's real transaction (closing.freeze) and is killed inside it.
    result = closed[1]["2026-08"].result
    with PeriodStore(store_file) as s:
        inputs = s.load("2026-08", "inputs")
        s.reopen("2026-08", "SIGKILL test: close it again", who="ci")
    expected = closing.artefacts(result, inputs)
    blob = tmp_path / "result.pickle"
    blob.write_bytes(pickle.dumps((result, inputs)))
    script = tmp_path / "freezer.py"
    script.write_text(FREEZER)
    rng = random.Random(20261031)
    outcomes, mid_kills, attempt = [], 0, 0
    while attempt < 5 or (mid_kills == 0 and attempt < 10):
        attempt += 1
        with PeriodStore(store_file) as s:
            before = _state(s)
        proc = subprocess.Popen([sys.executable, str(script), str(store_file), str(blob), "0.1"],
                                stdout=subprocess.PIPE, text=True)
        assert proc.stdout.readline().strip() == "ready"
        time.sleep(rng.uniform(0.0, 2.2))
        proc.send_signal(signal.SIGKILL)
        lines = proc.stdout.read().splitlines()
        proc.wait()
        committed = any(x.startswith("committed") for x in lines)
        mid_kills += any(x.startswith("writing") for x in lines) and not committed
        with PeriodStore(store_file) as s:
            assert s.integrity_problems() == [], f"attempt {attempt}: partial close"
            after = _state(s)
            if s.is_closed("2026-08"):
                outcomes.append("new")
                cid = s.active_close("2026-08").close_id
                man = s.manifest(cid)
                assert set(man["artefact"]) == set(closing.ARTEFACTS)
                for name, frame in expected.items():
                    pd.testing.assert_frame_equal(s.load("2026-08", name),
                                                  frame.reset_index(drop=True))
                assert len(after["closes"]) == len(before["closes"]) + 1
                s.reopen("2026-08", f"SIGKILL test attempt {attempt}", who="ci")
            else:
                outcomes.append("old")
                pd.testing.assert_frame_equal(after["closes"], before["closes"])
                assert after["audit"] == before["audit"] and after["rows"] == before["rows"]
    assert "old" in outcomes and mid_kills >= 1, (outcomes, mid_kills)

    # left alone, the same close commits whole
    done = subprocess.run([sys.executable, str(script), str(store_file), str(blob), "0"],
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    with PeriodStore(store_file) as s:
        assert s.is_closed("2026-08") and s.integrity_problems() == []
        first = int(s.closes().query("period == '2026-08'")["close_id"].iloc[0])
        for name in closing.ARTEFACTS:  # the same figures as the original close of 2026-08
            pd.testing.assert_frame_equal(s.load("2026-08", name), s.load_close(first, name))


def test_periods_lists_closes_with_who_when_and_fingerprint(closed, company_dir, store_file,
                                                             capsys):
    """``wip periods``: one line per closed period, who closed it and when (as the store
    recorded), the period's revenue in dollars and the fingerprint of its input files, which is
    worked here from the close's own file list: SHA-256 of the sorted ``path<TAB>sha256`` lines."""
    import hashlib

    rc, out, _ = run_cli(capsys, "periods", company_dir, "--store", store_file)
    assert rc == 0, out
    lines = out.splitlines()
    assert lines[0].split()[:3] == ["period", "close", "closed"]
    with PeriodStore(store_file, read_only=True) as s:
        for period in ("2026-07", "2026-08"):
            c = s.active_close(period)
            inputs = s.load(period, "inputs")
            text = "".join(f"{f}\t{h}\n" for f, h in sorted(zip(inputs["file"], inputs["sha256"])))
            fingerprint = hashlib.sha256(text.encode()).hexdigest()[:16]
            revenue = int(s.load(period, "totals")["revenue_period"].iloc[0])
            row = next(line for line in lines if line.startswith(period))
            assert str(c.closed_at) in row and " ana " in f" {row} " and fingerprint in row
            assert f"${revenue // 100:,}.{revenue % 100:02d}" in row
            assert str(len(inputs)) in row.split()
    assert "2 closed period(s)" in lines[-1] and "latest closed: 2026-08" in lines[-1]
    # the same inputs were fingerprinted for both closes
    fps = {line.split()[-1] for line in lines if line.startswith("2026-0")}
    assert len(fps) == 1


def test_periods_without_a_store(tmp_path, capsys):
    (tmp_path / "company.yaml").write_text("name: X\n")
    rc, _, err = run_cli(capsys, "periods", tmp_path)
    assert rc != 0 and "nothing is closed yet" in err and "Traceback" not in err


def test_verify_prints_dollars_never_cents(company_dir, store_file, tmp_path, capsys):
    """A cost raised by $100.00 in a closed month: verify names the figure in dollars."""
    changed = tmp_path / "changed"
    shutil.copytree(company_dir, changed)
    with open(changed / JCT, newline="") as f:
        rows = list(csv.reader(f))
    amount = rows[0].index("Amount")
    rows[1][amount] = str(Decimal(rows[1][amount]) + 100)
    with open(changed / JCT, "w", newline="") as f:
        csv.writer(f, lineterminator="\n").writerows(rows)
    rc, out, err = run_cli(capsys, "close", changed, "--period", "2026-08", "--verify",
                           "--store", store_file)
    assert rc == 1, out + err
    moved = [line for line in out.splitlines() if "schedule:" in line and "cost_to_date" in line]
    assert moved, out
    import re
    before, after = re.search(r"closed (\$[\d,.]+), now (\$[\d,.]+)", moved[0]).groups()
    cents = [int(x.replace("$", "").replace(",", "").replace(".", "")) for x in (before, after)]
    assert cents[1] - cents[0] == 100_00
