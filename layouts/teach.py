"""Teaching: the lesson picker and text, the doctor's diagnoses with their apply-fix
buttons, the embedded view's bar (issue 19). callbacks/teach.py fills them in."""

from __future__ import annotations

from dash import dcc, html

from optim_core.doctor import Diagnosis
from optim_core.lessons import LESSONS, Lesson

from . import ids
from .components import card, control, html_panel
from .figures import TITLES
from .race import line_swatch

#: The doctor's verdicts as the leaderboard's statuses colour them (assets/style.css).
VERDICT_CLASS = {"converged": "status-converged", "diverged": "status-diverged",
                 "oscillating": "status-oscillating", "overshooting": "status-oscillating",
                 "plateau": "status-still-moving", "slow": "status-still-moving"}


def lesson_link(name: str) -> str:
    return f"?lesson={name}"


def lesson_picker(value: str | None = None) -> html.Div:
    """The lesson select; each option is the lesson's own link (assets/teach.js lets the
    select take a left click; a middle click or "copy link" gets the link)."""
    options = [{"label": html.A(lesson.title, href=lesson_link(name), className="lesson-link"),
                "value": name, "search": lesson.title} for name, lesson in LESSONS.items()]
    return control("Lesson", dcc.Dropdown(
        id=ids.LESSON, options=options, value=value, clearable=True, searchable=False,
        placeholder="Guided races…", className="lesson-dropdown"), ids.LESSON,
        class_name="lesson-picker")


def lesson_card() -> html.Section:
    """The current lesson's text (hidden while no lesson is picked)."""
    return card("Lesson", [html.Div(id=ids.LESSON_TEXT, className="lesson-text")],
                card_id=ids.LESSON_CARD, class_name="lesson-card")


def lesson_body(lesson: Lesson, text: str, left: bool) -> list:
    """The lesson's title, ``text`` (computed from the current race), its prompt and its
    link; ``left``: the race is no longer the lesson's own (the text still reads it)."""
    lines = [html.Div(line, className="lesson-table" if "  " in line else None)
             for line in text.split("\n")]
    status = ([html.P(["You changed the lesson's race: the text reads the race as it is "
                       "now. ", html.A("Back to the lesson's race", href=lesson_link(lesson.name),
                                       className="lesson-link")], className="control-hint")]
              if left else [])
    return [html.H3(lesson.title), *status, html.Div(lines, className="lesson-body"),
            html.P([html.B("Try this: "), lesson.try_this], className="lesson-try"),
            html.P(["Link to this lesson: ",
                    html.A(lesson_link(lesson.name), href=lesson_link(lesson.name),
                           className="lesson-link")], className="control-hint")]


def doctor_card() -> html.Section:
    return card("Doctor", [html_panel(ids.DOCTOR, "doctor"),
                           html.Div(id=ids.FIX_NOTE, className="fix-note", role="status")],
                class_name="doctor-card")


def verdict_text(d: Diagnosis) -> str:
    return d.verdict + ("" if d.step is None or d.verdict == "plateau" and d.step == 0
                        else f" at step {d.step}" if d.verdict != "converged"
                        else f" (from step {d.step})")


def doctor_lines(diagnoses: list[Diagnosis]) -> list:
    """One line per run: its verdict and step, the cause and the fix, with a button that
    applies the fix (HTML for the doctor panel: the button is found by its name and
    value, assets/teach.js)."""
    items = []
    for d in diagnoses:
        parts = [html.Span([line_swatch(d.optimizer), TITLES[d.optimizer]],
                           className="nowrap"), " ",
                 html.B(verdict_text(d), className=f"status {VERDICT_CLASS[d.verdict]}")]
        if d.verdict != "converged":
            parts += [f": {d.cause}. ", html.Span(f"Fix: {d.fix}.", className="fix")]
        if d.apply:
            parts += [" ", html.Button("apply fix", name="apply-fix", value=d.optimizer,
                                       className="small-button apply-fix",
                                       title=f"Set the controls to the fix for "
                                             f"{TITLES[d.optimizer]} and race again")]
        items.append(html.Li(parts, className=f"diagnosis verdict-{d.verdict}"))
    return [html.Ul(items, className="diagnosis-list")]


def fix_note(applied: dict, verdicts: dict) -> list:
    """What the last fix changed, the verdict before and the verdicts now (``verdicts``:
    {optimizer: its verdict text in the current race})."""
    names = dict.fromkeys([applied["optimizer"], applied["target"]])
    now = ", ".join(f"{TITLES[name]} {verdicts[name]}" for name in names if name in verdicts)
    return [html.B("Fix applied: "), f"{applied['changed']}. Before: "
            f"{TITLES[applied['optimizer']]} {applied['before']}. Now: {now}."]


def embed_bar() -> html.Div:
    """The embedded view's top line: the full app, in the same state (a new tab)."""
    return html.Div([html.Span("Optimizer Race", className="embed-title"),
                     html.A("Open in the full app ↗", id=ids.EMBED_LINK, href="?",
                            target="_blank", rel="noopener")],
                    id=ids.EMBED_BAR, className="embed-bar")
