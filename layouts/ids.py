"""Every component id, in one place. Ids are stable: browser automation relies on them.

Named ``<component>-<feature>[-<detail>]``; the race's controls end in ``-select``,
``-slider`` or ``-input``, and each control has a ``<id>-error`` line beneath it.
"""

from dash import ALL

# race controls
SURFACE = "surface-select"
SURFACE_ABOUT = "surface-about"
OPTIMIZERS = "optimizer-select"
OPTIMIZER_SEARCH = "optimizer-search"  # filters the grouped picker, in the browser
OPTIMIZER_CHOICES = "optimizer-choices-store"  # the picker's full list of options
LR_SLIDER = "lr-slider"
LR_INPUT = "lr-input"
MOMENTUM_SLIDER = "momentum-slider"
MOMENTUM_INPUT = "momentum-input"
STEPS = "steps-input"
KAPPA = "kappa-input"
NOISE = "noise-input"
BATCH_SIZE = "batch-size-input"
POINTS = "points-input"
SEED = "seed-input"
START_X = "start-x-input"
START_Y = "start-y-input"
START_RESET = "start-reset-button"
START_CLICK = "start-click-store"
OVERRIDE = "override-input"  # pattern: {"type": OVERRIDE, "optimizer": ..., "param": ...}
OVERRIDES_ERROR = "overrides-error"
OWN_LR = "own-lr"  # the racers with an lr of their own, under the lr slider
FOLLOW_SLIDER = "follow-slider-button"  # pattern: {"type": FOLLOW_SLIDER, "optimizer": ...}
#: the override inputs' values as one {optimizer: {param: value}}, gathered in the browser:
#: the race callback takes this one input rather than ~40 pattern-matched ones
OVERRIDES_STORE = "overrides-store"
ADVANCED = "advanced-panel"
ADVANCED_SUMMARY = "advanced-summary"  # opening the panel the first time draws its grid
OVERRIDES_GRID = "overrides-grid"
CONTROLS = "race-controls"

# the typed surface (userdata): f(x, y) and its map window, shown on surface "custom"
CUSTOM_F = "custom-surface-input"
CUSTOM_WINDOW = "custom-window-input"

# your own points for the line fit (userdata)
#: the digest of the points in use (a race setting, ``data``; hidden: the upload and the
#: paste box below set it, the URL restores it)
DATA = "data-input"
POINTS_UPLOAD = "points-upload"
POINTS_PASTE = "points-paste-input"
POINTS_PASTE_BUTTON = "points-paste-button"
POINTS_REMOVE = "points-remove-button"
POINTS_INFO = "points-info"  # which points the line fit uses
POINTS_ACTIONS = "points-actions"  # download and remove, while they are the user's
POINTS_ERROR = "points-error"  # what is wrong with an upload or a paste, naming the row
POINTS_DOWNLOAD_BUTTON = "points-download-button"
POINTS_DOWNLOAD = "points-download"
#: the structure (settings.RaceSettings.structure) the data plot was drawn for: a move
#: that keeps it patches the fitted lines only
DATA_DRAWN = "data-drawn-store"

#: The control behind each race setting (the names of settings.RaceSettings).
CONTROL_FOR = {"surface": SURFACE, "optimizers": OPTIMIZERS, "lr": LR_INPUT,
               "momentum": MOMENTUM_INPUT, "steps": STEPS, "kappa": KAPPA, "noise": NOISE,
               "batch_size": BATCH_SIZE, "points": POINTS, "seed": SEED, "x0": START_X,
               "y0": START_Y, "data": DATA, "f": CUSTOM_F, "window": CUSTOM_WINDOW}
#: The settings that also have a slider beside their number box.
SLIDER_FOR = {"lr": LR_SLIDER, "momentum": MOMENTUM_SLIDER}


def error_id(control: str) -> str:
    return f"{control}-error"


def override_id(optimizer: str, param: str) -> dict:
    return {"type": OVERRIDE, "optimizer": optimizer, "param": param}


def follow_slider_id(optimizer: str = ALL) -> dict:
    """The button that drops ``optimizer``'s own lr (every such button, by default)."""
    return {"type": FOLLOW_SLIDER, "optimizer": optimizer}


def overrides(param: str = ALL) -> dict:
    """Every override input (or every optimizer's ``param``), for pattern-matching."""
    return {"type": OVERRIDE, "optimizer": ALL, "param": param}


