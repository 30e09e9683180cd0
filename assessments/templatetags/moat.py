"""Template helpers for showing scores in the product's words."""

from django import template

from .. import scoring

register = template.Library()


@register.filter
def quadrant_label(quadrant: str, rubric: scoring.Rubric | None = None) -> str:
    """The rubric's label for a quadrant code."""
    return (rubric or scoring.DEFAULT_RUBRIC).label(quadrant or scoring.UNSCORED)


@register.filter
def points(value) -> str:
    """A score to one decimal, or an en dash when there is none."""
    return "–" if value is None else f"{value:.1f}"


@register.filter
def runway(score) -> str:
    """Runway in years, 'absorbed' at 0, blank when unscored."""
    if score is None or score.runway_years is None:
        return "–"
    return "absorbed" if score.runway_years <= 0 else f"{score.runway_years:.1f} y"
