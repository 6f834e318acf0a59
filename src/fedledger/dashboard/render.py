"""The dashboard's HTML, rendered on the server: plain tables and the inline SVG plot, styled by
one inline stylesheet. The same sections make the live page and the self-contained report; the
live page adds a few lines of plain JavaScript that fetch the sections again when the ledger
grows (routes.py). Every value from the ledger is escaped."""

from __future__ import annotations

from datetime import datetime
from html import escape

from fedledger.audit import iso
from fedledger.dashboard.svg import org_colour, score_plot
from fedledger.dashboard.views import TaskView, TimelineEntry
from fedledger.registry.records import Vote

STYLE = """
body { font: 14px/1.4 system-ui, sans-serif; margin: 1.5em; color: #222; }
h1 { font-size: 1.4em; } h2 { font-size: 1.15em; margin-top: 1.6em; }
table { border-collapse: collapse; margin: .5em 0; max-width: 100%; }
th, td { border: 1px solid #ccc; padding: .25em .5em; text-align: left; vertical-align: top;
  overflow-wrap: anywhere; }
th { background: #f3f3f3; } td.num { text-align: right; font-variant-numeric: tabular-nums; }
code { font-size: .9em; } .empty { color: #777; }
.ACCEPTED { color: #006d2c; } .REJECTED, .REVOKED { color: #a50f15; } .EXPIRED { color: #777; }
td.cell { text-align: center; min-width: 7em; } td.unavailable { outline: 2px dashed #a50f15; }
.score-plot text { font-size: 11px; }
"""

MARKS = {"approve": "✔ approve", "reject": "✘ reject", "abstain": "\u2013 abstain"}
UNAVAILABLE_MARK = "⚠ bytes unavailable"


def sections(view: TaskView) -> str:
    """The four views of the task, as one HTML fragment. Raises nothing."""
    return "\n".join(
        [
            f'<p class="as-of">As of block <span id="through-block">{view.through_block}</span>'
            f" of the ledger; metric <code>{escape(view.metric)}</code> "
            f"({'higher' if view.higher_is_better else 'lower'} is better).</p>",
            '<h2 id="timeline">Proposals and decisions</h2>',
            timeline_table(view),
            '<h2 id="scores">Scores of the accepted models, per organisation</h2>',
            score_plot(view),
            '<h2 id="matrix">Cross-site matrix</h2>',
            matrix_table(view),
            '<h2 id="audit">Audit trail</h2>',
            audit_table(view),
        ]
    )


def page(view: TaskView, script: str = "", *, events: str = "no") -> str:
    """A whole HTML document of the task's views; `script` (plain JavaScript) is inlined when
    given, and `events` ("yes" or "no": whether the server streams the task's changes) tells it
    how to follow the ledger. No external request: styles and plots are inline. Raises
    nothing."""
    title = f"fedledger: task {escape(view.task_id)}"
    tail = f"<script>{script}</script>" if script else ""
    return (
        f'<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8"><title>{title}</title>'
        f'<style>{STYLE}</style></head><body data-events="{escape(events)}"><h1>{title}</h1>'
        f'<main id="sections">{sections(view)}</main>{tail}</body></html>\n'
    )


def report_page(view: TaskView) -> str:
    """The self-contained report of `fedledger report`. Raises nothing."""
    return page(view)


def timeline_table(view: TaskView) -> str:
    if not view.timeline:
        return '<p class="empty">No proposal yet.</p>'
    head = (
        "<tr><th>proposed</th><th>proposal</th><th>by</th><th>decision</th><th>decided</th>"
        "<th>approve</th><th>reject</th><th>abstain</th><th>unavailable</th><th>reason</th></tr>"
    )
    return f'<table id="timeline-table">{head}{"".join(map(_timeline_row, view.timeline))}</table>'


