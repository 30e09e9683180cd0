"""The demo portfolio: two funds of fictional companies modelled on the essay's archetypes.

Every note is written by hand for its company and factor, dated back from today, so every
machine gets the same map; loading it twice changes nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Permission
from django.db import transaction
from django.utils import timezone
from simple_history.utils import bulk_create_with_history

from . import recompute, selectors
from .models import Company, CompanyStatus, Evidence, Fund, Membership, Role, Task
from .notes import render_note_or_text

DEMO_PASSWORD = "moatmap-demo"
# One demo user per role, a member of both demo funds.
DEMO_USERS = (
    ("partner", Role.PARTNER),
    ("associate", Role.ASSOCIATE),
    ("viewer", Role.VIEWER),
)
FUNDS = ("Northbridge Ventures III", "Northbridge Growth I")


@dataclass(frozen=True)
class Note:
    """One observation an associate wrote down: how long ago, which way, how strong, how
    sure, where it came from, and what it says."""

    months_ago: int
    stance: int
    strength: int
    confidence: str
    source: str
    text: str


def n(months_ago: int, stance: str, strength: int, confidence: str, source: str, text: str):
    """A note in one line: stance "+" supports its factor, "-" contradicts it; confidence
    "h", "m" or "l"."""
    return Note(
        months_ago,
        1 if stance == "+" else -1,
        strength,
        {"h": "high", "m": "medium", "l": "low"}[confidence],
        source,
        text,
    )


@dataclass(frozen=True)
class Archetype:
    name: str
    fund: int
    sector: str
    stage: str
    status: str
    check_size: int
    arr: int
    description: str
    # task name, weight, {factor: the notes on it}
    tasks: tuple[tuple[str, float, dict[str, tuple[Note, ...]]], ...]


# fmt: off
# The essay's story over two years, one company at a time: a thin wrapper absorbed; a
# legal AI held up by its private benchmark and its clients' systems; an inference
# provider whose price commoditises while its reliability does not; a support agent paid
# per resolution. Every note is written for its company and factor, and says why it
# pushes the way its factor and stance push.
ARCHETYPES = (
    Archetype(
        "Lexbench", 0, "Legal", "Series B", CompanyStatus.PORTFOLIO, 12_000_000, 9_500_000,
        "Legal AI that owns the private benchmark its customers judge contract review by.",
        (
            ("First-pass review of M&A purchase agreements", 3, {
                "private_eval": (
                    n(25, "+", 5, "h", "Reference call, deputy GC at a top-50 firm",
                      "The firm's knowledge team benchmarks every tool against Lexbench's own "
                      "test set of 1,400 annotated purchase agreements. Lexbench owns the "
                      "definition of a correct issues list; the firm adopted it as its gold "
                      "set."),
                    n(9, "+", 5, "h", "Board deck",
                      "The private eval now covers 3,100 agreements with partner-graded issue "
                      "lists. Two new clients asked to license the gold set itself before "
                      "buying the product."),
                    n(2, "+", 4, "m", "Expert network call, former legal-ops lead",
                      "Buyers at three firms describe passing Lexbench's own benchmark as their "
                      "internal bar for any contract-review vendor."),
                ),
                "system_access": (
                    n(20, "+", 4, "m", "Security review report",
                      "Signed a 3-year DPA giving read access to the firm's document management "
                      "system; passed the client's security review after a two-week pen test."),
                    n(11, "+", 5, "h", "Customer reference call",
                      "Runs as a service account inside iManage at four firms, with write access "
                      "to matter workspaces. Redlines land in the DMS, not in a browser tab."),
                    n(4, "+", 4, "m", "Board deck",
                      "SSO and matter-level integration are live at 11 of 14 customers; the two "
                      "pilots without them converted at half the rate."),
                ),
                "accountability": (
                    n(16, "+", 3, "m", "Master services agreement review",
                      "The MSA carries a capped indemnity for missed change-of-control clauses, "
                      "unusual for legal AI and the reason two risk committees approved it."),
                    n(6, "-", 2, "l", "Customer reference call",
                      "One client's engagement letter disclaims any reliance on the output: the "
                      "supervising associate stays the accountable party."),
                ),
                "frontier_model_parity": (
                    n(21, "-", 3, "m", "Internal bake-off",
                      "On 40 agreements from our own deal files a general frontier model fell "
                      "short on disclosure-schedule cross-references that Lexbench caught in "
                      "37."),
                    n(8, "+", 3, "m", "Model lab release notes",
                      "The latest general model matched Lexbench on plain NDAs and short asset "
                      "purchases in our side-by-side; on simple agreements the gap has closed."),
                    n(1, "-", 3, "m", "Internal bake-off",
                      "Re-ran the comparison on 25 complex SPAs: the newest general model is "
                      "still well behind on earn-out and MAC carve-outs that the firm's "
                      "reviewers flag."),
                ),
                "public_benchmark": (
                    n(18, "-", 2, "m", "Literature scan",
                      "Checked the legal evals in circulation: no public benchmark tests "
                      "cross-document issue spotting in purchase agreements. The open sets stop "
                      "at clause classification."),
                    n(5, "+", 2, "l", "Public leaderboard",
                      "A public leaderboard for contract QA appeared this year. It scores "
                      "single-clause questions, a thin slice of first-pass review."),
                ),
                "tacit_judgment": (
                    n(19, "+", 4, "m", "Partner interview",
                      "Which risks matter in a disclosure schedule depends on the deal's "
                      "commercial story; partners call it judgment built over dozens of "
                      "closings."),
                    n(7, "+", 4, "h", "Customer reference call",
                      "Senior associates override about a fifth of the issue rankings. "
                      "Materiality is a call made from experience, and the product learns from "
                      "those overrides."),
                ),
                "long_feedback_loop": (
                    n(17, "+", 3, "m", "Expert network call, M&A litigator",
                      "A missed indemnity surfaces only after closing, often in a warranty claim "
                      "the following year."),
                    n(3, "+", 3, "l", "Dispute log shared by a client",
                      "Of 12 post-closing disputes in the client's history, the earliest "
                      "surfaced seven months later than signing."),
                ),
            }),
            ("Clause extraction into the deal room", 1, {
                "cheap_verification": (
                    n(14, "+", 3, "m", "Product demo",
                      "Extracted fields are checked automatically against the deal room's "
                      "schema; a wrong party name fails validation at once."),
                    n(5, "+", 3, "m", "Customer reference call",
                      "Paralegals spot-check extractions by exact match on defined terms in the "
                      "source PDF."),
                ),
                "open_model_parity": (
                    n(10, "+", 3, "m", "Internal bake-off",
                      "A fine-tuned open model pulled parties, dates and governing law close "
                      "enough to Lexbench's output that the client asked only about price per "
                      "document."),
                    n(2, "+", 3, "m", "Pricing page",
                      "Deal-room vendors now include extraction on open weights for free, and "
                      "buyers weigh it on price alone."),
                ),
                "workflow_depth": (
                    n(12, "+", 3, "m", "Product demo",
                      "Extraction feeds the closing checklist, which routes through signatures "
                      "and the funds-flow memo: multi-step, with hand-offs between three "
                      "teams."),
                    n(6, "-", 2, "m", "Customer reference call",
                      "At smaller clients extraction is a one-shot dump into a spreadsheet and "
                      "goes no further."),
                ),
                "proprietary_data": (
                    n(13, "+", 3, "m", "Customer reference call",
                      "Clause labels are mapped to each firm's precedent bank, so fields are "
                      "named the way that firm drafts."),
                    n(3, "-", 2, "l", "Internal bake-off",
                      "For parties, dates and amounts, public filings are enough to train the "
                      "extractor; precedents add little there."),
                ),
            }),
        ),
    ),
    Archetype(
        "Resolvd", 0, "Customer support", "Series A", CompanyStatus.PORTFOLIO, 8_000_000,
        6_000_000,
        "Support agent paid per resolution; owns what 'resolved' means at each customer.",
        (
            ("Resolve tier-1 tickets end to end", 3, {
                "outcome_pricing": (
                    n(25, "+", 5, "h", "Signed order form",
                      "Priced at $1.40 per resolution confirmed by the customer's own ticket "
                      "status, with no seat fee at all."),
                    n(12, "+", 5, "h", "Board deck",
                      "89% of revenue is billed per resolution. Two customers went from pilot "
                      "to paid on outcome-based terms without a procurement fight."),
                    n(3, "+", 4, "m", "Customer reference call",
                      "The VP Support says the per-resolution invoice is the only quality "
                      "report she reads: if Resolvd closes fewer tickets, it earns less."),
                ),
                "private_eval": (
                    n(18, "+", 4, "m", "Product demo",
                      "What counts as resolved at each account (no reopen in 7 days, CSAT of 4 "
                      "or more) lives in Resolvd's own eval, tuned per customer."),
                    n(6, "+", 4, "h", "Customer reference call",
                      "The customer's QA team now grades its human agents against Resolvd's "
                      "gold set of 2,000 scored conversations."),
                ),
                "system_access": (
                    n(20, "+", 4, "m", "Security review report",
                      "Holds scoped write access to Zendesk, the Shopify admin and the refunds "
                      "API at its largest customer; refunds under $50 need no human."),
                    n(8, "+", 4, "m", "Customer reference call",
                      "The order-management integration took four months and a CISO sign-off. "
                      "Nobody wants to repeat that for a rival."),
                    n(1, "-", 2, "l", "Churn analysis",
                      "A mid-market customer revoked the refund rights after a chargeback "
                      "spike; Resolvd now drafts and a person clicks."),
                ),
                "frontier_model_parity": (
                    n(15, "-", 3, "m", "Internal bake-off",
                      "Given the same help-centre articles, a general model closed 41% of "
                      "sampled tickets against Resolvd's 68%; it fell short wherever the order "
                      "history mattered."),
                    n(4, "+", 3, "m", "Internal bake-off",
                      "On password resets and delivery-status questions a general model already "
                      "handles the ticket as well as Resolvd, about a third of volume."),
                    n(1, "+", 3, "m", "Model lab release notes",
                      "With tool use, the new general model caught up on simple refunds in the "
                      "lab's demo. The easy half of tier-1 is converging."),
                ),
                "public_training_data": (
                    n(19, "+", 2, "m", "Expert network call",
                      "Help-desk dialogue is among the most openly available conversation data "
                      "there is, with public datasets of millions of threads."),
                    n(7, "-", 2, "l", "Customer reference call",
                      "The customer's macros, refund policies and edge cases were never "
                      "published; they exist only in its ticket history."),
                ),
                "workflow_depth": (
                    n(14, "+", 3, "m", "Product demo",
                      "A refund ticket runs end to end: verify the order, check policy, issue "
                      "the refund, update the CRM, close with a survey."),
                    n(5, "+", 3, "m", "Usage telemetry shared by the company",
                      "The median resolved ticket touches 4.2 systems in a multi-step sequence "
                      "of nine actions."),
                ),
            }),
            ("Draft replies for human agents", 1, {
                "frontier_model_parity": (
                    n(16, "+", 4, "h", "Internal bake-off",
                      "In a blind test with eight agents, general-model drafts were "
                      "indistinguishable from Resolvd's suggested replies."),
                    n(5, "+", 4, "h", "Customer reference call",
                      "Agents now draft in the help desk's built-in assistant, which writes "
                      "replies as well as Resolvd did."),
                ),
                "lab_first_party": (
                    n(13, "+", 3, "m", "Model lab release notes",
                      "A model lab shipped its own reply assistant with plug-ins for the major "
                      "help desks."),
                    n(2, "+", 4, "m", "Pricing page",
                      "Reply drafting is now bundled into the lab's enterprise plan at no extra "
                      "cost."),
                ),
                "open_model_parity": (
                    n(9, "+", 3, "m", "Customer reference call",
                      "For suggestions the customer switched to an open model hosted by its "
                      "help-desk vendor and negotiated only about price."),
                ),
                "portable_workflow": (
                    n(11, "+", 3, "m", "Product demo",
                      "Suggested replies are plain text in a sidebar; any vendor's drop-in "
                      "widget does the same, so switching cost is low."),
                    n(3, "+", 3, "m", "Churn analysis",
                      "Two customers swapped the sidebar for their help desk's own within a "
                      "week. The drafting workflow is portable."),
                ),
            }),
        ),
    ),
    Archetype(
        "Wardround", 0, "Healthcare", "Series B", CompanyStatus.PORTFOLIO, 15_000_000,
        11_000_000, "Clinical-answers tool that doctors open every day at the bedside.",
        (
            ("Point-of-care clinical answers", 2, {
                "user_habit": (
                    n(22, "+", 5, "h", "Usage telemetry shared by the company",
                      "71% of hospitalists at the flagship health system use Wardround every "
                      "day on rounds, a median of nine lookups per shift."),
                    n(10, "+", 5, "h", "Customer reference call",
                      "The CMIO calls it the default tool at the bedside; residents reach for "
                      "it before the formulary."),
                    n(2, "+", 4, "m", "Usage telemetry shared by the company",
                      "Daily actives held at 68% through the July rotation of residents: the "
                      "habit survives new cohorts."),
                ),
                "accountability": (
                    n(18, "+", 4, "m", "Regulatory filing",
                      "Registered as a clinical decision support provider, with professional "
                      "liability cover for its content."),
                    n(7, "+", 4, "m", "Master services agreement review",
                      "An editorial board of 40 physicians signs off every answer template, and "
                      "the company is on the hook for content errors under the MSA."),
                ),
                "private_eval": (
                    n(15, "+", 3, "m", "Product demo",
                      "Answers are graded against Wardround's own gold set of 3,000 "
                      "clinician-reviewed questions, refreshed each quarter."),
                    n(4, "-", 2, "l", "Expert network call",
                      "Hospitals increasingly rely on a third-party eval run by a medical "
                      "society rather than on Wardround's set."),
                ),
                "frontier_model_parity": (
                    n(17, "-", 3, "m", "Internal bake-off",
                      "On 60 bedside questions a general model fell short on renal dose "
                      "adjustment nine times; Wardround got all of them right."),
                    n(6, "+", 3, "m", "Internal bake-off",
                      "For textbook questions such as differentials and guideline summaries, a "
                      "general model matched Wardround's answers in our review."),
                    n(1, "-", 3, "m", "Customer reference call",
                      "Pharmacists say general chatbots remain well behind on local formulary "
                      "limits and antibiograms, which Wardround shows inline."),
                ),
                "public_benchmark": (
                    n(12, "+", 3, "m", "Public leaderboard",
                      "Licensing-exam questions are scored publicly, and every frontier lab "
                      "reports against them."),
                    n(3, "+", 3, "m", "Model lab release notes",
                      "A lab's release cites a new public test set of bedside questions with "
                      "physician grading."),
                ),
                "time_in_production": (
                    n(20, "+", 4, "h", "Board deck",
                      "Six years in production across 140 hospitals without a serious safety "
                      "event attributed to content."),
                    n(5, "+", 4, "m", "Security review report",
                      "99.97% uptime over the last year, under real load through the winter "
                      "respiratory surge."),
                ),
            }),
            ("Discharge summary drafting in the EHR", 1, {
                "system_access": (
                    n(16, "+", 5, "h", "Security review report",
                      "Runs inside Epic through an approved integration with write access to "
                      "draft notes, after the health system's HIPAA review."),
                    n(6, "+", 5, "h", "Customer reference call",
                      "Its service account pulls labs, medications and nursing notes for the "
                      "admission; rivals wait a year for that approval."),
                ),
                "proprietary_data": (
                    n(14, "+", 4, "m", "Product demo",
                      "Each summary is assembled from the patient records of the stay: vitals, "
                      "consult notes and the medication reconciliation."),
                    n(4, "+", 4, "m", "Customer reference call",
                      "Tuned on the hospital's own discharge letters under a data-use "
                      "agreement; the internal data is what makes the tone right."),
                ),
                "workflow_depth": (
                    n(11, "+", 4, "m", "Product demo",
                      "Drafting spans the whole discharge: med rec, follow-up booking, patient "
                      "instructions, then the attending's approval chain."),
                    n(2, "+", 3, "m", "Usage telemetry shared by the company",
                      "Each summary passes three hand-offs inside the EHR: resident, attending, "
                      "pharmacist."),
                ),
                "long_feedback_loop": (
                    n(13, "+", 3, "m", "Expert network call, hospitalist",
                      "Whether a discharge summary was right shows in readmissions, weeks or "
                      "months later than the note was signed."),
                    n(3, "-", 2, "l", "Customer reference call",
                      "Coding gaps in summaries are flagged by billing within the hour, so part "
                      "of the signal arrives immediately."),
                ),
            }),
        ),
    ),
    Archetype(
        "Patchwise", 0, "Developer tools", "Series A", CompanyStatus.PORTFOLIO, 10_000_000,
        7_000_000, "Coding agent for pull-request work: verified by compilers and tests.",
        (
            ("Write and fix code from issues", 3, {
                "cheap_verification": (
                    n(21, "+", 5, "h", "Product demo",
                      "Every pull request runs the customer's test suite and compiler in CI; a "
                      "wrong patch fails with no human involved."),
                    n(9, "+", 5, "h", "Usage telemetry shared by the company",
                      "92% of merged patches were verified automatically by CI before a "
                      "reviewer opened them."),
                ),
                "public_benchmark": (
                    n(20, "+", 5, "h", "Public leaderboard",
                      "Issue-resolution benchmarks in the SWE style sit on a public leaderboard "
                      "every lab competes on."),
                    n(6, "+", 5, "h", "Model lab release notes",
                      "Two labs published results on the same public test set this quarter, "
                      "both above Patchwise's reported number."),
                ),
                "public_training_data": (
                    n(19, "+", 4, "m", "Expert network call",
                      "Millions of public repositories with issues and linked fixes are openly "
                      "available to train on."),
                ),
                "frontier_model_parity": (
                    n(17, "-", 3, "m", "Internal bake-off",
                      "On a portfolio company's backlog a general model fell short on "
                      "multi-file changes, merging half as many as Patchwise."),
                    n(8, "+", 4, "h", "Internal bake-off",
                      "A general model in an agent harness matched Patchwise on single-file bug "
                      "fixes in our rerun."),
                    n(1, "+", 4, "h", "Model lab release notes",
                      "The newest general coding model caught up on multi-file tasks as well; "
                      "our rerun puts it on par with Patchwise."),
                ),
                "lab_first_party": (
                    n(14, "+", 4, "m", "Model lab release notes",
                      "A frontier lab shipped its own coding agent that opens pull requests "
                      "straight from issues."),
                    n(4, "+", 4, "h", "Pricing page",
                      "Agentic coding is bundled into the lab's developer plan, so Patchwise's "
                      "buyers already pay for an alternative."),
                ),
                "portable_workflow": (
                    n(16, "+", 5, "h", "Product demo",
                      "Works through standard git and pull requests; replacing it with another "
                      "agent is a config change, a drop-in swap."),
                    n(5, "+", 4, "m", "Churn analysis",
                      "Three customers moved to the lab's agent within a sprint. Nothing held "
                      "them: the workflow is portable."),
                ),
                "system_access": (
                    n(12, "-", 2, "m", "Security review report",
                      "Patchwise runs outside the customer's production systems and touches "
                      "only what a pull request touches."),
                ),
            }),
            ("Migrations across a customer's monorepo", 1, {
                "proprietary_data": (
                    n(13, "+", 3, "m", "Customer reference call",
                      "Migrations lean on the customer's internal data: build graphs, ownership "
                      "files and ten years of conventions."),
                    n(3, "+", 3, "m", "Product demo",
                      "Before planning a migration Patchwise indexes the customer's data on "
                      "flaky tests and deploy history."),
                ),
                "workflow_depth": (
                    n(11, "+", 3, "m", "Customer reference call",
                      "A framework migration spans 400 services with staged rollouts and owner "
                      "approvals over several weeks."),
                ),
                "cheap_verification": (
                    n(9, "+", 3, "m", "Usage telemetry shared by the company",
                      "Each migrated service passes its own test suite before the next batch "
                      "starts."),
                    n(2, "-", 2, "m", "Customer reference call",
                      "Behavioural regressions slipped past CI into production; the team now "
                      "needs a senior reviewer per service, which makes each batch costly to "
                      "check."),
                ),
                "long_feedback_loop": (
                    n(7, "-", 2, "l", "Customer reference call",
                      "Most migration errors show up the same day in the canary deploy."),
                    n(1, "+", 2, "l", "Customer reference call",
                      "One performance regression appeared only after quarter-end traffic, two "
                      "months after the change merged."),
                ),
            }),
        ),
    ),
    Archetype(
        "Tensorhaus", 1, "AI infrastructure", "Series C", CompanyStatus.PORTFOLIO,
        30_000_000, 40_000_000,
        "Inference provider: open models at the lowest price per token, and uptime under "
        "peak load.",
        (
            ("Serve open-weight models by the token", 1, {
                "open_model_parity": (
                    n(22, "+", 4, "m", "Customer reference call",
                      "The largest customer runs an open-weight model close enough to frontier "
                      "quality for its use; the renewal was only about price per million "
                      "tokens."),
                    n(10, "+", 4, "h", "Pricing page",
                      "Four providers list the same open models. Tensorhaus cut to the lowest "
                      "price per token within a week, and so did the rest."),
                    n(2, "+", 5, "h", "Churn analysis",
                      "Two customers switched to an open model host that undercut by 30%; "
                      "price per token is the whole conversation."),
                ),
                "cheap_verification": (
                    n(18, "+", 4, "m", "Product demo",
                      "Serving correctness is checked automatically: outputs are compared to "
                      "the reference implementation by exact match within tolerance."),
                ),
                "public_benchmark": (
                    n(15, "+", 4, "m", "Public leaderboard",
                      "Throughput and latency per provider are scored publicly on a leaderboard "
                      "refreshed daily."),
                ),
                "portable_workflow": (
                    n(20, "+", 4, "h", "Product demo",
                      "The API follows the standard format every provider copies; moving "
                      "traffic means changing a base URL."),
                    n(6, "+", 4, "h", "Usage telemetry shared by the company",
                      "Customers route across three providers behind a gateway. Switching cost "
                      "is low and traffic moves weekly."),
                ),
            }),
            ("Keep production inference up under peak load", 1, {
                "time_in_production": (
                    n(21, "+", 4, "m", "Security review report",
                      "Three years in production serving a payments company's fraud model, "
                      "with 99.99% uptime over the last four quarters."),
                    n(8, "+", 5, "h", "Customer reference call",
                      "Held latency under real load through the customer's Black Friday peak "
                      "while two competitors throttled."),
                    n(2, "+", 4, "h", "Board deck",
                      "Incident-free for 14 months on the dedicated-capacity tier, which is why "
                      "enterprise customers renew."),
                ),
                "accountability": (
                    n(12, "+", 4, "m", "Master services agreement review",
                      "Dedicated-capacity contracts carry service credits and liability for any "
                      "outage beyond 15 minutes."),
                ),
                "system_access": (
                    n(9, "+", 3, "m", "Customer reference call",
                      "Deployed inside two customers' VPCs with a service account and private "
                      "networking; that integration took a quarter."),
                    n(3, "-", 2, "l", "Customer reference call",
                      "Self-serve customers call the public endpoint from outside the network; "
                      "there is no access to their systems at all."),
                ),
                "long_feedback_loop": (
                    n(5, "-", 2, "l", "Usage telemetry shared by the company",
                      "Reliability failures show within minutes on the customer's dashboards, "
                      "and an outage is known immediately."),
                ),
            }),
        ),
    ),
    Archetype(
        "ChatCanvas", 1, "Productivity", "Seed", CompanyStatus.PORTFOLIO, 2_000_000, 800_000,
        "A thin chat wrapper over frontier models with a nicer interface.",
        (
            ("General chat and writing help", 1, {
                "frontier_model_parity": (
                    n(25, "+", 4, "m", "Product demo",
                      "ChatCanvas is a nicer interface on a frontier model's API; its answers "
                      "are the model's own, on par with the lab's app by construction."),
                    n(12, "+", 5, "h", "Internal bake-off",
                      "In a blind test with 20 users its answers were indistinguishable from "
                      "the lab's own app."),
                    n(2, "+", 5, "h", "Model lab release notes",
                      "The lab's app already handles long-document editing as well as "
                      "ChatCanvas's editor does."),
                ),
                "lab_first_party": (
                    n(18, "+", 4, "m", "Model lab release notes",
                      "The lab launched its own desktop app with projects and file upload, "
                      "ChatCanvas's two headline features."),
                    n(9, "+", 5, "h", "Model lab release notes",
                      "The lab shipped its own canvas-style editor, free in the consumer tier."),
                    n(1, "+", 5, "h", "Pricing page",
                      "Team workspaces are now bundled into the lab's business plan below "
                      "ChatCanvas's price."),
                ),
                "public_training_data": (
                    n(16, "+", 4, "m", "Expert network call",
                      "General writing help is learnt from the open web; public datasets of "
                      "instructions cover it many times over."),
                ),
                "portable_workflow": (
                    n(14, "+", 4, "m", "Churn analysis",
                      "Users take their chats as markdown to the lab's app in a minute; "
                      "switching cost is low."),
                    n(4, "+", 4, "h", "Churn analysis",
                      "Monthly churn reached 11%, and the exit survey calls the lab's app a "
                      "drop-in replacement."),
                ),
                "user_habit": (
                    n(20, "+", 2, "l", "Usage telemetry shared by the company",
                      "A core of 8,000 writers drafts in it every day; the habit is real but "
                      "small."),
                    n(7, "-", 2, "m", "Usage telemetry shared by the company",
                      "Active writers fell by a third after the lab's app update, and half the "
                      "cohort has lapsed."),
                ),
            }),
        ),
    ),
    Archetype(
        "Paystack Cloud", 1, "HR & payroll", "Growth", CompanyStatus.PORTFOLIO, 25_000_000,
        60_000_000,
        "Payroll platform that files taxes and carries liability for getting them right.",
        (
            ("Run payroll and file payroll taxes", 3, {
                "accountability": (
                    n(22, "+", 5, "h", "Master services agreement review",
                      "Files taxes in its own name as reporting agent and carries liability for "
                      "penalties caused by its filing errors."),
                    n(10, "+", 5, "h", "Regulatory filing",
                      "Licensed as a payroll service provider in 38 states, so it, not the "
                      "employer, is on the hook for late deposits."),
                ),
                "system_access": (
                    n(20, "+", 5, "h", "Security review report",
                      "Holds debit authority on customers' bank accounts for payroll funding "
                      "and SSO into their HRIS."),
                    n(6, "+", 5, "h", "Customer reference call",
                      "The integration with the general ledger and time tracking took the CFO's "
                      "team six months; nobody wants to redo it."),
                ),
                "time_in_production": (
                    n(21, "+", 5, "h", "Board deck",
                      "Twelve years in production, 2.1 million paychecks a month under real "
                      "load."),
                    n(4, "+", 5, "h", "Board deck",
                      "No missed payroll run since launch; the year-end W-2 season ran "
                      "incident-free."),
                ),
                "workflow_depth": (
                    n(15, "+", 4, "m", "Product demo",
                      "A payroll run goes end to end every two weeks: time import, gross-to-net, "
                      "approvals, funding, filing and year-end forms."),
                ),
                "cheap_verification": (
                    n(13, "-", 3, "m", "Expert network call, payroll auditor",
                      "A wrong multi-state withholding looks fine on the payslip; finding it "
                      "takes hours to verify against each state's rules."),
                    n(3, "+", 2, "l", "Product demo",
                      "Gross-to-net arithmetic is checked automatically against the prior run, "
                      "which catches the obvious slips."),
                ),
                "long_feedback_loop": (
                    n(17, "+", 3, "m", "Expert network call, payroll auditor",
                      "Tax errors surface quarters later in agency notices, sometimes after the "
                      "year is closed."),
                    n(8, "+", 3, "m", "Customer reference call",
                      "The customer learnt of a misclassified local tax only after an audit "
                      "letter 14 months on."),
                ),
            }),
            ("Answer employee payroll questions", 1, {
                "frontier_model_parity": (
                    n(14, "+", 4, "m", "Internal bake-off",
                      "A general model answered 50 generic questions (what FICA is, how PTO "
                      "accrues) as well as Paystack's assistant."),
                    n(3, "+", 4, "h", "Internal bake-off",
                      "Given the payslip, a general model already handles most 'why is my pay "
                      "different this month' questions."),
                ),
                "public_training_data": (
                    n(12, "+", 3, "m", "Expert network call",
                      "Payroll tax guidance is openly available from the agencies, and public "
                      "datasets of payroll FAQs abound."),
                ),
                "proprietary_data": (
                    n(9, "+", 3, "m", "Product demo",
                      "The assistant answers from the employee's pay history and the employer's "
                      "policies: their own data, not public FAQs."),
                    n(2, "-", 2, "l", "Usage telemetry shared by the company",
                      "Two thirds of questions are answered without customer data, as generic "
                      "tax explanations."),
                ),
                "lab_first_party": (
                    n(6, "-", 2, "m", "Model lab release notes",
                      "No lab offers payroll help inside HR systems; the labs have stayed out "
                      "of regulated payroll."),
                ),
            }),
        ),
    ),
    Archetype(
        "Ledgerline", 1, "Fintech", "Series B", CompanyStatus.PORTFOLIO, 18_000_000,
        14_000_000, "Reconciliation agent with production access to banks' ledgers.",
        (
            ("Reconcile bank ledgers nightly", 2, {
                "system_access": (
                    n(22, "+", 5, "h", "Security review report",
                      "Production read access to the core banking ledger at three regional "
                      "banks, through a service account their CISOs approved."),
                    n(9, "+", 5, "h", "Customer reference call",
                      "Now has write access to post adjusting entries under a maker-checker "
                      "rule, the first vendor the bank has allowed that."),
                ),
                "proprietary_data": (
                    n(20, "+", 4, "m", "Product demo",
                      "Matching rules are learnt from each bank's ledger data and a decade of "
                      "break history."),
                    n(5, "+", 4, "m", "Customer reference call",
                      "The bank's internal data on counterparty naming quirks lifts auto-match "
                      "from 80% to 97%."),
                ),
                "accountability": (
                    n(15, "+", 3, "m", "Master services agreement review",
                      "Ledgerline signs off the nightly report that goes to the controller and "
                      "accepts liability for missed breaks above a threshold."),
                    n(4, "-", 2, "l", "Master services agreement review",
                      "The second bank bought the product as-is; its own controller carries "
                      "the reconciliation."),
                ),
                "long_feedback_loop": (
                    n(18, "+", 3, "m", "Expert network call, bank controller",
                      "A mismatched break often surfaces only after month-end close, or in the "
                      "external audit."),
                    n(7, "+", 3, "m", "Customer reference call",
                      "One mis-cleared item turned up at the annual audit, eleven months "
                      "later."),
                ),
                "tacit_judgment": (
                    n(16, "+", 3, "m", "Customer reference call",
                      "Whether a break is a timing difference or a real loss is a judgment the "
                      "ops leads make from experience."),
                    n(3, "-", 2, "m", "Product demo",
                      "Most break categories are now rule-based, written down in the bank's "
                      "procedures manual."),
                ),
                "cheap_verification": (
                    n(12, "+", 2, "m", "Product demo",
                      "A reconciliation ties to the penny or it does not; balances are checked "
                      "automatically each night."),
                    n(2, "-", 2, "l", "Expert network call, bank controller",
                      "Ties can hide offsetting errors, so proving one right needs a senior "
                      "reviewer on the exceptions."),
                ),
            }),
        ),
    ),
    Archetype(
        "Claimsight", 0, "Insurance", "Series A", CompanyStatus.PIPELINE, 6_000_000,
        3_000_000, "Claims triage for insurers, paid per claim settled without rework.",
        (
            ("Triage and settle simple claims", 2, {
                "outcome_pricing": (
                    n(20, "+", 4, "m", "Pitch deck",
                      "Paid per claim settled without rework; the fee is clawed back if the "
                      "claim reopens within 90 days."),
                    n(6, "+", 4, "m", "Customer reference call",
                      "The carrier's pilot pays a success fee per settled claim and nothing for "
                      "touches."),
                ),
                "proprietary_data": (
                    n(18, "+", 4, "m", "Customer reference call",
                      "Triage draws on the carrier's claims history and 12 years of adjuster "
                      "notes, private records no outsider sees."),
                    n(5, "+", 4, "m", "Product demo",
                      "Fraud signals come from the carrier's own data on repair shops and "
                      "repeat claimants."),
                ),
                "tacit_judgment": (
                    n(15, "+", 3, "m", "Expert network call, claims adjuster",
                      "When a soft-tissue claim is worth contesting is adjuster instinct built "
                      "over years."),
                    n(4, "+", 3, "m", "Customer reference call",
                      "Senior adjusters override 15% of settlement offers on judgment about the "
                      "claimant and the venue."),
                ),
                "frontier_model_parity": (
                    n(13, "-", 3, "m", "Internal bake-off",
                      "A general model fell short on coverage calls that turn on policy "
                      "wording, settling 3 of 20 claims the carrier would have denied."),
                    n(2, "+", 3, "m", "Internal bake-off",
                      "For first notice of loss and simple glass claims a general model matched "
                      "Claimsight's triage."),
                ),
                "public_training_data": (
                    n(10, "-", 2, "l", "Expert network call",
                      "Claim files are never published, and there is little public data on "
                      "settlement outcomes."),
                ),
            }),
            ("Extract facts from claim documents", 1, {
                "open_model_parity": (
                    n(12, "+", 4, "m", "Internal bake-off",
                      "An open model read dates, amounts and parties from police reports close "
                      "enough that the carrier asked only about price."),
                    n(3, "+", 4, "m", "Pricing page",
                      "Document-AI vendors sell claim extraction on open models for a fraction, "
                      "and buyers compare on price alone."),
                ),
                "cheap_verification": (
                    n(9, "+", 3, "m", "Product demo",
                      "Extracted amounts are checked automatically against invoice totals by "
                      "exact match."),
                ),
                "public_benchmark": (
                    n(7, "+", 3, "m", "Public leaderboard",
                      "Forms and invoice extraction are tracked on a public leaderboard."),
                    n(1, "-", 2, "l", "Literature scan",
                      "For handwritten adjuster forms there is no public benchmark; the open "
                      "sets are typed documents."),
                ),
            }),
        ),
    ),
    Archetype(
        "Transly", 1, "Localization", "Series A", CompanyStatus.PASSED, 0, 2_500_000,
        "Document translation with a glossary per customer.",
        (
            ("Translate marketing and product copy", 1, {
                "public_benchmark": (
                    n(22, "+", 4, "m", "Public leaderboard",
                      "Machine translation has been scored publicly for years; each release "
                      "reports on the same public test set."),
                    n(10, "+", 4, "m", "Model lab release notes",
                      "Labs now report quality for 100 languages on a public leaderboard."),
                ),
                "frontier_model_parity": (
                    n(20, "+", 4, "h", "Internal bake-off",
                      "Bilingual reviewers rated general-model translations of product copy on "
                      "par with Transly's."),
                    n(8, "+", 5, "h", "Customer reference call",
                      "The customer now pastes copy into a general model with the glossary in "
                      "the prompt and says it translates as well as Transly."),
                    n(2, "+", 5, "h", "Internal bake-off",
                      "Even tone-sensitive campaign copy from a general model matched Transly "
                      "in our blind review."),
                ),
                "open_model_parity": (
                    n(15, "-", 3, "m", "Internal bake-off",
                      "Open models lagged on Thai and Vietnamese in our test, with a clear "
                      "quality gap."),
                    n(4, "+", 4, "h", "Customer reference call",
                      "A customer switched to an open model for 30 languages; the decision was "
                      "only about price per word."),
                ),
                "proprietary_data": (
                    n(17, "+", 2, "l", "Product demo",
                      "Per-customer glossaries and translation memories are the customer's "
                      "data and keep terminology consistent."),
                    n(6, "-", 2, "m", "Customer reference call",
                      "The glossary fits in a prompt, and public data suffices for the rest."),
                ),
            }),
        ),
    ),
    Archetype(
        "Gridmind", 1, "Energy", "Seed", CompanyStatus.PIPELINE, 3_000_000, 500_000,
        "Grid-dispatch recommendations whose correctness shows only seasons later.",
        (
            ("Recommend day-ahead dispatch", 1, {
                "long_feedback_loop": (
                    n(21, "+", 4, "m", "Expert network call, grid operator",
                      "Whether a dispatch strategy was right shows seasons later, when the "
                      "winter peak arrives."),
                    n(9, "+", 4, "m", "Customer reference call",
                      "The utility judges the recommendations only after a full year of "
                      "settlement data."),
                ),
                "tacit_judgment": (
                    n(17, "+", 3, "m", "Expert network call, control-room lead",
                      "Operators keep a feel for how the grid behaves before a cold snap that "
                      "no forecast captures."),
                    n(9, "+", 3, "m", "Customer reference call",
                      "Dispatchers accept the plan but adjust on judgment when wind ramps are "
                      "uncertain."),
                ),
                "system_access": (
                    n(14, "+", 3, "m", "Security review report",
                      "Read access to the utility's SCADA historian through a one-way diode, "
                      "approved after a NERC CIP review."),
                    n(8, "-", 2, "l", "Customer reference call",
                      "At the second utility Gridmind receives nightly export files and sits "
                      "outside the control network."),
                ),
                "public_benchmark": (
                    n(11, "-", 2, "m", "Literature scan",
                      "No leaderboard scores day-ahead dispatch; the public forecasting "
                      "competitions cover load, not the dispatch decision."),
                ),
            }),
        ),
    ),
)
# fmt: on


def load_demo(*, today: date | None = None) -> dict:
    """Create the demo funds, companies, tasks, evidence and users, unless they exist."""
    today = today or selectors.today()
    User = get_user_model()
    users = {}
    for username, _role in DEMO_USERS:
        user, created = User.objects.get_or_create(
            username=username, defaults={"email": f"{username}@example.com"}
        )
        if created:
            user.set_password(DEMO_PASSWORD)
            user.save()
        users[username] = user
    # The demo's partner owns the firm's rubric, so that the rubric studio works as shown.
    users["partner"].user_permissions.add(
        Permission.objects.get(codename="own_rubric", content_type__app_label="assessments")
    )
    created_evidence = 0
    with transaction.atomic():
        funds = [Fund.objects.get_or_create(name=name)[0] for name in FUNDS]
        for fund in funds:
            for username, role in DEMO_USERS:
                Membership.objects.get_or_create(
                    user=users[username], fund=fund, defaults={"role": role}
                )
        for archetype in ARCHETYPES:
            company, created = Company.objects.get_or_create(
                fund=funds[archetype.fund],
                name=archetype.name,
                defaults={
                    "sector": archetype.sector,
                    "stage": archetype.stage,
                    "status": archetype.status,
                    "check_size": archetype.check_size or None,
                    "arr": archetype.arr,
                    "description": archetype.description,
                    "lead_partner": users["partner"],
                },
            )
            if not created:
                continue
            for task_name, weight, factors in archetype.tasks:
                task = Task.objects.create(company=company, name=task_name, weight=weight)
                created_evidence += _demo_evidence(task, factors, users, today)
    if created_evidence:
        _backfill_history(today)
    return {
        "users": users,
        "evidence": created_evidence,
        "funds": len(FUNDS),
        "companies": len(ARCHETYPES),
    }


def _demo_evidence(task, factors: dict[str, tuple[Note, ...]], users, today: date) -> int:
    """Write a task's notes, dated back from today; the older ones verified by the partner,
    the last couple of months' waiting in the review queue."""
    rows = []
    for factor, notes in factors.items():
        for note in notes:
            # A few days' spread within the month, fixed by the note itself.
            jitter = sum(map(ord, note.text)) % 19
            observed_on = today - timedelta(days=round(note.months_ago * 30.44) + jitter)
            verified = note.months_ago >= 3 and jitter % 7 != 3
            rows.append(
                Evidence(
                    task=task,
                    factor=factor,
                    stance=note.stance,
                    strength=note.strength,
                    confidence=note.confidence,
                    observed_on=observed_on,
                    observed_day=observed_on.toordinal(),
                    source=note.source,
                    note=note.text,
                    note_html=render_note_or_text(note.text),
                    author=users["associate"],
                    verified_by=users["partner"] if verified else None,
                    verified_at=timezone.now() if verified else None,
                    verified_version=1 if verified else None,
                )
            )
    # With history rows alongside: bulk writes must not slip past the audit trail.
    bulk_create_with_history(rows, Evidence, batch_size=1000, default_user=users["associate"])
    # Entered a few days after each observation, so the queue's "waiting" ages read true.
    # The history rows say the same, so the audit trail stays in step with the table.
    now = timezone.now()
    for row in rows:
        entered = datetime.combine(row.observed_on + timedelta(days=3), time(10), tzinfo=UTC)
        row.created_at = min(entered, now)
        Evidence.history.filter(id=row.pk).update(created_at=row.created_at)
    Evidence.objects.bulk_update(rows, ["created_at"])
    return len(rows)


def _backfill_history(today: date) -> None:
    """Month-end snapshots for the last two years, so that score history shows movement."""
    month = date(today.year - 2, today.month, 1)
    while month < today:
        next_month = date(month.year + (month.month // 12), month.month % 12 + 1, 1)
        recompute.rescore_companies(as_of=min(next_month - timedelta(days=1), today))
        month = next_month
    recompute.rescore_everything(as_of=today)
