"""Charts drawn as inline SVG on the server: no JavaScript, no CDN, nothing to build.

Every chart is an `<svg class="chart" data-chart=NAME>`; each drawn datum carries `class="mark"`
(with a `<title>` tooltip), so an empty chart is visibly and testably empty ("no data yet").
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from html import escape

from markupsafe import Markup

PALETTE = ("#2563eb", "#16a34a", "#d97706", "#dc2626", "#7c3aed", "#0891b2", "#64748b", "#db2777")
STATE_COLOURS = {
    "completed": "#16a34a",
    "running": "#2563eb",
    "waiting": "#0891b2",
    "exception": "#d97706",
    "dead_lettered": "#dc2626",
    "aborted": "#64748b",
}


def colour(name: str, index: int) -> str:
    """A state's own colour, else one from the palette."""
    return STATE_COLOURS.get(name, PALETTE[index % len(PALETTE)])


def _empty(name: str, width: int, height: int) -> Markup:
    return Markup(
        f'<svg class="chart empty" data-chart="{escape(name)}" viewBox="0 0 {width} {height}" role="img">'
        f'<text x="{width / 2}" y="{height / 2}" text-anchor="middle" class="muted">no data yet</text></svg>'
    )


def _fmt(value: float) -> str:
    return f"{value:,.0f}" if abs(value) >= 100 or value == int(value) else f"{value:,.2f}"


def bar_chart(name: str, items: Sequence[tuple[str, float]], unit: str = "", width: int = 460) -> Markup:
    """Horizontal bars, one per (label, value)."""
    items = [(label, value) for label, value in items if value > 0]
    row, label_w = 26, 150
    height = max(row * len(items) + 10, 60)
    if not items:
        return _empty(name, width, 60)
    peak = max(value for _, value in items)
    parts = [f'<svg class="chart" data-chart="{escape(name)}" viewBox="0 0 {width} {height}" role="img">']
    for index, (label, value) in enumerate(items):
        y = 5 + index * row
        bar = max(2.0, (width - label_w - 70) * value / peak)
        text = f"{label}: {_fmt(value)}{unit}"
        parts.append(
            f'<text x="{label_w - 6}" y="{y + 15}" text-anchor="end">{escape(label)}</text>'
            f'<rect class="mark" x="{label_w}" y="{y + 3}" width="{bar:.1f}" height="16" '
            f'fill="{colour(label, index)}"><title>{escape(text)}</title></rect>'
            f'<text x="{label_w + bar + 6:.1f}" y="{y + 15}">{escape(_fmt(value) + unit)}</text>'
        )
    parts.append("</svg>")
    return Markup("".join(parts))


def stacked_bars(name: str, rows: Mapping[str, Mapping[str, int]], width: int = 460) -> Markup:
    """One horizontal bar per row, split into its segments (e.g. domain -> state -> count)."""
    rows = {label: segs for label, segs in rows.items() if sum(segs.values()) > 0}
    if not rows:
        return _empty(name, width, 60)
    segments = sorted({seg for segs in rows.values() for seg in segs})
    row, label_w, legend_h = 26, 110, 22
    height = legend_h + row * len(rows) + 10
    peak = max(sum(segs.values()) for segs in rows.values())
    parts = [f'<svg class="chart" data-chart="{escape(name)}" viewBox="0 0 {width} {height}" role="img">']
    for index, seg in enumerate(segments):
        legend_x = 10 + index * 90
        parts.append(
            f'<rect x="{legend_x}" y="4" width="10" height="10" fill="{colour(seg, index)}"/>'
            f'<text x="{legend_x + 14}" y="13" class="small">{escape(seg)}</text>'
        )
    for r, (label, segs) in enumerate(rows.items()):
        y = legend_h + r * row
        x = float(label_w)
        parts.append(f'<text x="{label_w - 6}" y="{y + 15}" text-anchor="end">{escape(label)}</text>')
        for index, seg in enumerate(segments):
            value = segs.get(seg, 0)
            if not value:
                continue
            w = (width - label_w - 50) * value / peak
            parts.append(
                f'<rect class="mark" x="{x:.1f}" y="{y + 3}" width="{w:.1f}" height="16" '
                f'fill="{colour(seg, index)}"><title>{escape(f"{label} {seg}: {value}")}</title></rect>'
            )
            x += w
        parts.append(f'<text x="{x + 6:.1f}" y="{y + 15}">{sum(segs.values())}</text>')
    parts.append("</svg>")
    return Markup("".join(parts))