def _timeline_row(entry: TimelineEntry) -> str:
    return (
        f'<tr class="proposal" data-proposal="{escape(entry.proposal_id)}">'
        f"<td>{_time(entry.created_at)}</td><td><code>{escape(entry.proposal_id)}</code></td>"
        f"<td>{escape(entry.proposer)}</td>"
        f'<td class="status {entry.status}">{entry.status}</td><td>{_time(entry.decided_at)}</td>'
        f'<td class="num">{entry.approve}</td><td class="num">{entry.reject}</td>'
        f'<td class="num">{entry.abstain}</td><td class="num">{entry.unavailable}</td>'
        f"<td>{escape(entry.reason)}</td></tr>"
    )


def matrix_table(view: TaskView) -> str:
    """Every proposal (rows) by every organisation (columns): the score, coloured from worst to
    best within the task, and the vote."""
    rows = view.matrix.rows
    if not rows:
        return '<p class="empty">No proposal yet.</p>'
    scores = [v.score for r in rows for v in r.votes.values() if v.score is not None]
    span = (min(scores), max(scores)) if scores else (0.0, 1.0)
    head = "".join(
        f'<th style="border-bottom: 3px solid {org_colour(view, org)}">{escape(org)}</th>'
        for org in view.organizations
    )
    body = []
    for row in rows:
        cells = "".join(
            _cell(row.proposal.id, org, row.votes.get(org), span, view.higher_is_better)
            for org in view.organizations
        )
        body.append(
            f'<tr data-proposal="{escape(row.proposal.id)}"><td><code>'
            f"{escape(row.proposal.id)}</code></td>"
            f'<td class="status {row.proposal.status}">{row.proposal.status}</td>{cells}</tr>'
        )
    return (
        f'<table id="matrix-table"><tr><th>proposal</th><th>decision</th>{head}</tr>'
        f"{''.join(body)}</table>"
    )


def _cell(
    proposal: str, org: str, vote: Vote | None, span: tuple[float, float], higher: bool
) -> str:
    where = f'data-proposal="{escape(proposal)}" data-org="{escape(org)}"'
    if vote is None:
        return f'<td class="cell none" {where} data-decision="">not recorded</td>'
    if vote.decision == "unavailable":
        return (
            f'<td class="cell unavailable" {where} data-decision="unavailable" '
            f'title="{escape(vote.reason)}">{UNAVAILABLE_MARK}</td>'
        )
    score = "" if vote.score is None else repr(vote.score)
    shown = "no score" if vote.score is None else f"{vote.score:.4f}"
    style = (
        ""
        if vote.score is None
        else f' style="background: {cell_colour(vote.score, span, higher)}"'
    )
    return (
        f'<td class="cell" {where} data-decision="{vote.decision}" data-score="{score}"{style} '
        f'title="{escape(vote.reason)}">{shown}<br>{MARKS[vote.decision]}</td>'
    )


def cell_colour(score: float, span: tuple[float, float], higher_is_better: bool) -> str:
    """From light red (the task's worst score) to light green (its best). Raises nothing."""
    low, high = span
    share = 0.5 if high == low else (score - low) / (high - low)
    good = share if higher_is_better else 1 - share
    worst, best = (252, 187, 161), (161, 217, 155)
    red, green, blue = (round(w + (b - w) * good) for w, b in zip(worst, best, strict=True))
    return f"#{red:02x}{green:02x}{blue:02x}"


def audit_table(view: TaskView) -> str:
    if not view.audit:
        return '<p class="empty">No event yet.</p>'
    head = (
        "<tr><th>block</th><th>position</th><th>time</th><th>event</th><th>record</th>"
        "<th>actor</th><th>summary</th><th>transaction</th></tr>"
    )
    rows = "".join(
        f'<tr class="event" data-block="{row.block}" data-tx="{escape(row.event.transaction_id)}">'
        f'<td class="num">{row.block}</td><td class="num">{row.position}</td>'
        f"<td>{_time(row.event.timestamp)}</td><td>{escape(row.event.event)}</td>"
        f"<td><code>{escape(row.event.record_id)}</code></td><td>{escape(row.event.actor)}</td>"
        f"<td>{escape(row.event.summary)}</td>"
        f"<td><code>{escape(row.event.transaction_id)}</code></td></tr>"
        for row in view.audit
    )
    return f'<table id="audit-table">{head}{rows}</table>'


def _time(moment: datetime | None) -> str:
    return "" if moment is None else escape(iso(moment))
