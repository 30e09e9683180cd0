"""Which way a note pushes, in words: "supports · lowers Frontier — general models already do
this". Pure (no Django), so the form, the evidence table and the demo's tests share it."""

from __future__ import annotations

from . import scoring

AXIS_WORDS = {scoring.X: "Frontier", scoring.Y: "Proprietary"}

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
        "general models already do this",
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


def push(factor: str, stance: int) -> str:
    """'lowers Frontier — general models already do this'."""
    info = scoring.FACTORS_BY_CODE[factor]
    verb = "raises" if raises(factor, stance) else "lowers"
    said = FACTOR_PUSH[factor][0 if stance == scoring.SUPPORTS else 1]
    return f"{verb} {AXIS_WORDS[info.axis]} — {said}"


def describe(factor: str, stance: int) -> str:
    """'supports · lowers Frontier — general models already do this'."""
    word = "supports" if stance == scoring.SUPPORTS else "contradicts"
    return f"{word} · {push(factor, stance)}"


def table() -> dict[str, dict]:
    """Every factor's axis, polarity and both phrases: what the form's script reads."""
    return {
        f.code: {
            "axis": AXIS_WORDS[f.axis],
            "polarity": f.polarity,
            "supports": FACTOR_PUSH[f.code][0],
            "contradicts": FACTOR_PUSH[f.code][1],
        }
        for f in scoring.FACTORS
    }
