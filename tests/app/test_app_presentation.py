"""Presentation mode on every page: no controls on the projected page (no Train, Stop, Try it,
toggles, pickers or export buttons; only the way back out), and the pages that open with a
figure -- Lessons at a glance, the shipped sweep -- draw it before any click.

The runs replay two real tiny trainings (tests/app/conftest.py), so each page has finished
runs to show, as in a class where the teacher trained them beforehand.
"""

from __future__ import annotations

import pytest
from support import WIDE, chart_rows, charts, open_page, replay

from regdemo.teaching.lessons import measured_sweep
from regdemo.teaching.lessons.catalog import measured

PAGES = ["app_pages/playground.py", "app_pages/compare.py", "app_pages/sweep.py", "app_pages/mistakes.py",
         "app_pages/history.py", "app_pages/glance.py", "app_pages/dropout.py", "app_pages/l1_l2.py",
         "app_pages/l2.py", "app_pages/early_stopping.py", "app_pages/augmentation.py", "app_pages/batchnorm.py",
         "app_pages/about.py"]
# Every kind of element a student or teacher clicks, types into or picks from.
CONTROLS = ("button", "download_button", "toggle", "checkbox", "selectbox", "multiselect", "slider",
            "select_slider", "number_input", "text_input", "radio", "button_group")


@pytest.fixture
def trainer(recorded):
    return replay(recorded)


def controls(at) -> list[str]:
    """Keys (or labels) of the controls in the page's main area, the exit button left out."""
    found = []
    for kind in CONTROLS:
        for element in at.main.get(kind):
            name = getattr(element, "key", None) or getattr(element, "label", None) or kind
            if name != "exit_presentation":
                found.append(f"{kind}:{name}")
    return found


@pytest.mark.parametrize("page", PAGES)
def test_presentation_mode_shows_no_controls(registry, page):
    assert registry.get_or_start(WIDE).wait(60)  # a finished run to draw, as in class
    normal = open_page(page, WIDE)
    present = open_page(page, WIDE, present=True)
    assert controls(present) == []
    if page not in ("app_pages/glance.py", "app_pages/about.py", "app_pages/history.py"):
        assert controls(normal)  # the same page at the desk has them: the check can fail
    assert [b.key for b in present.main.button] == ["exit_presentation"]


def test_glance_page_draws_every_measured_pair_before_any_click(registry):
    at = open_page("app_pages/glance.py")
    (chart,) = charts(at)
    lessons = measured()["lessons"]
    # baseline final, baseline peak and treated for every lesson of measured.json
    assert sum(chart_rows(chart).values()) == 3 * len(lessons)
    assert any(m.value.startswith("**Above the baseline's peak") for m in at.markdown)  # the claim
    assert not registry.runs()  # drawn from measured.json, nothing trained


def test_sweep_opens_with_the_shipped_noisy_l2_sweep_and_loads_its_setup(registry):
    shipped = measured_sweep.read()
    assert shipped is not None and shipped.param == "l2"
    at = open_page("app_pages/sweep.py")
    assert len(charts(at)) == 2  # test accuracy and gap against λ, before any click
    assert not registry.runs()
    at.button(key="sweep_shipped_load").click().run()
    assert not at.exception
    assert at.session_state["cfg_noise"] == shipped.base.label_noise
    assert at.session_state["sweep_values"] == ",".join(f"{v:g}" for v in shipped.values)
    assert at.session_state["sweep_seeds"] == shipped.seeds