# race outputs
RACE_GRAPH = "race-graph"
LOSS_GRAPH = "loss-graph"
#: the loss plot's x axis: steps or f, ∇f evaluations (a race setting: the URL holds it)
LOSS_AXIS = "loss-axis-select"
CONTROL_FOR["axis"] = LOSS_AXIS
RACE_LEGEND = "race-legend"
MAP_FLAGS = "map-flags"
LEADERBOARD = "leaderboard"
THEORY = "theory-readout"
POLYAK_BUTTON = "polyak-button"
EXPORT_BUTTON = "export-csv-button"
EXPORT_DOWNLOAD = "export-csv-download"
CLI_BUTTON = "copy-cli-button"
LINK_BUTTON = "copy-link-button"
SHARE_NOTE = "share-note"  # what the last copy button copied: a label and SHARE_TEXT
SHARE_TEXT = "share-text"
SHARE_STATUS = "share-status"  # whether the browser let it reach the clipboard
EXPORT_PNG = "export-png-button"
EXPORT_SVG = "export-svg-button"
#: what an image export draws: {format, caption, names} (assets/app.js ``exportImages``)
EXPORT_IMAGE = "export-image-store"
#: the line fit's data and each optimizer's fitted line (shown on the line fit only)
DATA_GRAPH = "data-graph"
DATA_CELL = "data-graph-cell"
#: the race's state while it is a line fit, null when it stops being one: the data plot's
#: server callback is not asked on every move of the other surfaces
DATA_REQUEST = "data-request-store"
RACE_STATE = "race-state-store"
RACE_STRUCTURE = "race-structure-store"
#: what the browser draws after a race's paths: the loss curves of a slider move, the
#: leaderboard, the theory readout and the map's flags (assets/app.js ``afterRace``)
RACE_FOLLOW_UP = "race-follow-up-store"
RACE_ERROR = "race-error"

# page
URL = "url"
URL_NOTE = "url-note"  # what the link's values were not used, with a dismiss button
URL_NOTE_TEXT = "url-note-text"
URL_NOTE_DISMISS = "url-note-dismiss-button"
#: the query of the history entry Back or Forward went to (assets/app.js sets it)
HISTORY = "history-store"
THEME = "theme-store"
THEME_TOGGLE = "theme-toggle-button"
PALETTE = "palette-store"
#: a random id per page load: background jobs are keyed and bounded per page with it
PAGE = "page-id-store"

# phase diagram
SWEEP_GRAPH = "sweep-graph"
SWEEP_METRIC = "sweep-metric"
SWEEP_OPTIMIZER = "sweep-optimizer-select"
SWEEP_RESOLUTION = "sweep-resolution-input"
SWEEP_STEPS = "sweep-steps-input"
SWEEP_LR_MIN = "sweep-lr-min-input"
SWEEP_LR_MAX = "sweep-lr-max-input"
SWEEP_MOMENTUM_MIN = "sweep-momentum-min-input"
SWEEP_MOMENTUM_MAX = "sweep-momentum-max-input"
SWEEP_HOVER = "sweep-hover-info"
SWEEP_RUN = "sweep-run-button"
SWEEP_CANCEL = "sweep-cancel-button"
SWEEP_PROGRESS = "sweep-progress"
SWEEP_STATUS = "sweep-status"
SWEEP_EXPORT = "sweep-export-button"
SWEEP_DOWNLOAD = "sweep-export-download"
SWEEP_RESULT = "sweep-result-store"
SWEEP_ERROR = "sweep-error"
#: the cell a click applied ({optimizer, lr, momentum}): the page scrolls to the race
SWEEP_APPLIED = "sweep-applied-store"

# lessons, the doctor, the embedded view (issue 19)
LESSON = "lesson-select"  # the lesson whose text reads the race (a race setting)
LESSON_CARD = "lesson-card"
LESSON_TEXT = "lesson-text"
CONTROL_FOR["lesson"] = LESSON  # a setting of the race: the URL holds it, Back undoes it
DOCTOR = "doctor-panel"  # a diagnosis per run, each with an apply-fix button
#: {optimizer, at}: the apply-fix button of that optimizer's diagnosis was clicked
#: (assets/teach.js; the buttons are in the doctor panel's HTML)
APPLY_FIX = "apply-fix-store"
#: {optimizer, target, before, changed, query}: the last fix applied and the race it made
APPLIED_FIX = "applied-fix-store"
FIX_NOTE = "fix-note"  # what the last fix changed, and the verdicts since
EMBED_BAR = "embed-bar"  # shown in the embedded view only (?embed=1)
EMBED_LINK = "embed-full-app-link"  # the full app in the same state

