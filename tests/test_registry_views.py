"""What the app shows of the optimizer registry is generated from it: the Advanced panel's
inputs from each spec's defaults, the picker's groups from each spec's group."""

from optim_core import OPTIMIZERS
from optim_core.optimizers import GROUPS


def component_ids(component) -> list:
    found = [component.id] if getattr(component, "id", None) is not None else []
    children = getattr(component, "children", None)
    for child in children if isinstance(children, list) else [children]:
        if hasattr(child, "children") or hasattr(child, "id"):
            found += component_ids(child)
    return found


def test_the_advanced_panel_has_a_control_for_every_hyperparameter_of_each():
    from layouts.race import overrides_grid

    inputs = {(i["optimizer"], i["param"]) for i in component_ids(overrides_grid({}))
              if isinstance(i, dict)}
    expected = {(name, param) for name, spec in OPTIMIZERS.items() for param in spec.defaults}
    assert inputs == expected


def test_each_kind_of_hyperparameter_gets_its_control():
    from dash import dcc

    from layouts.race import override_control

    assert isinstance(override_control("adam", "amsgrad", None), dcc.Checklist)
    assert override_control("muon", "nesterov", None).value == ["on"]  # torch's default
    assert override_control("muon", "nesterov", False).value == []
    assert isinstance(override_control("lbfgs", "line_search_fn", None), dcc.Dropdown)
    box = override_control("rprop", "etas", (0.3, 1.5))
    assert isinstance(box, dcc.Input) and box.value == "0.3,1.5" and box.placeholder == "0.5,1.2"


def test_the_picker_groups_every_optimizer_in_the_registry_order():
    from layouts.race import optimizer_options

    options = optimizer_options()
    headings = [o["value"].removeprefix("group:") for o in options if o.get("disabled")]
    assert headings == [g for g in GROUPS if any(s.group == g for s in OPTIMIZERS.values())]
    group = None
    for option in options:
        if option.get("disabled"):
            group = option["title"]
        else:
            assert OPTIMIZERS[option["value"]].group == group
            assert option["title"].endswith(f", {group}")  # what the search matches
    assert sorted(o["value"] for o in options if not o.get("disabled")) == sorted(OPTIMIZERS)
