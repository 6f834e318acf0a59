"""The dashboard's views without a ledger: the view model, the SVG plot and the HTML, from
records as the chaincode writes them. Every number shown must be the record's."""

from __future__ import annotations

import copy
import re
from datetime import UTC, datetime, timedelta
from html.parser import HTMLParser
from typing import Any

from fedledger.audit import Event, Row
from fedledger.dashboard import build_view, report_page
from fedledger.dashboard.render import cell_colour, sections
from fedledger.dashboard.svg import score_plot
from fedledger.registry import Proposal, Task, Vote
from fedledger.registry.scores import ScoreMatrix, ScoreRow

ORGS = ("Org1MSP", "Org2MSP", "Org3MSP")
START = datetime(2026, 11, 30, 12, 0, tzinfo=UTC)
POLICY = {
    "quorum": 3,
    "approvalThreshold": 0.6,
    "minScore": None,
    "maxRegression": 0.05,
    "votingPeriodSeconds": 3600,
    "maxModelBytes": 1000,
    "maxOpenProposalsPerOrg": 3,
}
TASK = {
    "docType": "task",
    "schemaVersion": 1,
    "id": "churn",
    "description": "",
    "schema": {},
    "schemaSha256": "0" * 64,
    "metric": "roc_auc",
    "higherIsBetter": True,
    "members": list(ORGS),
    "policy": POLICY,
    "createdBy": "Org1MSP",
    "createdAt": "2026-11-30T11:59:00.000Z",
    "updatedAt": "2026-11-30T11:59:00.000Z",
    "txId": "tx-task",
}
# Three proposals: accepted; rejected with one member's bytes unavailable; accepted again,
# over Org3MSP's veto (its score fell by more than the policy allows).
STORY: list[tuple[str, str, dict[str, tuple[str, float | None]]]] = [
    ("p-1", "ACCEPTED", {"Org1MSP": ("approve", 0.8), "Org2MSP": ("approve", 0.78),
                         "Org3MSP": ("approve", 0.75)}),
    ("p-2", "REJECTED", {"Org1MSP": ("reject", 0.7), "Org2MSP": ("unavailable", None),
                         "Org3MSP": ("reject", 0.72)}),
    ("p-3", "ACCEPTED", {"Org1MSP": ("approve", 0.85), "Org2MSP": ("approve", 0.83),
                         "Org3MSP": ("reject", 0.6)}),
]  # fmt: skip


def stamp(moment: datetime) -> str:
    return f"{moment:%Y-%m-%dT%H:%M:%S}.000Z"


def proposal(index: int, pid: str, status: str, votes: dict[str, tuple[str, Any]]) -> Proposal:
    created = START + timedelta(minutes=10 * index)
    counts = {d: sum(1 for v in votes.values() if v[0] == d) for d in ("approve", "reject")}
    return Proposal.from_dict(
        {
            "docType": "proposal",
            "schemaVersion": 1,
            "id": pid,
            "taskId": "churn",
            "modelSha256": f"{index}" * 64,
            "uri": f"file:///m/{pid}",
            "sizeBytes": 10,
            "format": "onnx",
            "proposer": "Org1MSP",
            "metrics": {},
            "parent": None,
            "round": None,
            "electorate": list(ORGS),
            "policy": POLICY,
            "metric": "roc_auc",
            "higherIsBetter": True,
            "status": status,
            "statusReason": f"{status.lower()} <by> the votes",
            "tally": {**counts, "abstain": 0, "votes": {}, "unavailable": 1 if index == 1 else 0},
            "createdAt": stamp(created),
            "deadline": stamp(created + timedelta(hours=1)),
            "decidedAt": stamp(created + timedelta(minutes=1)),
            "txId": f"tx-{pid}",
        }
    )


def vote(pid: str, voter: str, decision: str, score: float | None) -> Vote:
    return Vote.from_dict(
        {
            "docType": "vote",
            "schemaVersion": 1,
            "proposalId": pid,
            "taskId": "churn",
            "voter": voter,
            "decision": decision,
            "metrics": {} if score is None else {"roc_auc": score},
            "score": score,
            "holdoutRows": 100,
            "evaluatorVersion": "e/1",
            "reason": "model bytes unavailable to it" if score is None else "",
            "castAt": stamp(START),
            "txId": f"tx-{pid}-{voter}",
        }
    )


def matrix(story: list[Any] = STORY, task: dict[str, Any] = TASK) -> ScoreMatrix:
    rows = tuple(
        ScoreRow(
            proposal(i, pid, status, votes),
            {org: vote(pid, org, d, s) for org, (d, s) in votes.items()},
        )
        for i, (pid, status, votes) in enumerate(story)
    )
    return ScoreMatrix(Task.from_dict(task), ORGS, rows)


def audit() -> list[Row]:
    created = Event("task.created", "task", "churn", "tx-task", START, "Org1MSP", "", "", {})
    accepted = Event(
        "proposal.accepted", "proposal", "p-1", "tx-p-1", START, "", "ACCEPTED", "", {}
    )
    return [Row(created, 4, 0), Row(accepted, 9, 1)]