def line_chart(
    name: str,
    x_labels: Sequence[str],
    series: Sequence[tuple[str, Sequence[float | None]]],
    unit: str = "",
    width: int = 460,
    height: int = 200,
) -> Markup:
    """Lines over time buckets; gaps (None) break a line, single points show as dots."""
    values = [v for _, points in series for v in points if v is not None]
    if not values:
        return _empty(name, width, height)
    per_row = 3
    legend_rows = -(-len(series) // per_row)
    left, bottom, right = 48, 22, 10
    top = 12 + 16 * legend_rows
    height += 16 * (legend_rows - 1)
    peak = max(values) or 1.0
    plot_w, plot_h = width - left - right, height - top - bottom
    step = plot_w / max(len(x_labels) - 1, 1)
    parts = [
        f'<svg class="chart" data-chart="{escape(name)}" viewBox="0 0 {width} {height}" role="img">',
        f'<line x1="{left}" y1="{top + plot_h}" x2="{width - right}" y2="{top + plot_h}" class="axis"/>',
        f'<text x="{left - 4}" y="{top + 4}" text-anchor="end" class="small">'
        f"{escape(_fmt(peak) + unit)}</text>",
        f'<text x="{left - 4}" y="{top + plot_h}" text-anchor="end" class="small">0</text>',
    ]
    for index in (0, len(x_labels) - 1):
        anchor = "start" if index == 0 else "end"
        parts.append(
            f'<text x="{left + index * step:.1f}" y="{height - 6}" text-anchor="{anchor}" class="small">'
            f"{escape(x_labels[index])}</text>"
        )
    for number, (label, points) in enumerate(series):
        tint = PALETTE[number % len(PALETTE)]
        legend_x, legend_y = left + (number % per_row) * 140, 4 + 16 * (number // per_row)
        parts.append(
            f'<rect x="{legend_x}" y="{legend_y}" width="10" height="10" fill="{tint}"/>'
            f'<text x="{legend_x + 14}" y="{legend_y + 9}" class="small">{escape(label)}</text>'
        )
        coords = [
            (left + i * step, top + plot_h - plot_h * (v / peak), v)
            for i, v in enumerate(points)
            if v is not None
        ]
        if len(coords) > 1:
            path = " ".join(f"{x:.1f},{y:.1f}" for x, y, _ in coords)
            parts.append(f'<polyline points="{path}" fill="none" stroke="{tint}" stroke-width="2"/>')
        for x, y, v in coords:
            parts.append(
                f'<circle class="mark" cx="{x:.1f}" cy="{y:.1f}" r="3" fill="{tint}">'
                f"<title>{escape(f'{label}: {_fmt(v)}{unit}')}</title></circle>"
            )
    parts.append("</svg>")
    return Markup("".join(parts))


def column_chart(
    name: str,
    x_labels: Sequence[str],
    values: Sequence[float],
    unit: str = "",
    width: int = 460,
    height: int = 160,
) -> Markup:
    """Vertical columns per time bucket."""
    if not any(values):
        return _empty(name, width, height)
    left, bottom, top = 40, 22, 10
    plot_w, plot_h = width - left - 10, height - top - bottom
    peak = max(values)
    slot = plot_w / len(values)
    parts = [
        f'<svg class="chart" data-chart="{escape(name)}" viewBox="0 0 {width} {height}" role="img">',
        f'<line x1="{left}" y1="{top + plot_h}" x2="{width - 10}" y2="{top + plot_h}" class="axis"/>',
        f'<text x="{left - 4}" y="{top + 8}" text-anchor="end" class="small">{escape(_fmt(peak))}</text>',
    ]
    for index, value in enumerate(values):
        if value <= 0:
            continue
        h = plot_h * value / peak
        parts.append(
            f'<rect class="mark" x="{left + index * slot + 2:.1f}" y="{top + plot_h - h:.1f}" '
            f'width="{slot - 4:.1f}" height="{h:.1f}" fill="{PALETTE[2]}">'
            f"<title>{escape(f'{x_labels[index]}: {_fmt(value)}{unit}')}</title></rect>"
        )
    for index in (0, len(x_labels) - 1):
        anchor = "start" if index == 0 else "end"
        x = left + index * slot + (0 if index == 0 else slot)
        parts.append(
            f'<text x="{x:.1f}" y="{height - 6}" text-anchor="{anchor}" class="small">'
            f"{escape(x_labels[index])}</text>"
        )
    parts.append("</svg>")
    return Markup("".join(parts))


__all__ = ["bar_chart", "colour", "column_chart", "line_chart", "stacked_bars"]
