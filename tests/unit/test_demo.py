"""The demo reads like diligence: every note's wording agrees with its factor and stance,
no note or sentence is shared between companies, notes are sourced and spread over two
years, and the essay's story shows in the scores."""

import re
from collections import defaultdict

import pytest

from assessments import demo, directions, scoring
from assessments.models import Company, Evidence, Task

# What a note must say for its factor and stance, and what it must not: at least one phrase
# of its own side, none of the other's. Read as plain words, so a note whose wording points
# the other way (or says nothing about its factor) fails.
CUES: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "public_benchmark": (
        ("public leaderboard", "scored publicly", "public test set", "on a leaderboard"),
        ("no public benchmark", "no leaderboard", "not on any leaderboard"),
    ),
    "cheap_verification": (
        ("checked automatically", "verified automatically", "test suite", "exact match"),
        ("costly to check", "hours to verify", "needs a senior reviewer"),
    ),
    "public_training_data": (
        ("openly available", "public datasets", "public repositories"),
        ("never published", "little public data"),
    ),
    "frontier_model_parity": (
        ("matched", "on par", "as well as", "indistinguishable", "caught up", "already handles"),
        ("fell short", "well behind", "could not", "worse than"),
    ),
    "open_model_parity": (
        ("close enough", "only about price", "price alone", "price per token", "switched to an"),
        ("quality gap", "lagged", "refused to switch"),
    ),
    "lab_first_party": (
        ("launched its own", "shipped its own", "bundled into"),
        ("no lab", "stayed out", "has not shipped"),
    ),
    "long_feedback_loop": (
        ("months later", "only after", "seasons later", "quarters later", "following year"),
        ("same day", "within minutes", "within the hour", "immediately"),
    ),
    "tacit_judgment": (
        ("judgment", "instinct", "experience", "a feel for"),
        ("rule-based", "written down", "checklist"),
    ),
    "proprietary_data": (
        (
            "customer's data",
            "own data",
            "internal data",
            "private records",
            "patient records",
            "precedent bank",
            "ledger data",
            "claims history",
            "own discharge letters",
        ),
        ("public filings are enough", "public data suffices", "without customer data"),
    ),
    "system_access": (
        ("read access", "write access", "service account", "integration", "sso", "debit authority"),
        ("revoked", "outside the", "no access"),
    ),
    "accountability": (
        ("liability", "indemnity", "on the hook", "signs off"),
        ("disclaims", "as-is"),
    ),
    "user_habit": (
        ("every day", "default tool", "daily actives held"),
        ("lapsed", "stopped using", "churned"),
    ),
    "private_eval": (
        ("own eval", "own benchmark", "own gold set", "own test set", "gold set", "private eval"),
        ("third-party eval", "public standard"),
    ),
    "outcome_pricing": (
        ("per resolution", "per-resolution", "per claim", "success fee", "outcome-based"),
        ("per seat", "flat licence", "subscription"),
    ),
    "time_in_production": (
        ("years in production", "under real load", "uptime", "incident-free", "since launch"),
        ("pilot only", "not yet in production", "first deployment"),
    ),
    "workflow_depth": (
        ("end to end", "multi-step", "hand-offs", "spans", "approval chain"),
        ("one-shot", "single step", "goes no further"),
    ),
    "portable_workflow": (
        (
            "standard format",
            "standard git",
            "portable",
            "drop-in",
            "switching cost is low",
            "swapped",
        ),
        ("locked in", "bespoke", "hard to move"),
    ),
}


def demo_notes():
    for archetype in demo.ARCHETYPES:
        for task_name, _weight, factors in archetype.tasks:
            for factor, notes in factors.items():
                for note in notes:
                    yield archetype.name, task_name, factor, note


def test_every_factor_has_its_cues():
    assert set(CUES) == set(scoring.FACTORS_BY_CODE)


@pytest.mark.parametrize(
    ("company", "factor", "note"),
    [(c, f, note) for c, _t, f, note in demo_notes()],
    ids=lambda v: v if isinstance(v, str) else "",
)
def test_each_note_reads_the_way_its_factor_and_stance_push(company, factor, note):
    own, other = CUES[factor] if note.stance == scoring.SUPPORTS else CUES[factor][::-1]
    text = note.text.lower()
    said = directions.direction(factor, note.stance).text
    assert any(cue in text for cue in own), f"{company} {factor}: '{note.text}' does not say {said}"
    assert not any(cue in text for cue in other), (
        f"{company} {factor}: '{note.text}' reads against {said}"
    )


def test_no_note_or_sentence_repeats_across_companies():
    texts: dict[str, set[str]] = defaultdict(set)
    sentences: dict[str, set[str]] = defaultdict(set)
    for company, _task, _factor, note in demo_notes():
        texts[note.text].add(company)
        for sentence in re.split(r"(?<=[.;:])\s+", note.text):
            sentences[sentence.strip().lower()].add(company)
    assert all(len(companies) == 1 for companies in texts.values())
    shared = {s: c for s, c in sentences.items() if len(c) > 1 and len(s.split()) > 3}
    assert shared == {}
    # Nor the old template: a note never opens on its factor's name in bold.
    assert not any(note.text.startswith("**") for *_rest, note in demo_notes())


def test_every_note_is_sourced_dated_within_two_years_and_specific():
    notes = list(demo_notes())
    assert len(notes) >= 120
    for _c, _t, _f, note in notes:
        assert note.source and 1 <= note.months_ago <= 25
        assert 1 <= note.strength <= 5 and note.confidence in ("low", "medium", "high")
        assert len(note.text.split()) >= 10


@pytest.mark.django_db
def test_the_loaded_demo_tells_the_essays_story():
    demo.load_demo()
    companies = {c.name: c for c in Company.objects.all()}
    assert len(companies) == len(demo.ARCHETYPES)
    assert Evidence.objects.count() == sum(1 for _ in demo_notes())
    # A thin wrapper absorbed.
    chat = companies["ChatCanvas"]
    assert chat.quadrant == scoring.COMMODITY_TOKENS and chat.runway_years == 0
    # A legal AI held up by its private benchmark and its clients' systems.
    lex = companies["Lexbench"]
    assert lex.quadrant == scoring.UNTRAINABLE and lex.runway_years > 0
    # An inference provider whose price commoditises while its reliability does not.
    price = Task.objects.get(name="Serve open-weight models by the token")
    uptime = Task.objects.get(name="Keep production inference up under peak load")
    assert price.quadrant == scoring.COMMODITY_TOKENS and uptime.y > 50 > price.y
    # A support agent paid per resolution.
    resolvd = Task.objects.get(name="Resolve tier-1 tickets end to end")
    assert resolvd.y > 50
    # Recent notes wait for a partner; the rest are verified.
    pending = Evidence.objects.filter(verified_at__isnull=True).count()
    assert 0 < pending < Evidence.objects.count() / 2
