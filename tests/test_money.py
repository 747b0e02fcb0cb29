"""Money parsing and formatting: every form a Procore or ERP export uses, to the exact cent."""
from decimal import Decimal

import numpy as np
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

from wip_lib.core.money import (
    cents_to_decimal,
    cents_to_text,
    decimal_to_cents,
    parse_cents,
    report_amount,
    report_text,
    round_half_up_div,
)

CASES = [
    ("1234.56", 123456),
    ("$1,234.56", 123456),
    ("-1,234.56", -123456),
    ("(1,234.56)", -123456),
    ("($1,234.56)", -123456),
    ("1,234.56-", -123456),
    ("-$1,234.56", -123456),
    ("USD 1234.56", 123456),
    ("  $ 12.5 ", 1250),
    ("0.07", 7),
    (".07", 7),
    ("12", 1200),
    ("1234.5600", 123456),
    ("30000.00", 3000000),
    ("12,345,678.90", 1234567890),
]


@pytest.mark.parametrize("text,cents", CASES)
def test_parse_money_text(text, cents):
    parsed, bad = parse_cents(pd.Series([text], dtype="string"))
    assert not bad.iloc[0]
    assert parsed.iloc[0] == cents


@pytest.mark.parametrize("text", ["", "  ", None, "-"])
def test_blank_money_is_missing_not_bad(text):
    parsed, bad = parse_cents(pd.Series([text], dtype="string"))
    assert pd.isna(parsed.iloc[0]) and not bad.iloc[0]


@pytest.mark.parametrize("text", ["12.345", "abc", "1.2.3", "$", "12,34x", "1e5"])
def test_bad_money_is_flagged(text):
    parsed, bad = parse_cents(pd.Series([text], dtype="string"))
    assert bad.iloc[0] and pd.isna(parsed.iloc[0])


def test_numeric_cells_round_once_to_the_cent():
    # 0.1 + 0.2 is 0.30000000000000004 as a float: the cent is still 30.
    parsed, bad = parse_cents(pd.Series([0.1 + 0.2, 1234.56, -0.005, 19.999999999]))
    assert parsed.tolist() == [30, 123456, -1, 2000]
    assert not bad.any()


def test_cents_to_text():
    out = cents_to_text(pd.Series([123456, -7, 0, -123456, 5], dtype="int64"))
    assert out.tolist() == ["1234.56", "-0.07", "0.00", "-1234.56", "0.05"]


def test_cents_to_text_keeps_the_index_and_name_and_writes_missing_as_blank():
    cents = pd.Series([-100, None, 99, -(10**17)], dtype="Int64", index=[7, 3, 5, 1],
                      name="debit")
    out = cents_to_text(cents)
    assert out.tolist() == ["-1.00", "", "0.99", "-1000000000000000.00"]
    assert out.index.tolist() == [7, 3, 5, 1] and out.name == "debit"
    assert out.dtype == "string"
    assert cents_to_text(pd.Series([], dtype="int64")).tolist() == []


@given(st.integers(min_value=-10**14, max_value=10**14))
def test_text_round_trip(cents):
    text = cents_to_text(pd.Series([cents], dtype="int64"))
    back, bad = parse_cents(text)
    assert not bad.iloc[0] and back.iloc[0] == cents
    assert decimal_to_cents(cents_to_decimal(cents)) == cents


@pytest.mark.parametrize("num,den,expected", [
    (5, 2, 3), (-5, 2, -3), (5, -2, -3), (7, 3, 2), (-7, 3, -2), (1, 3, 0), (3, 2, 2), (0, 9, 0),
    # TP * CTD beyond int64: $90M contract, $80M cost of $85M EAC (in cents)
    (9_000_000_000 * 8_000_000_000, 8_500_000_000, 8_470_588_235),
])
def test_round_half_up_div(num, den, expected):
    out = round_half_up_div(np.array([num], dtype=object), np.array([den], dtype=object))
    assert out[0] == expected


