"""The score plot as inline SVG, written here rather than by a plotting library: plotly and
altair render in the browser with their own JavaScript, which a self-contained report for a
model-risk review cannot fetch and a test cannot read as numbers. Every point carries its
organisation, proposal and score as data attributes, so the browser test compares them with the
ledger's votes."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from html import escape

from fedledger.dashboard.views import ScorePoint, TaskView

WIDTH, HEIGHT = 720, 320
LEFT, RIGHT, TOP, BOTTOM = 64, 160, 20, 48
# Colour-blind-safe (Okabe-Ito), one per organisation in MSP-id order, then repeated.
PALETTE = ("#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#F0E442", "#000000")


def org_colour(view: TaskView, organization: str) -> str:
    """The organisation's colour in every view of the task."""
    return PALETTE[view.organizations.index(organization) % len(PALETTE)]


def score_plot(view: TaskView) -> str:
    """Each organisation's score of each accepted model over versions, as one <svg>; a short
    sentence instead when no accepted model has a score. Raises nothing."""
    if not view.points:
        return '<p class="empty">No accepted model has a recorded score yet.</p>'
    low, high = _range([p.score for p in view.points])
    versions = len(view.accepted)
    scale = _Scale(versions, low, high)
    parts = [
        f'<svg class="score-plot" xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" '
        f'height="{HEIGHT}" viewBox="0 0 {WIDTH} {HEIGHT}" role="img" '
        f'aria-label="{escape(view.metric)} of each accepted model, per organisation">',
        *_axes(view, scale),
    ]
    for index, org in enumerate(view.organizations):
        points = [p for p in view.points if p.organization == org]
        if points:
            parts += _series(org, org_colour(view, org), points, scale)
            parts.append(_legend_entry(index, org, org_colour(view, org)))
    parts.append("</svg>")
    return "\n".join(parts)


class _Scale:
    def __init__(self, versions: int, low: float, high: float) -> None:
        self.versions, self.low, self.high = versions, low, high

    def x(self, version: int) -> float:
        inner = WIDTH - LEFT - RIGHT
        if self.versions == 1:
            return LEFT + inner / 2
        return LEFT + inner * (version - 1) / (self.versions - 1)

    def y(self, score: float) -> float:
        inner = HEIGHT - TOP - BOTTOM
        return TOP + inner * (self.high - score) / (self.high - self.low)


def _range(scores: Sequence[float]) -> tuple[float, float]:
    """The y axis: the scores' span with a margin, never empty."""
    low, high = min(scores), max(scores)
    margin = (high - low) * 0.1 or 0.05
    return low - margin, high + margin


def _axes(view: TaskView, scale: _Scale) -> Iterator[str]:
    bottom, right = HEIGHT - BOTTOM, WIDTH - RIGHT
    yield (f'<path class="axis" d="M{LEFT},{TOP} V{bottom} H{right}" fill="none" stroke="#555"/>')
    for step in range(5):
        score = scale.low + (scale.high - scale.low) * step / 4
        y = scale.y(score)
        yield (
            f'<line x1="{LEFT - 4}" y1="{y:.1f}" x2="{right}" y2="{y:.1f}" stroke="#ddd"/>'
            f'<text x="{LEFT - 8}" y="{y + 4:.1f}" text-anchor="end">{score:.3f}</text>'
        )
    for version, proposal in enumerate(view.accepted, start=1):
        x = scale.x(version)
        yield (
            f'<text class="version" x="{x:.1f}" y="{bottom + 18}" text-anchor="middle">'
            f"v{version}<title>{escape(proposal)}</title></text>"
        )
    yield (
        f'<text x="{(LEFT + right) / 2:.1f}" y="{HEIGHT - 8}" text-anchor="middle">'
        "accepted model (version)</text>"
        f'<text x="14" y="{(TOP + bottom) / 2:.1f}" text-anchor="middle" '
        f'transform="rotate(-90 14 {(TOP + bottom) / 2:.1f})">{escape(view.metric)}</text>'
    )


def _series(org: str, colour: str, points: list[ScorePoint], scale: _Scale) -> list[str]:
    path = " ".join(f"{scale.x(p.version):.1f},{scale.y(p.score):.1f}" for p in points)
    parts = [
        f'<polyline class="series" data-org="{escape(org)}" points="{path}" fill="none" '
        f'stroke="{colour}" stroke-width="2"/>'
    ]
    parts += [
        f'<circle class="point" data-org="{escape(org)}" data-proposal="{escape(p.proposal_id)}"'
        f' data-version="{p.version}" data-score="{p.score!r}" cx="{scale.x(p.version):.1f}" '
        f'cy="{scale.y(p.score):.1f}" r="4" fill="{colour}">'
        f"<title>{escape(org)}: {p.score:.4f} on v{p.version} ({escape(p.proposal_id)})</title>"
        "</circle>"
        for p in points
    ]
    return parts


def _legend_entry(index: int, org: str, colour: str) -> str:
    x, y = WIDTH - RIGHT + 16, TOP + 8 + 20 * index
    return (
        f'<g class="legend"><rect x="{x}" y="{y - 8}" width="12" height="12" fill="{colour}"/>'
        f'<text x="{x + 18}" y="{y + 2}">{escape(org)}</text></g>'
    )
