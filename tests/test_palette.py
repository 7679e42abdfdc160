"""Racer colours for any number of optimizers: generated from the name, stable, legible."""

import subprocess
import sys
from pathlib import Path

import pytest

from layouts import figures
from optim_core import OPTIMIZERS

ROOT = Path(__file__).resolve().parents[1]
#: the names other branches add (issue 18), and some that nobody has written yet
MORE = ("radam", "adamax", "adadelta", "rprop", "asgd", "adafactor", "lbfgs", "muon", "lion",
        "sgd_schedulefree", "adamw_schedulefree", "yogi", "lamb", "sophia", "prodigy")


def test_every_registered_optimizer_has_a_colour_and_a_dash_and_the_eight_keep_theirs():
    for theme, chosen in figures.CHOSEN_COLORS.items():
        assert set(figures.PALETTES[theme]) == set(OPTIMIZERS)
        assert {n: figures.PALETTES[theme][n] for n in chosen} == chosen
    assert set(figures.DASHES) == set(OPTIMIZERS) == set(figures.COLORS)
    assert {n: figures.DASHES[n] for n in figures.CHOSEN_DASHES} == figures.CHOSEN_DASHES


@pytest.mark.parametrize("theme", ["light", "dark"])
def test_generated_colours_stand_out_on_the_surface(theme):
    for name in MORE:
        color = figures.generated_color(name, theme)
        rgb = tuple(int(color[i:i + 2], 16) for i in (1, 3, 5))
        for background in figures.surface_colors(theme):
            assert figures.contrast(rgb, background) >= figures.MIN_CONTRAST, (name, background)


def test_generated_colours_depend_on_the_name_alone():
    code = "from layouts.figures import generated_color as g; print(g('lion', 'dark'))"
    seen = {subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                           cwd=ROOT, env={"PYTHONHASHSEED": seed}, check=True).stdout
            for seed in ("1", "2")}
    assert seen == {figures.generated_color("lion", "dark") + "\n"}
    assert len({figures.name_hue(n) for n in MORE}) == len(MORE)


def test_racers_of_near_hues_differ_in_dash_however_many_there_are():
    names = (*figures.CHOSEN_DASHES, *MORE)
    palette = {theme: {n: figures.CHOSEN_COLORS[theme].get(n)
                       or figures.generated_color(n, theme) for n in names}
               for theme in figures.CHOSEN_COLORS}
    dashes = figures._dashes(palette)
    assert set(dashes) == set(names)
    for theme in palette:
        for a in names:
            for b in names:
                if a < b and figures._near(palette[theme][a], palette[theme][b]):
                    assert dashes[a] != dashes[b], (theme, a, b)