@given(st.integers(-10**20, 10**20), st.integers(1, 10**12) | st.integers(-10**12, -1))
def test_round_half_up_div_matches_decimal(num, den):
    from decimal import ROUND_HALF_UP, localcontext
    with localcontext() as ctx:
        ctx.prec = 60
        want = (Decimal(num) / Decimal(den)).quantize(Decimal(1), rounding=ROUND_HALF_UP)
    got = round_half_up_div(np.array([num], dtype=object), np.array([den], dtype=object))[0]
    assert got == int(want)


def _shapes(cents: int) -> list[str]:
    d = f"{abs(cents) // 100}.{abs(cents) % 100:02d}"
    c = f"{abs(cents) // 100:,}.{abs(cents) % 100:02d}"
    sign = "-" if cents < 0 else ""
    return [sign + d, f"{sign}${c}", f"({c})", f"(${c})", sign + str(abs(cents) // 100)]


_TEXT = (st.text(alphabet="0123456789,.$()- ", max_size=24)
         | st.integers(-10**18, 10**18).flatmap(lambda c: st.sampled_from(_shapes(c))))


@given(st.lists(_TEXT | st.none(), max_size=40))
def test_vectorised_parse_equals_the_one_value_rule(values):
    """The column-at-once kernels give exactly what the rule for one value gives (15 digits of
    dollars at most, cents only, accountants' parentheses), whatever the text; a short column,
    parsed value by value, gives the same as the kernels."""
    from wip_lib.core import money

    column = pd.Series(values, dtype="string")
    cents, missing, bad_k = money._parse_text(column)  # the kernels, whatever the length
    parsed, bad = parse_cents(column)  # a column this short: value by value
    for i, v in enumerate(values):
        want, want_bad = (None, False) if v is None else money._parse_one(v)
        assert bool(bad_k[i]) == want_bad == bool(bad.iloc[i]), v
        assert bool(missing[i]) == (want is None) == pd.isna(parsed.iloc[i]), v
        if want is not None:
            assert int(cents[i]) == want == int(parsed.iloc[i]), (v, cents[i], want)


@pytest.mark.parametrize("chunks", [[["$1.00", "(2.50)"], ["", "x", "3"]], [["7"]], []])
def test_a_column_in_chunks_is_read_as_the_same_column_whole(chunks):
    """A large export's column comes in chunks (parsed block by block): its amounts, blanks and
    bad values are those of the same cells in one array, and :func:`one_array` joins the
    chunks as Arrow holds them."""
    import pyarrow as pa

    from wip_lib.core.arrow_strings import one_array
    from wip_lib.core.money import cents_of_text

    chunked = pa.chunked_array([pa.array(c, pa.large_string()) for c in chunks],
                               type=pa.large_string())
    whole = pa.array([v for c in chunks for v in c], pa.large_string())
    assert one_array(chunked).equals(whole)
    assert one_array(whole) is whole
    got, want = cents_of_text(chunked), cents_of_text(whole)
    assert all((g == w).all() for g, w in zip(got, want))
    assert [int(v) for v in want[0]] == [
        {"$1.00": 100, "(2.50)": -250, "3": 300, "7": 700}.get(v, 0) for c in chunks for v in c]


def test_digits_of_strings_with_empty_ones_between_and_after():
    import pyarrow as pa

    from wip_lib.core.money import _digit_integers

    values, counts = _digit_integers(pa.array(["", "a1", "", "($1,234.56)", "12", "", ""]))
    assert values.tolist() == [0, 1, 0, 123456, 12, 0, 0]
    assert counts.tolist() == [0, 1, 0, 6, 2, 0, 0]


@given(st.lists(_TEXT | st.none(), min_size=1, max_size=6), st.integers(1, 4))
def test_long_columns_parsed_once_per_distinct_value_agree(values, repeat):
    """From 10,000 values a column is parsed per distinct text: the same cents, blanks and bad
    values as value by value."""
    from wip_lib.core import money

    column = pd.Series((values * (money._DISTINCT_FROM // len(values) + 1)) * repeat,
                       dtype="string")
    parsed, bad = parse_cents(column)
    one = {v: money._parse_one(v) for v in values if v is not None}  # a pure function of v
    want = [(None, False) if pd.isna(v) else one[v] for v in column]
    assert bad.tolist() == [b for _, b in want]
    assert [None if pd.isna(c) else int(c) for c in parsed] == [c for c, _ in want]


_PLAIN = (st.text(alphabet="0123456789,.$-()", max_size=18)
          # an amount in parentheses, and the odd mixes of parentheses and minus beside it
          | st.builds(lambda a, b, c: a + b + c, st.sampled_from(["(", "-(", "(-", "(("]),
                      st.text(alphabet="0123456789,.$-", max_size=16),
                      st.sampled_from([")", ")-", "-)", "))", ""]))
          | st.integers(-10**15, 10**15).flatmap(lambda c: st.sampled_from(_shapes(c))))


@given(st.lists(_PLAIN | st.none(), max_size=40), st.integers(0, 3))
def test_plain_amounts_by_the_decimal_parser_equal_the_one_value_rule(values, start):
    """Arrow's decimal parser, where it takes a column (every value a plain amount or empty), gives
    exactly the one-value rule's cents and blanks; where the rule finds a bad value it gives
    nothing (the column is then parsed shape by shape). Also on a slice of a longer array."""
    import pyarrow as pa

    from wip_lib.core import money

    arr = pa.array(["9"] * start + values + ["1"], type=pa.string()).slice(start, len(values))
    got = money._parse_plain(arr)
    want = [(None, False) if v is None else money._parse_one(v) for v in values]
    if got is None:
        return
    cents, missing = got
    assert not any(bad for _, bad in want), values
    assert missing.tolist() == [c is None for c, _ in want]
    assert [int(c) for c, m in zip(cents, missing) if not m] == [c for c, _ in want
                                                                 if c is not None]


def test_plain_amounts_take_the_decimal_parser_and_others_do_not():
    """Which columns the fast path takes: plain and Procore-formatted amounts with blanks, an
    accountants' negative in parentheses; not a column with a minus inside parentheses, one
    parenthesis alone, spaces, an exponent, a fraction of a cent or 16 digits."""
    import pyarrow as pa

    from wip_lib.core import money

    cents, missing = money._parse_plain(pa.array(
        ["1234.56", "-12", ".5", "1.2300", "$1,234.56", "-$1,234.56", "", None, "5.",
         "($13.34)", "(1,234.56)", "(0.00)"]))
    assert cents.tolist() == [123456, -1200, 50, 123, 123456, -123456, 0, 0, 500,
                              -1334, -123456, 0]
    assert missing.tolist() == [False] * 6 + [True, True] + [False] * 4
    for other in ["(-1.00)", "-(1.00)", "(1.00", "1.00)", "((1.00))", "()", "($)", " 1.00",
                  "1e3", "+5", "1.234", "1234567890123456", "$", "5-", "-"]:
        assert money._parse_plain(pa.array(["1.00", other])) is None, other
    # past 256 values parse_cents takes this path: the same figures as the rule
    column = pd.Series(["$1,000.00", "", "-0.01", "12"] * 100, dtype="string")
    parsed, bad = parse_cents(column)
    assert not bad.any()
    assert parsed.tolist()[:4] == [100000, pd.NA, -1, 1200]


@pytest.mark.parametrize("cents, text", [
    (1234567, "$12,345.67"), (-5, "-$0.05"), (0, "$0.00"), (100, "$1.00"), (-100, "-$1.00"),
    (99, "$0.99"), (100_000_000_00, "$100,000,000.00"), (-123456789, "-$1,234,567.89"),
    (2**63 - 1, "$92,233,720,368,547,758.07"), (-(2**63) + 1, "-$92,233,720,368,547,758.07"),
    (None, ""),
])
def test_report_text(cents, text):
    """Report text for people: a comma between each three digits of the dollars, the cents'
    two digits, a minus before the dollar sign; a missing amount is blank."""
    got = report_text(pd.Series([cents, 7], dtype="Int64", index=[5, 9], name="amount"))
    assert got.tolist() == [text, "$0.07"]
    assert (list(got.index), got.name, got.dtype) == ([5, 9], "amount", pd.StringDtype())
    if cents is not None:
        assert report_amount(cents) == text


@given(st.lists(st.integers(-10**15, 10**15), max_size=30))
def test_report_text_reads_back_as_the_cents(values):
    got = report_text(pd.Series(values, dtype="int64"))
    cents, bad = parse_cents(got)
    assert not bad.any() and cents.tolist() == values
