"""What the domain announces, for the contexts beside it to act on: the domain imports none
of them (an import-linter contract says so), so it tells them by signal."""

from django.dispatch import Signal

# Sent by the engine in the transaction that writes new alerts: new_alerts, and by subject
# (company id, task id) the state before (its burst), the score after, and the cause.
alerts_written = Signal()

# Asked by the engine before it compares scores: company_ids. A receiver answers
# (states before each subject's burst of edits, the burst's alerts still waiting to go out
# by (company, task, kind, to_state)); with no receiver there is no burst.
burst_states = Signal()
