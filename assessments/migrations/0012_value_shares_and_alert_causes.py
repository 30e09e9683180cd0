"""The share of each company's value absorbed today, within one and two years, and
unscored: four new columns, filled from the tasks' stored scores so that no company shows
blanks until its next recompute. An alert's cause and who caused it, and how many scores a
rubric activation moved: new columns, empty for what came before. Adds data, changes none."""

from collections import defaultdict
from datetime import date

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models

from assessments import scoring

SHARES = scoring.VALUE_SHARE_FIELDS


def _rubric(version) -> scoring.Rubric:
    if version is None:
        return scoring.DEFAULT_RUBRIC
    return scoring.Rubric(
        factor_weights={**scoring.DEFAULT_RUBRIC.factor_weights, **version.factor_weights},
        half_lives={**scoring.DEFAULT_RUBRIC.half_lives, **version.half_lives},
        proprietary_weight=version.proprietary_weight,
        boundary_at_epoch=version.boundary_at_epoch,
        boundary_epoch=version.boundary_epoch,
        boundary_drift_per_year=version.boundary_drift_per_year,
    )


def fill_shares(apps, schema_editor):
    Company = apps.get_model("assessments", "Company")
    Task = apps.get_model("assessments", "Task")
    RubricVersion = apps.get_model("assessments", "RubricVersion")
    rubric = _rubric(RubricVersion.objects.filter(is_active=True).first())
    per_company = defaultdict(list)
    for company_id, weight, x, y, confidence, quadrant in Task.objects.values_list(
        "company_id", "weight", "x", "y", "confidence", "quadrant"
    ):
        score = scoring.Score.unscored()
        if quadrant != scoring.UNSCORED and x is not None and y is not None:
            score = scoring.Score(x, y, confidence, quadrant, 0.0, 0.0)
        per_company[company_id].append((weight, score))
    changed = []
    for company in Company.objects.filter(pk__in=list(per_company)).only("id", "scored_as_of"):
        as_of = company.scored_as_of or date.today()
        shares = scoring.value_shares(per_company[company.pk], as_of, rubric)
        for name, value in shares.as_dict().items():
            setattr(company, name, value)
        changed.append(company)
    Company.objects.bulk_update(changed, list(SHARES), batch_size=1000)


class Migration(migrations.Migration):
    dependencies = [
        ("assessments", "0011_security_round_three"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        *(
            migrations.AddField(
                model_name="company", name=name, field=models.FloatField(blank=True, null=True)
            )
            for name in SHARES
        ),
        migrations.RunPython(fill_shares, migrations.RunPython.noop),
        migrations.AddField(
            model_name="alert",
            name="cause",
            field=models.CharField(
                blank=True,
                choices=[
                    ("evidence", "Evidence"),
                    ("rubric", "Rubric activation"),
                    ("decay", "Decay"),
                    ("boundary", "The boundary"),
                ],
                default="",
                max_length=20,
            ),
        ),
        migrations.AddField(
            model_name="alert",
            name="caused_by",
            field=models.ForeignKey(
                blank=True,
                null=True,
                on_delete=django.db.models.deletion.SET_NULL,
                related_name="+",
                to=settings.AUTH_USER_MODEL,
            ),
        ),
        migrations.AddField(
            model_name="rubricversion",
            name="activation_moved",
            field=models.JSONField(blank=True, default=dict),
        ),
    ]