# a fair race: each optimizer's own lr (and μ / β₁) tuned by the sweep engine (issue 18)
TUNE_BUTTON = "tune-button"
TUNE_CANCEL = "tune-cancel-button"
TUNE_CRITERION = "tune-criterion"
TUNE_PROGRESS = "tune-progress"
TUNE_STATUS = "tune-status"
TUNE_ERROR = "tune-error"
#: the last tuning: {context, tuned: {optimizer: values}, rows} (callbacks/tune.py)
TUNE_RESULT = "tune-result-store"
TUNE_TABLE = "tune-table"  # the tuned values, criterion, grid and sensitivity per optimizer
TUNE_UNTUNED = "tune-untuned-note"  # says the race is not tuned (when it is not)
# the step scrubber, the mechanism arrows and the walkthrough (issue 15)
STEP_SLIDER = "step-slider"  # 0 … steps; assets/scrub.js draws the race at its step
PLAY_BUTTON = "play-button"
PLAY_SPEED = "play-speed-select"
STEP_READOUT = "step-readout"  # "step k of n"
#: what the browser scrubs from, sent once per race (figures.scrub_data)
SCRUB_STORE = "scrub-store"
#: the step a link (``step=k``) or a history entry asks for: {"step": k or None (the end)}
STEP_REQUEST = "step-request-store"
MECHANISM_TOGGLE = "mechanism-toggle"
WALKTHROUGH_TABLE = "walkthrough-table"
WALKTHROUGH_OPTIMIZER = "walkthrough-optimizer-select"
WALKTHROUGH_FIRST = "walkthrough-first-steps-toggle"
#: the mechanism arrows of every run and the chosen optimizer's walkthrough rows, at
#: every step, sent once per race (callbacks/mechanism.py; assets/scrub.js draws them)
MECHANISM_STORE = "mechanism-store"
# the schedule panel (issue 16): scheduler, its parameters, clipping, momentum convention
SCHEDULER = "scheduler-select"
CLIP_GRAD_NORM = "clip-grad-norm-input"
CLIP_NORM_TYPE = "clip-norm-type-input"
CLIP_GRAD_VALUE = "clip-grad-value-input"
MOMENTUM_FORM = "momentum-form-select"
COMPARE_FORMS = "compare-forms-switch"  # races the momentum racers in all three forms
SCHEDULE_GRAPH = "schedule-graph"  # lr(t), μ(t) and γ_t/(1 − μ_t) of the race
FORMS_READOUT = "momentum-forms-readout"  # the equivalences, measured on this race
SCHEDULE_PRESET = "schedule-preset-button"  # pattern: {"type": ..., "preset": name}
SCHEDULE_PANEL = "schedule-panel"


def schedule_param_id(name: str) -> str:
    """The box of one scheduler parameter (torch's name: T_max is scheduler-t-max-input)."""
    return f"scheduler-{name.lower().replace('_', '-')}-input"


def schedule_row_id(name: str) -> str:
    """The row of that box, shown while the picked scheduler takes the parameter."""
    return f"scheduler-{name.lower().replace('_', '-')}-row"


def schedule_preset_id(preset: str) -> dict:
    return {"type": SCHEDULE_PRESET, "preset": preset}


def _schedule_controls() -> dict:
    from optim_core.schedules import SCHEDULER_PARAMETERS

    return {"scheduler": SCHEDULER,
            **{name: schedule_param_id(name) for name in SCHEDULER_PARAMETERS},
            "clip_grad_norm": CLIP_GRAD_NORM, "clip_norm_type": CLIP_NORM_TYPE,
            "clip_grad_value": CLIP_GRAD_VALUE, "momentum_form": MOMENTUM_FORM,
            "compare_forms": COMPARE_FORMS}


#: the schedule panel's settings (settings.TRAINING) are race settings like the others
SCHEDULE_CONTROLS = _schedule_controls()
CONTROL_FOR.update(SCHEDULE_CONTROLS)
