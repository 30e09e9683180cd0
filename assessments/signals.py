"""What the domain announces, for the contexts beside it to act on: the domain imports none
of them (an import-linter contract says so), so it tells them by signal."""

from django.dispatch import Signal

# Sent by the engine in the transaction that writes new alerts, with the rows it scored:
# new_alerts, task_rows, task_scores, company_rows, company_results.
alerts_written = Signal()
