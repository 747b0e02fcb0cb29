"""The period store: close, refuse, reopen, close again; history; atomic under SIGKILL."""
import signal
import subprocess
import sys
import textwrap
import time

import pandas as pd
import pytest

from wip_lib.close.store import PeriodStore, changed_inputs, fingerprint_inputs, next_period
from wip_lib.core.errors import PeriodError


def sched(er: int) -> pd.DataFrame:
    return pd.DataFrame({"job_id": pd.Series(["00101", "00102"], dtype="string"),
                         "earned_revenue": pd.Series([er, 2 * er], dtype="int64")})


def test_close_refuse_reopen_close_again(tmp_path):
    with PeriodStore(tmp_path / "s.duckdb") as s:
        s.close_period("2026-08", {"schedule": sched(100)}, who="ana")
        with pytest.raises(PeriodError, match="already closed .* by ana"):
            s.close_period("2026-08", {"schedule": sched(999)}, who="ana")
        with pytest.raises(PeriodError, match="next period to close is 2026-09"):
            s.close_period("2026-10", {"schedule": sched(300)}, who="ana")
        s.close_period("2026-09", {"schedule": sched(200)}, who="ana")
        with pytest.raises(PeriodError, match="reopen the later periods first"):
            s.reopen("2026-08", "typo", who="ben")
        with pytest.raises(PeriodError, match="needs a reason"):
            s.reopen("2026-09", "  ", who="ben")
        s.reopen("2026-09", "late AP invoice from Acme", who="ben")
        assert s.load("2026-09", "schedule") is None
        s.close_period("2026-09", {"schedule": sched(250)}, who="ana")
        assert s.load("2026-09", "schedule")["earned_revenue"].tolist() == [250, 500]
        # the reopened close is kept, never lost
        closes = s.closes()
        assert closes["status"].tolist() == ["closed", "reopened", "closed"]
        assert closes.loc[1, "reopen_reason"] == "late AP invoice from Acme"
        audit = s.audit()
        assert audit["action"].tolist() == ["close", "close", "reopen", "close"]
        assert audit.loc[2, "who"] == "ben"


def test_history_matches_what_was_closed(tmp_path):
    with PeriodStore(tmp_path / "s.duckdb") as s:
        for i, p in enumerate(["2026-01", "2026-02", "2026-03"], start=1):
            s.close_period(p, {"schedule": sched(100 * i)}, who="ana")
        h = s.history("schedule")
        assert h["closed_period"].tolist() == ["2026-01"] * 2 + ["2026-02"] * 2 + ["2026-03"] * 2
        assert h["earned_revenue"].tolist() == [100, 200, 200, 400, 300, 600]
        assert h["job_id"].tolist() == ["00101", "00102"] * 3


def test_money_stays_integer_cents(tmp_path):
    with PeriodStore(tmp_path / "s.duckdb") as s:
        s.close_period("2026-01", {"schedule": sched(10**15)}, who="ana")
        got = s.load("2026-01", "schedule")
        assert got["earned_revenue"].dtype == "int64"
        assert got["earned_revenue"].tolist() == [10**15, 2 * 10**15]


def test_fingerprints_detect_changed_files(tmp_path):
    (tmp_path / "a.csv").write_text("x\n1\n")
    (tmp_path / "b.csv").write_text("y\n2\n")
    before = fingerprint_inputs(tmp_path)
    (tmp_path / "a.csv").write_text("x\n2\n")
    (tmp_path / "b.csv").unlink()
    (tmp_path / "c.csv").write_text("z\n")
    diff = changed_inputs(before, fingerprint_inputs(tmp_path))
    assert diff.values.tolist() == [["a.csv", "changed"], ["b.csv", "removed"], ["c.csv", "added"]]


@pytest.mark.parametrize("p,n", [("2026-12", "2027-01"), ("2026-01", "2026-02")])
def test_next_period(p, n):
    assert next_period(p) == n


CLOSER = textwrap.dedent("""
    import sys, pandas as pd, numpy as np
    from wip_lib.close.store import PeriodStore
    n = int(sys.argv[2])
    big = pd.DataFrame({"job_id": pd.Series(np.arange(n).astype(str), dtype="string"),
                        "amount": pd.Series(np.arange(n), dtype="int64")})
    with PeriodStore(sys.argv[1]) as s:
        print("ready", flush=True)
        s.close_period(sys.argv[3], {"schedule": big, "journal": big, "findings": big}, who="ci")
    print("done", flush=True)
""")


def test_sigkill_mid_close_leaves_old_or_new_state_never_partial(tmp_path):
    path = tmp_path / "s.duckdb"
    with PeriodStore(path) as s:
        s.close_period("2026-08", {"schedule": sched(1)}, who="ci")
    script = tmp_path / "closer.py"
    script.write_text(CLOSER)
    n = 400_000
    outcomes = set()
    # Kills at growing delays, then one after the close has returned (the new state).
    for attempt, delay in enumerate([0.05, 0.15, 0.3, 0.5, 0.8, 1.2, None]):
        proc = subprocess.Popen([sys.executable, str(script), str(path), str(n), "2026-09"],
                                stdout=subprocess.PIPE, text=True)
        assert proc.stdout.readline().strip() == "ready"
        if delay is None:
            assert proc.stdout.readline().strip() == "done"
        else:
            time.sleep(delay)
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        with PeriodStore(path) as s:
            closed = s.is_closed("2026-09")
            # old state: only 2026-08; new state: 2026-09 with all three artefacts complete
            assert s.load("2026-08", "schedule")["earned_revenue"].tolist() == [1, 2]
            known = set(s.closes()["close_id"])
            for table in ("schedule", "journal", "findings"):
                if table in s.tables():
                    ids = set(s._q(f"SELECT DISTINCT close_id FROM {table}")[0:])
                    assert {i[0] for i in ids} <= known, "rows of an uncommitted close survived"
            if closed:
                for table in ("schedule", "journal", "findings"):
                    assert len(s.load("2026-09", table)) == n
                outcomes.add("new")
                s.reopen("2026-09", f"test attempt {attempt}", who="ci")
            else:
                outcomes.add("old")
    assert outcomes == {"old", "new"}  # a kill landed mid-close, and the last one after it
