"""Charts of the figures, drawn on the server as SVG by matplotlib: no JavaScript, no chart
service. They are meant to be printed in black and white: series differ by hatching, line
style and marker, never by colour alone, and every chart is labelled in words. The page puts
the table of the same numbers next to each chart, for screen readers and for copying.
"""
import io
import math
import re

from babel.numbers import format_decimal
from flask_babel import get_locale
from markupsafe import Markup, escape
from matplotlib import rc_context
from matplotlib.figure import Figure
from matplotlib.ticker import FuncFormatter, MaxNLocator

HATCHES = ["///", "\\\\\\", "xx", "--"]  # lines only: dotted hatching is ten times the file
FACES = ["white", "#d9d9d9", "white", "#bdbdbd"]
LINES = [("-", "o"), ("--", "s"), (":", "^"), ("-.", "D")]
STYLE = {
    "svg.fonttype": "none",  # text stays text: searchable, selectable, read out
    "svg.hashsalt": "lokal-willkommen",  # the same numbers give the same file
    "font.size": 9,
    "hatch.linewidth": 0.8,
    "axes.edgecolor": "black",
    "axes.spines.top": False,
    "axes.spines.right": False,
}


def bars(name: str, title: str, labels: list[str], series: list[tuple[str, list]], unit: str) -> Markup:
    """Grouped bars, one group per label (week), one hatched bar per series."""
    figure, axes = _figure()
    width = 0.8 / max(1, len(series))
    for number, (legend, values) in enumerate(series):
        positions = [index + (number - (len(series) - 1) / 2) * width for index in range(len(labels))]
        drawn = axes.bar(positions, [value or 0 for value in values], width, label=legend,
                         facecolor=FACES[number % 4], edgecolor="black", hatch=HATCHES[number % 4],
                         linewidth=0.8)
        if len(labels) <= 16:
            axes.bar_label(drawn, labels=[_number(value) for value in values], fontsize=7, padding=1)
    axes.yaxis.set_major_locator(MaxNLocator(integer=True))
    return _finish(name, title, figure, axes, labels, unit)


def lines(name: str, title: str, labels: list[str], series: list[tuple[str, list]], unit: str) -> Markup:
    """One line per series, each with its own dash pattern and marker; a gap where a week has
    no value."""
    figure, axes = _figure()
    for number, (legend, values) in enumerate(series):
        style, marker = LINES[number % 4]
        axes.plot(range(len(labels)), [math.nan if value is None else value for value in values],
                  color="black", linestyle=style, marker=marker, markersize=4, linewidth=1.2,
                  markerfacecolor="white" if number % 2 else "black", label=legend)
    axes.set_ylim(bottom=0)
    return _finish(name, title, figure, axes, labels, unit)


def _figure():
    with rc_context(STYLE):
        figure = Figure(figsize=(7.5, 2.8), layout="constrained")
        return figure, figure.subplots()


def _finish(name, title, figure, axes, labels, unit):
    """Axes, legend and grid; the title goes into the SVG's <title> (the page shows it as
    the heading above the chart)."""
    with rc_context(STYLE):
        axes.set_ylabel(unit)
        step = max(1, math.ceil(len(labels) / 20))
        axes.set_xticks(range(0, len(labels), step), labels[::step],
                        rotation=45 if len(labels) > 8 else 0, ha="right" if len(labels) > 8 else "center")
        axes.yaxis.set_major_formatter(FuncFormatter(lambda value, _position: _number(value)))
        axes.grid(axis="y", color="#999999", linewidth=0.5, linestyle=":")
        axes.set_axisbelow(True)
        axes.legend(loc="upper left", bbox_to_anchor=(1.0, 1.0), frameon=False)
        output = io.StringIO()
        figure.savefig(output, format="svg", metadata={"Date": None})
    return _inline(name, title, output.getvalue())


def _number(value):
    if value is None:
        return ""
    return format_decimal(round(value, 1), format="#,##0.#", locale=str(get_locale()))


def _inline(name, title, svg):
    """The SVG as an element of the page: no XML prolog, ids unique on the page, sized by
    the page, announced as one image with its title."""
    svg = svg[svg.index("<svg"):]
    svg = re.sub(r'\sid="([^"]+)"', rf' id="{name}-\1"', svg)
    svg = svg.replace("url(#", f"url(#{name}-").replace('href="#', f'href="#{name}-')
    svg = re.sub(r'<svg([^>]*?)\swidth="[^"]+"\sheight="[^"]+"', r"<svg\1", svg, count=1)
    svg = svg.replace(
        "<svg", f'<svg role="img" aria-labelledby="{name}-title" class="chart"', 1,
    ).replace(">", f'><title id="{name}-title">{escape(title)}</title>', 1)
    return Markup(svg)
