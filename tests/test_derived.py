"""``core.derived``: a frame several rules derive alike is built once within a period's
computation, each caller gets its own copy, and nothing is kept outside one."""
from __future__ import annotations

import pandas as pd

from wip_lib.accounting import forecast
from wip_lib.close.period import compute_period
from wip_lib.core import derived
from wip_lib.sources.readers import load_company


def test_built_once_in_a_scope_every_time_outside_and_callers_edits_stay_theirs():
    builds = []

    def build():
        builds.append(1)
        return pd.DataFrame({"amount": [1, 2]})

    company, other = object(), object()
    assert derived.once(company, ("k",), build) is not derived.once(company, ("k",), build)
    assert len(builds) == 2  # outside a scope: built each time
    with derived.scope():
        first = derived.once(company, ("k",), build)
        first.loc[0, "amount"] = 99  # a caller's edit
        again = derived.once(company, ("k",), build)
        with derived.scope():  # nested: the same memo
            derived.once(company, ("k",), build)
        derived.once(other, ("k",), build)  # another company: its own frame
        derived.once(company, ("other key",), build)
    assert len(builds) == 5  # the first, the other company's, the other key's
    assert again["amount"].tolist() == [1, 2]
    derived.once(company, ("k",), build)
    assert len(builds) == 6  # the scope ended: nothing kept


def test_the_period_asks_for_the_erp_cost_history_once_per_argument(monkeypatch, tmp_path):
    from pathlib import Path

    sample = Path(__file__).resolve().parent.parent / "data" / "sample"
    company = load_company(sample)
    calls = []
    build = forecast._erp_cost_history
    monkeypatch.setattr(forecast, "_erp_cost_history",
                        lambda *a: calls.append(a[1:]) or build(*a))
    compute_period(company, "2026-10")
    assert len(calls) == len(set(calls)) >= 2  # each (through, commitments_only) once
    assert ("2026-10", False) in calls


def test_a_tables_attrs_are_shared_read_only_and_survive_pickle_and_json():
    # pandas deep-copies attrs into every derived frame: the readers' labels are handed on, not
    # copied, and cannot be changed through any frame that shares them.
    import copy
    import json
    import pickle

    import pytest

    from wip_lib.core.attrs import Frozen, frozen

    labels = frozen({"amount": "Amount"})
    df = pd.DataFrame({"amount": [1, 2]})
    df.attrs["labels"] = labels
    derived_frame = df[df["amount"] > 1].assign(x=1)
    assert derived_frame.attrs["labels"] is labels
    assert copy.deepcopy(labels) is labels and frozen(labels) is labels
    with pytest.raises(TypeError):
        derived_frame.attrs["labels"]["amount"] = "changed"
    with pytest.raises(TypeError):
        labels.update(amount="changed")
    back = pickle.loads(pickle.dumps(labels))
    assert isinstance(back, Frozen) and back == {"amount": "Amount"}
    assert json.loads(json.dumps(labels)) == {"amount": "Amount"}
