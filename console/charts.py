"""Charts drawn on the server as SVG: no JavaScript, no CDN, nothing to vendor.

Each function takes plain numbers and labels and returns SVG markup (labels are
escaped), styled by classes in static/console.css.
"""

from __future__ import annotations

from typing import List, Sequence, Tuple

from markupsafe import Markup, escape

WIDTH, HEIGHT = 640, 220
LEFT, RIGHT, TOP, BOTTOM = 44, 12, 14, 34


def _nice_max(value: float) -> float:
    if value <= 0:
        return 1.0
    magnitude = 10 ** (len(str(int(value))) - 1)
    for step in (1, 2, 2.5, 5, 10):
        if value <= step * magnitude:
            return step * magnitude
    return value


def _number(value: float) -> str:
    return f"{value:.0f}" if float(value).is_integer() else f"{value:.2f}"


def _frame(title: str, body: List[str], width: int, height: int) -> Markup:
    label = escape(title)
    return Markup(
        f'<svg class="chart" viewBox="0 0 {width} {height}" role="img" '
        f'aria-label="{label}" xmlns="http://www.w3.org/2000/svg">'
        f"<title>{label}</title>" + "".join(body) + "</svg>"
    )


def _axis(top_value: float, width: int, height: int, percent: bool) -> List[str]:
    body = []
    plot_height = height - TOP - BOTTOM
    for i in range(5):
        value = top_value * i / 4
        y = height - BOTTOM - plot_height * i / 4
        text = f"{value * 100:.0f}%" if percent else _number(value)
        body.append(
            f'<line class="grid" x1="{LEFT}" x2="{width - RIGHT}" y1="{y:.1f}" y2="{y:.1f}"/>'
            f'<text class="tick" x="{LEFT - 6}" y="{y + 4:.1f}" text-anchor="end">{text}</text>'
        )
    return body


def column_chart(
    title: str,
    points: Sequence[Tuple[str, float]],
    percent: bool = False,
    width: int = WIDTH,
    height: int = HEIGHT,
    label_every: int = 0,
) -> Markup:
    """Vertical bars, one per (label, value); every n-th label is printed."""
    if not points:
        return _frame(title, [f'<text class="empty" x="{width / 2}" y="{height / 2}" '
                              f'text-anchor="middle">No data yet</text>'], width, height)
    top_value = 1.0 if percent else _nice_max(max(value for _, value in points))
    plot_width = width - LEFT - RIGHT
    plot_height = height - TOP - BOTTOM
    slot = plot_width / len(points)
    bar = max(1.0, slot * 0.75)
    every = label_every or max(1, -(-len(points) // 7))
    body = _axis(top_value, width, height, percent)
    for index, (label, value) in enumerate(points):
        bar_height = plot_height * (value / top_value if top_value else 0)
        x = LEFT + slot * index + (slot - bar) / 2
        y = height - BOTTOM - bar_height
        shown = f"{value * 100:.1f}%" if percent else _number(value)
        body.append(
            f'<rect class="bar" x="{x:.1f}" y="{y:.1f}" width="{bar:.1f}" '
            f'height="{bar_height:.1f}"><title>{escape(label)}: {shown}</title></rect>'
        )
        if index % every == 0:
            body.append(
                f'<text class="tick" x="{x + bar / 2:.1f}" y="{height - BOTTOM + 14}" '
                f'text-anchor="middle">{escape(label)}</text>'
            )
    return _frame(title, body, width, height)


def bar_list(title: str, items: Sequence[Tuple[str, float]], width: int = WIDTH) -> Markup:
    """Horizontal bars with their labels, for rankings such as top intents."""
    row = 22
    height = max(60, TOP + row * len(items) + 10)
    if not items:
        return column_chart(title, [], width=width, height=height)
    label_width = 210
    top_value = _nice_max(max(value for _, value in items))
    plot = width - label_width - 60
    body = []
    for index, (label, value) in enumerate(items):
        y = TOP + row * index
        length = plot * value / top_value
        body.append(
            f'<text class="label" x="{label_width - 8}" y="{y + 14}" text-anchor="end">'
            f"{escape(label)}</text>"
            f'<rect class="bar" x="{label_width}" y="{y + 3}" width="{length:.1f}" height="{row - 6}">'
            f"<title>{escape(label)}: {_number(value)}</title></rect>"
            f'<text class="value" x="{label_width + length + 6:.1f}" y="{y + 14}">{_number(value)}</text>'
        )
    return _frame(title, body, width, height)
