"""The data model: documented in one place, and the document is current."""
from pathlib import Path

import pandas as pd
import pytest

from wip_lib.cli.main import main
from wip_lib.core import schema
from wip_lib.core.errors import InputError
from wip_lib.core.settings import Company, Settings

ROOT = Path(__file__).resolve().parents[1]


def test_data_model_doc_is_generated_from_schema():
    assert (ROOT / "docs" / "data-model.md").read_text() == schema.to_markdown() + "\n", (
        "docs/data-model.md is stale: run `wip schema > docs/data-model.md`")


def test_wip_schema_command_prints_every_table(capsys):
    assert main(["schema"]) == 0
    out = capsys.readouterr().out
    for name in schema.TABLES:
        assert f"### `{name}`" in out


@pytest.mark.parametrize("table", list(schema.TABLES))
def test_every_table_has_its_key_among_its_columns(table):
    t = schema.get(table)
    assert set(t.key) <= set(t.names)
    assert len(set(t.names)) == len(t.names)


def test_job_numbers_and_cost_codes_are_strings_and_money_is_integer_cents():
    for t in schema.TABLES.values():
        for c in t.columns:
            if c.name in ("job_id", "cost_code", "cost_type") or c.name.endswith("cost_code"):
                assert c.dtype == "string", (t.name, c.name)
            if c.kind == "money":
                assert c.dtype == "int64", (t.name, c.name)


def test_company_from_tables_fills_missing_tables_with_typed_empties():
    s = Settings.from_mapping({"name": "Acme", "current_period": "2026-10"})
    c = Company.from_tables(s, {"jobs": schema.get("jobs").empty()})
    assert list(c["erp_job_cost"].columns) == schema.get("erp_job_cost").names
    assert c["erp_job_cost"]["amount"].dtype == "int64"
    with pytest.raises(KeyError):
        Company.from_tables(s, {"not_a_table": pd.DataFrame()})


@pytest.mark.parametrize("fye,period,start", [
    (12, "2026-10", "2026-01"), (12, "2026-01", "2026-01"), (6, "2026-10", "2026-07"),
    (6, "2026-06", "2025-07"), (9, "2026-09", "2025-10"), (9, "2026-10", "2026-10"),
])
def test_fiscal_year_start(fye, period, start):
    s = Settings.from_mapping({"name": "Acme", "current_period": period,
                               "fiscal_year_end_month": fye})
    assert s.fiscal_year_start(period) == start


@pytest.mark.parametrize("data,needle", [
    ({"current_period": "2026-10"}, "has no name"),
    ({"name": "A", "current_period": "2026-13"}, "current_period is not a month"),
    ({"name": "A", "current_period": "Oct 2026"}, "YYYY-MM"),
    ({"name": "A", "current_period": "2026-10", "fiscal_year_end_month": 13}, "1 to 12"),
    ({"name": "A", "current_period": "2026-10", "policies": {"start_threshhold": 0.1}},
     "use one of"),
])
def test_bad_settings_name_the_problem_and_the_fix(data, needle):
    with pytest.raises(InputError) as err:
        Settings.from_mapping(data)
    assert needle in str(err.value) and "company.yaml" in str(err.value)


def test_settings_file_errors(tmp_path):
    with pytest.raises(InputError, match="not found"):
        Settings.load(tmp_path / "company.yaml")
    (tmp_path / "company.yaml").write_text("name: [unclosed\n")
    with pytest.raises(InputError, match="not valid YAML"):
        Settings.load(tmp_path / "company.yaml")
