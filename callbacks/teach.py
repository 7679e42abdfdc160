"""Teaching: the doctor's diagnoses and their fixes, the lesson's live text, the embedded
view's link to the full app (issue 19).

Each reads the race the page shows from the race store, checked as the controls are
(settings.settings_from_state), and races it again (a race of the app's size takes
well under a millisecond; the diagnoses less): the race callback, whose answer a slider
move waits for, stays as it was. A fix is applied by handing its query to the controls
through the history store, as Back does (callbacks/url.py), so it is one history entry
and Back undoes it; picking a lesson goes through the same callback (its select is a
race setting), and a lesson's link in the page too (assets/teach.js).
"""

from __future__ import annotations

import logging
import time

from dash import ClientsideFunction, Input, Output, State, no_update
from dash.exceptions import PreventUpdate

from layouts import ids
from layouts.components import to_html
from layouts.teach import doctor_lines, fix_note, lesson_body, verdict_text
from optim_core.doctor import diagnose
from optim_core.lessons import LESSONS
from settings import apply_fix, lesson_settings, settings_from_state

log = logging.getLogger(__name__)


def drawn(state):
    """The settings of the race the page shows, or None (none drawn, or they do not
    check: a crafted store)."""
    settings, _ = settings_from_state(state)
    return settings


def doctor_view(state, applied) -> dict:
    """The doctor panel (HTML) and the note on the last fix, for the race in ``state``."""
    settings = drawn(state)
    if settings is None:
        raise PreventUpdate
    diagnoses = diagnose(settings.simulate())
    note = None
    if isinstance(applied, dict) and applied.get("query") == state.get("query"):
        note = fix_note(applied, {d.optimizer: verdict_text(d) for d in diagnoses})
    return {"doctor": to_html(doctor_lines(diagnoses)), "note": note}


def lesson_view(state) -> list:
    """The lesson's text for the race in ``state`` (empty: no lesson)."""
    settings = drawn(state)
    if settings is None:
        raise PreventUpdate
    if settings.lesson is None:
        return []
    lesson = LESSONS[settings.lesson]
    left = settings != lesson_settings(lesson.name)
    return lesson_body(lesson, lesson.text_for(settings.simulate()), left)


def fix_request(state, optimizer) -> dict:
    """What applying ``optimizer``'s fix in the race of ``state`` does: the query the
    controls take and the record of it, or a message (the fix is recomputed here from
    the race: the browser only says which run's)."""
    settings = drawn(state)
    if settings is None or optimizer not in settings.optimizers:
        raise PreventUpdate
    race = settings.simulate()
    d = next(d for d in diagnose(race) if d.optimizer == optimizer)
    if not d.apply:
        return {"message": f"{optimizer}: nothing to fix."}
    fixed, changed = apply_fix(settings, optimizer, d.apply)
    if fixed is None:
        return {"message": changed}
    query = fixed.to_query()
    return {"query": query, "applied": {
        "optimizer": optimizer, "target": d.apply.get("optimizer", optimizer),
        "before": verdict_text(d), "changed": changed, "query": query}}


def register(app) -> None:
    @app.callback(
        output=dict(doctor=Output(ids.DOCTOR, "children"),
                    note=Output(ids.FIX_NOTE, "children")),
        inputs=dict(state=Input(ids.RACE_STATE, "data")),
        state=dict(applied=State(ids.APPLIED_FIX, "data")),
        prevent_initial_call=True,
    )
    def show_doctor(state, applied):
        try:
            return doctor_view(state, applied)
        except PreventUpdate:
            raise
        except Exception:  # never a 500: the race stays drawn
            log.exception("doctor failed")
            return {"doctor": "The doctor could not read this race; the server log has "
                              "the details.", "note": None}

    @app.callback(
        output=dict(text=Output(ids.LESSON_TEXT, "children")),
        inputs=dict(state=Input(ids.RACE_STATE, "data")),
        prevent_initial_call=True,
    )
    def show_lesson(state):
        try:
            return {"text": lesson_view(state)}
        except PreventUpdate:
            raise
        except Exception:
            log.exception("lesson text failed")
            return {"text": "This lesson's text could not be computed for this race."}

    @app.callback(
        output=dict(request=Output(ids.HISTORY, "data", allow_duplicate=True),
                    applied=Output(ids.APPLIED_FIX, "data"),
                    note=Output(ids.FIX_NOTE, "children", allow_duplicate=True)),
        inputs=dict(clicked=Input(ids.APPLY_FIX, "data")),
        state=dict(state=State(ids.RACE_STATE, "data")),
        prevent_initial_call=True,
    )
    def apply_fix_clicked(clicked, state):
        optimizer = clicked.get("optimizer") if isinstance(clicked, dict) else None
        if not isinstance(optimizer, str):
            raise PreventUpdate
        answer = fix_request(state, optimizer)
        if "message" in answer:
            return {"request": no_update, "applied": no_update, "note": answer["message"]}
        # as Back does: the controls take the query (a history entry of its own)
        return {"request": {"search": answer["query"], "at": time.time()},
                "applied": answer["applied"], "note": None}

    app.clientside_callback(ClientsideFunction("teach", "fullAppLink"),
                            Output(ids.EMBED_LINK, "href"), Input(ids.RACE_STATE, "data"),
                            prevent_initial_call=True)
