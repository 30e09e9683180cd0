"""What a note does to the moat, in words: "weakens the moat: general models already do
this task". The one place that says it: the evidence form (its script reads table()), the
evidence table, the review queue, the exports and the IC pack all take it from here.

A factor that lowers its axis reads backwards as "supports": supporting "frontier model
parity" is bad news for the moat. So every surface leads with the effect on the moat (up
and to the right is the moat, docs/scoring.md), and the factor's own stance and axis
follow as detail. Pure (no Django).
"""

from __future__ import annotations

from dataclasses import dataclass

from . import scoring

AXIS_WORDS = {scoring.X: "Frontier", scoring.Y: "Proprietary"}
STRENGTHENS = "strengthens"
WEAKENS = "weakens"
# Drawn beside the words (never colour alone): up for a note that raises its axis.
ARROWS = {STRENGTHENS: "▲", WEAKENS: "▼"}

# Per factor: what a supporting note says, and what a contradicting one says, in a few words.
FACTOR_PUSH: dict[str, tuple[str, str]] = {
    "public_benchmark": (
        "a public score already measures this task",
        "no public benchmark measures it",
    ),
    "cheap_verification": ("outsiders can check the work cheaply", "checking the work is costly"),
    "public_training_data": (
        "public data to learn it is plentiful",
        "little public data exists for it",
    ),
    "frontier_model_parity": (
        "general models already do this task",
        "general models still fall short here",
    ),
    "open_model_parity": (
        "open models are good enough; buyers ask about price",
        "open models are not good enough yet",
    ),
    "lab_first_party": ("a model lab ships its own product for it", "no lab product competes here"),
    "long_feedback_loop": ("right or wrong shows only months later", "results show quickly"),
    "tacit_judgment": (
        "it turns on judgment no score captures",
        "the judgment can be written down and scored",
    ),
    "proprietary_data": ("it needs the customer's private data", "public data is enough to do it"),
    "system_access": (
        "it holds permissions inside customer systems",
        "it sits outside the customer's systems",
    ),
    "accountability": (
        "the company carries responsibility for outcomes",
        "nobody is accountable for the outcome",
    ),
    "user_habit": ("professionals use it daily and trust it", "users do not rely on it yet"),
    "private_eval": ('the company owns what "good" means here', '"good" is defined outside it'),
    "outcome_pricing": ("it is paid on outcomes", "it is paid per seat or usage, not outcomes"),
    "time_in_production": ("years under real load prove it", "it is not yet proven in production"),
    "workflow_depth": ("it spans a long workflow of its own", "the workflow is shallow"),
    "portable_workflow": (
        "an outsider could lift the standard workflow",
        "the workflow is hard to move elsewhere",
    ),
}


def raises(factor: str, stance: int) -> bool:
    """True when a note with this factor and stance raises its axis's score."""
    return scoring.FACTORS_BY_CODE[factor].polarity * stance > 0


def effect(factor: str, stance: int) -> str:
    """STRENGTHENS or WEAKENS: what a note with this factor and stance does to the moat."""
    return STRENGTHENS if raises(factor, stance) else WEAKENS


def effect_words(factor: str, stance: int) -> str:
    """'weakens the moat'."""
    return f"{effect(factor, stance)} the moat"


def said(factor: str, stance: int) -> str:
    """What the note says, in a few words: 'general models already do this task'."""
    return FACTOR_PUSH[factor][0 if stance == scoring.SUPPORTS else 1]


def detail(factor: str, stance: int) -> str:
    """The factor's own terms, for a tooltip: 'supports the factor · lowers Frontier'."""
    word = "supports" if stance == scoring.SUPPORTS else "contradicts"
    verb = "raises" if raises(factor, stance) else "lowers"
    return f"{word} the factor · {verb} {AXIS_WORDS[scoring.FACTORS_BY_CODE[factor].axis]}"


@dataclass(frozen=True)
class Direction:
    """One note's direction, in the parts a page draws: the badge (arrow and words), what
    the note says, and the factor's own terms."""

    effect: str
    arrow: str
    words: str
    said: str
    detail: str

    @property
    def text(self) -> str:
        """'weakens the moat: general models already do this task'."""
        return f"{self.words}: {self.said}"


def direction(factor: str, stance: int) -> Direction:
    """What a note on this factor with this stance does to the moat, in its parts."""
    return Direction(
        effect=effect(factor, stance),
        arrow=ARROWS[effect(factor, stance)],
        words=effect_words(factor, stance),
        said=said(factor, stance),
        detail=detail(factor, stance),
    )


def table() -> dict[str, dict]:
    """Per factor and stance ("1", "-1"): the parts of direction(), exactly as the server
    draws them: what the form's script shows."""
    return {
        f.code: {
            str(stance): vars(direction(f.code, stance))
            for stance in (scoring.SUPPORTS, scoring.CONTRADICTS)
        }
        for f in scoring.FACTORS
    }
