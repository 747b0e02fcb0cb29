"""The dashboards' charts: drawn with the reports' plotly template, ``plotly_white`` carried
only for the trace types the charts use, so every chart looks as ``plotly_white`` draws it."""
from __future__ import annotations

import plotly.io as pio

from wip_lib.close import bundle as bundles
from wip_lib.reports import dashboard as d

JOB_CHARTS = (d.cost_curve, d.progress_vs_billing, d.margin_trend, d.over_under_trend,
              d.cost_code_chart)
PORTFOLIO_CHARTS = (d.portfolio_trend_chart, d.over_under_chart, d.fade_chart, d.backlog_chart)


def _figures(bundle):
    for job in bundle.job_ids:
        for chart in JOB_CHARTS:
            yield f"{chart.__name__}({job})", chart(bundle, job)
    for chart in PORTFOLIO_CHARTS:
        yield chart.__name__, chart(bundle)


def test_every_chart_draws_only_the_template_s_trace_types_as_plotly_white(sample_bundle_dir):
    white = pio.templates["plotly_white"].to_plotly_json()
    want = {"layout": white["layout"], "data": {t: white["data"][t] for t in d.TRACE_TYPES}}
    b = bundles.load(sample_bundle_dir)
    seen = set()
    for name, fig in _figures(b):
        spec = fig.to_dict()
        types = {trace["type"] for trace in spec["data"]}
        assert types <= set(d.TRACE_TYPES), (name, types)  # a type the template leaves out
        assert spec["layout"]["template"] == want, name
        seen |= types
    assert seen == set(d.TRACE_TYPES)  # each type kept is drawn by some chart


def test_the_template_is_under_half_of_plotly_white_s():
    # What each chart's JSON carries: the reason for the template (kernel, message, notebook
    # and page all hold it once per chart).
    import json

    ours = len(json.dumps(pio.templates["wip_reports"].to_plotly_json()))
    white = len(json.dumps(pio.templates["plotly_white"].to_plotly_json()))
    assert ours < white / 2
