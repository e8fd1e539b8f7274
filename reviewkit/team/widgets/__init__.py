"""Entry forms built on ipywidgets: rating case records, meetings, conversations, progress, host console,
calibration, and the in-house audit form of a programme.

Each form takes a workspace (or its path) and a reviewer, saves every change through the
store at once, and shows any problem in the form in plain English. The notebooks under
``notebooks/`` call the ``*_form`` functions, which show a readable panel instead of a
traceback when the form cannot open (wrong folder, unknown reviewer).
"""

from __future__ import annotations

from reviewkit.team.widgets.audit import AuditForm, audit_form
from reviewkit.team.widgets.calibrate import CalibrationForm, calibration_form
from reviewkit.team.widgets.conversation import ConversationForm, conversation_form
from reviewkit.team.widgets.host import HostConsole, host_console
from reviewkit.team.widgets.meeting import MeetingForm, meeting_form
from reviewkit.team.widgets.progress import ProgressView, progress_view
from reviewkit.team.widgets.rating import RatingForm, rating_form

__all__ = [
    "AuditForm",
    "CalibrationForm",
    "ConversationForm",
    "HostConsole",
    "MeetingForm",
    "ProgressView",
    "RatingForm",
    "audit_form",
    "calibration_form",
    "conversation_form",
    "host_console",
    "meeting_form",
    "progress_view",
    "rating_form",
]
