"""A report's series drawn as an SVG line chart by matplotlib (its object API and SVG backend: no
pyplot, no global figure state), text kept as text so the chart is searchable and scales."""

from __future__ import annotations

import io
import threading
from datetime import datetime
from zoneinfo import ZoneInfo

import matplotlib
from matplotlib.backends.backend_svg import FigureCanvasSVG
from matplotlib.figure import Figure

from omnicase.reporting.metrics.schemas import Metric, MetricsReport

UNITS = {
    Metric.CREATED: "cases",
    Metric.SOLVED: "cases",
    Metric.REOPENED: "cases",
    Metric.BACKLOG: "open cases",
    Metric.SLA_ATTAINMENT: "% met",
    Metric.ONE_TOUCH_RATE: "% of solved",
    Metric.CSAT_GOOD_RATE: "% good",
    Metric.CSAT_RESPONSE_RATE: "% answered",
    Metric.SWARMS_STARTED: "swarms",
    Metric.SWARM_MEMBERS_AVG: "members per swarm",
    Metric.SWARM_PARTICIPATION_RATE: "% of members who posted",
    Metric.RESOLUTION_RATE_SWARMED: "% of created",
    Metric.RESOLUTION_RATE_NOT_SWARMED: "% of created",
    Metric.SAME_DAY_RESOLUTION_RATE_SWARMED: "% of created",
    Metric.SAME_DAY_RESOLUTION_RATE_NOT_SWARMED: "% of created",
    Metric.DEFLECTIONS: "questions answered",
    Metric.DEFLECTION_RATE: "% of questions",
}
TITLES = {
    Metric.CREATED: "Cases created",
    Metric.SOLVED: "Cases solved",
    Metric.REOPENED: "Cases reopened",
    Metric.BACKLOG: "Backlog (open at the end of each interval)",
    Metric.SLA_ATTAINMENT: "SLA attainment",
    Metric.ONE_TOUCH_RATE: "One-touch resolution",
    Metric.CSAT_GOOD_RATE: "Customer satisfaction (good of rated)",
    Metric.CSAT_RESPONSE_RATE: "Survey response rate",
    Metric.SWARMS_STARTED: "Swarms started",
    Metric.SWARM_MEMBERS_AVG: "Members per swarm",
    Metric.SWARM_PARTICIPATION_RATE: "Swarm members who posted",
    Metric.SWARM_TO_SOLVE_MEDIAN: "Median time from the first swarm to the solve",
    Metric.RESOLUTION_RATE_SWARMED: "Resolution rate of swarmed cases",
    Metric.RESOLUTION_RATE_NOT_SWARMED: "Resolution rate of cases not swarmed",
    Metric.SAME_DAY_RESOLUTION_RATE_SWARMED: "Same-day resolution rate of swarmed cases",
    Metric.SAME_DAY_RESOLUTION_RATE_NOT_SWARMED: "Same-day resolution rate of cases not swarmed",
    Metric.DEFLECTIONS: "Questions answered by an article",
    Metric.DEFLECTION_RATE: "Deflection rate (answered by an article)",
}
# rcParams are process-wide: drawings take turns (a chart is a few tens of milliseconds).
_DRAWING = threading.Lock()


def title_of(metric: Metric) -> str:
    if metric in TITLES:
        return TITLES[metric]
    words = metric.value.replace("_time_", " time ").replace("_", " ")
    return words[0].upper() + words[1:]


def _label(interval: str, local_start: datetime) -> str:
    return local_start.strftime("%b %Y" if interval == "month" else "%d %b")


def render_svg(report: MetricsReport, metric: Metric) -> bytes:
    """The series of ``metric`` in ``report``, one line per group (and SLA metric), as an SVG document."""
    zone = ZoneInfo(report.tz)
    labels = [_label(report.interval, start.astimezone(zone)) for start in report.intervals]
    hours = metric.value.endswith(("_median", "_p90"))
    with _DRAWING, matplotlib.rc_context({"svg.fonttype": "none", "svg.hashsalt": "omnicase", "font.size": 9}):
        figure = Figure(figsize=(7.2, 3.2), dpi=100, layout="constrained")
        FigureCanvasSVG(figure)
        axes = figure.add_subplot()
        positions = list(range(len(labels)))
        drawn = 0
        for series in report.series:
            if series.metric is not metric:
                continue
            values = [None if v is None else (v / 3600 if hours else v) for v in series.values]
            name = " ".join(
                part
                for part in (series.group or ("all" if report.group_by is None else "none"), series.milestone)
                if part
            )
            axes.plot(
                positions, [float("nan") if v is None else v for v in values], marker="o", markersize=3, label=name
            )
            drawn += 1
        axes.set_title(title_of(metric))
        axes.set_ylabel("hours" if hours else UNITS.get(metric, ""))
        step = max(1, len(labels) // 12)
        axes.set_xticks(positions[::step], labels[::step])
        axes.grid(alpha=0.3)
        if drawn:
            axes.legend(loc="upper left", fontsize=8, frameon=False)
        else:
            axes.text(0.5, 0.5, "No data in this period", ha="center", va="center", transform=axes.transAxes)
        axes.set_xlim(-0.5, max(len(positions) - 0.5, 0.5))
        axes.set_ylim(bottom=0)
        out = io.BytesIO()
        figure.savefig(out, format="svg", metadata={"Title": title_of(metric), "Date": None})
    return out.getvalue()
