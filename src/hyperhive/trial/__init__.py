"""Trial records, their events, and the handle a running objective uses."""

from hyperhive.trial.context import (
    Channel,
    TrialContext,
    bind,
    current_trial,
    report,
    should_stop,
    unbind,
)
from hyperhive.trial.events import (
    apply_event,
    end_event,
    finish_event,
    replay,
    report_event,
    submit_event,
)
from hyperhive.trial.record import COUNTED, Report, Trial, TrialStatus, is_finite_number

__all__ = [
    "COUNTED",
    "Channel",
    "Report",
    "Trial",
    "TrialContext",
    "TrialStatus",
    "apply_event",
    "bind",
    "current_trial",
    "end_event",
    "finish_event",
    "is_finite_number",
    "replay",
    "report",
    "report_event",
    "should_stop",
    "submit_event",
    "unbind",
]