class Elements(HTMLParser):
    """Every start tag with its attributes, and whether any reaches outside the document."""

    def __init__(self, text: str) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.feed(text)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))

    def all(self, tag: str, cls: str | None = None) -> list[dict[str, str | None]]:
        return [
            a for t, a in self.tags if t == tag and (cls is None or cls in (a.get("class") or ""))
        ]


def test_the_plot_has_one_point_per_score_of_each_accepted_model() -> None:
    view = build_view(matrix(), audit())
    assert view.accepted == ("p-1", "p-3")
    assert [(p.version, p.proposal_id, p.organization, p.score) for p in view.points] == [
        (1, "p-1", "Org1MSP", 0.8),
        (1, "p-1", "Org2MSP", 0.78),
        (1, "p-1", "Org3MSP", 0.75),
        (2, "p-3", "Org1MSP", 0.85),
        (2, "p-3", "Org2MSP", 0.83),
        (2, "p-3", "Org3MSP", 0.6),
    ]
    circles = Elements(score_plot(view)).all("circle", "point")
    drawn = [(c["data-org"], c["data-proposal"], float(c["data-score"] or "")) for c in circles]
    assert sorted(drawn) == sorted((p.organization, p.proposal_id, p.score) for p in view.points)
    # Higher scores are drawn higher: SVG's y grows downwards.
    by_score = sorted(circles, key=lambda c: float(c["data-score"] or ""))
    heights = [float(c["cy"] or "") for c in by_score]
    assert heights == sorted(heights, reverse=True)
    assert len(Elements(score_plot(view)).all("polyline", "series")) == 3


def test_the_plot_says_so_when_no_accepted_model_has_a_score() -> None:
    view = build_view(matrix(STORY[1:2]), [])
    assert view.points == ()
    assert score_plot(view) == '<p class="empty">No accepted model has a recorded score yet.</p>'


def test_the_matrix_has_every_organisation_by_every_proposal_with_its_vote() -> None:
    parsed = Elements(sections(build_view(matrix(), audit())))
    cells = parsed.all("td", "cell")
    assert len(cells) == len(ORGS) * len(STORY)
    seen = {(c["data-proposal"], c["data-org"]): c for c in cells}
    for pid, _, votes in STORY:
        for org, (decision, score) in votes.items():
            cell = seen[(pid, org)]
            assert cell["data-decision"] == decision
            if score is not None:
                assert float(cell["data-score"] or "") == score
    unavailable = seen[("p-2", "Org2MSP")]
    assert unavailable["class"] == "cell unavailable"
    assert unavailable["title"] == "model bytes unavailable to it"
    # The best score of the task is the greenest, the worst the reddest.
    assert seen[("p-3", "Org1MSP")]["style"] == "background: #a1d99b"
    assert seen[("p-3", "Org3MSP")]["style"] == "background: #fcbba1"


def test_a_lower_is_better_metric_turns_the_colours_round() -> None:
    assert cell_colour(0.1, (0.1, 0.9), higher_is_better=False) == "#a1d99b"
    assert cell_colour(0.9, (0.1, 0.9), higher_is_better=False) == "#fcbba1"
    assert cell_colour(0.5, (0.5, 0.5), higher_is_better=True) == "#ceca9e"


def test_the_timeline_and_the_audit_trail_show_the_records_numbers() -> None:
    view = build_view(matrix(), audit())
    parsed = Elements(sections(view))
    assert [r["data-proposal"] for r in parsed.all("tr", "proposal")] == ["p-1", "p-2", "p-3"]
    assert [(e.approve, e.reject, e.unavailable) for e in view.timeline] == [
        (3, 0, 0),
        (0, 2, 1),
        (2, 1, 0),
    ]
    assert [(r["data-block"], r["data-tx"]) for r in parsed.all("tr", "event")] == [
        ("4", "tx-task"),
        ("9", "tx-p-1"),
    ]
    assert view.through_block == 9
    assert '<span id="through-block">9</span>' in sections(view)


def test_the_report_is_self_contained_and_escapes_what_the_ledger_holds() -> None:
    story = copy.deepcopy(STORY)
    task = {**TASK, "id": "<b>churn</b>"}
    text = report_page(build_view(matrix(story, task), audit()))
    parsed = Elements(text)
    assert parsed.all("script") == []
    assert parsed.all("link") == []
    assert parsed.all("img") == []
    assert not [a for _, a in parsed.tags if "src" in a or "href" in a]
    assert re.findall(r"https?://[^\"' ]+", text) == ["http://www.w3.org/2000/svg"]  # a name
    assert "<b>churn</b>" not in text
    assert "&lt;b&gt;churn&lt;/b&gt;" in text
    assert "accepted &lt;by&gt; the votes" in text
    assert len(parsed.all("svg")) == 1


def test_a_revoked_model_stays_a_version_and_a_pending_one_is_none() -> None:
    story = [(pid, status, votes) for pid, status, votes in STORY]
    story[0] = ("p-1", "REVOKED", STORY[0][2])
    story[2] = ("p-3", "PENDING", STORY[2][2])
    view = build_view(matrix(story), [])
    assert view.accepted == ("p-1",)
    assert {p.proposal_id for p in view.points} == {"p-1"}
    assert view.through_block == 0
    assert '<p class="empty">No event yet.</p>' in sections(view)
