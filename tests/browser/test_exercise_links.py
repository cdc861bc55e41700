"""Exercise links in Chromium: a teacher's link fixes the setup and shows only the chosen
controls; locked ones are visibly locked; a bad name warns; the sidebar builds the link."""

from __future__ import annotations

import re
from urllib.parse import parse_qs, urlparse

from regdemo.i18n import translate
from tools.appserver import open_app, shown_errors


def tr(key, **values):
    return translate(key, "en", **values)


def sidebar(page):
    return page.get_by_test_id("stSidebar")


def choose(page, multiselect, label, expect, tries=3):
    """Pick `label` in a multiselect as a keyboard user would (type, Enter) and wait for its tag.

    In CI the link once read `show=none`: Escape closed the list before the Enter had become a
    tag. So this waits for the tag, and picks again if none comes, as a user would.
    """
    tag = multiselect.locator("[data-tag]").filter(has_text=label)
    for _ in range(tries):
        multiselect.click()
        page.keyboard.type(label)
        expect(page.get_by_role("option", name=label, exact=True)).to_be_visible()
        page.keyboard.press("Enter")
        try:
            expect(tag).to_be_visible(timeout=5_000)
            break
        except AssertionError:
            page.keyboard.press("Escape")
    page.keyboard.press("Escape")
    expect(tag).to_be_visible()


def test_show_link_hides_the_other_controls_and_keeps_its_setup(page, app, expect):
    open_app(page, f"{app.url}/?dropout=0.5&noise=0.2&show=dropout")
    side = sidebar(page)
    dropout = side.get_by_role("slider", name=tr("sidebar.dropout"))
    expect(dropout).to_be_visible()
    expect(dropout).to_have_attribute("aria-valuetext", "0.50")
    expect(side.get_by_text(tr("exercise.note"))).to_be_visible()
    for hidden in ("sidebar.noise", "sidebar.l2", "sidebar.patience"):
        expect(side.get_by_role("slider", name=re.compile(re.escape(tr(hidden))))).to_have_count(0)
    expect(side.get_by_text(tr("exercise.title"))).to_have_count(0)  # the builder is the teacher's
    # The student moves the free control; the hidden setup and the exercise stay in the link.
    dropout.focus()
    dropout.press("ArrowRight")
    expect(page).to_have_url(re.compile(r"[?&]dropout=0\.55(&|$)"))
    params = {k: v[-1] for k, v in parse_qs(urlparse(page.url).query).items()}
    assert params == {"dropout": "0.55", "noise": "0.2", "show": "dropout"}
    assert shown_errors(page) == []


def test_locked_control_is_shown_disabled_with_a_lock(page, app, expect, tmp_path):
    open_app(page, f"{app.url}/?noise=0.3&lock=noise")
    noise = sidebar(page).get_by_role("slider", name=re.compile("🔒 " + re.escape(tr("sidebar.noise"))))
    expect(noise).to_be_visible()
    expect(noise).to_have_attribute("aria-valuetext", "30 %")
    expect(noise).to_be_disabled()
    expect(sidebar(page).get_by_role("slider", name=tr("sidebar.dropout"))).to_be_enabled()
    page.screenshot(path=str(tmp_path / "exercise-locked.png"))


def test_bad_lock_warns_and_is_ignored(page, app, expect):
    open_app(page, f"{app.url}/?lock=colour")
    expect(page.get_by_test_id("stMain").get_by_test_id("stAlert").filter(has_text="colour")).to_be_visible()
    expect(sidebar(page).get_by_role("slider", name=tr("sidebar.dropout"))).to_be_enabled()
    assert shown_errors(page) == []


def test_copy_exercise_link_box_holds_the_link(page, app, expect):
    open_app(page, f"{app.url}/?dropout=0.5&noise=0.2")
    side = sidebar(page)
    side.get_by_text(tr("exercise.title")).click()
    free = side.get_by_test_id("stMultiSelect").first
    choose(page, free, tr("exercise.control.dropout"), expect)
    code = side.get_by_test_id("stCode")
    expect(code).to_contain_text("dropout=0.5&noise=0.2&show=dropout")
    link = code.inner_text().strip()
    assert link.startswith("http"), link
    open_app(page, link)  # the link a student opens is the exercise
    expect(sidebar(page).get_by_text(tr("exercise.note"))).to_be_visible()
    expect(sidebar(page).get_by_role("slider", name=re.compile(re.escape(tr("sidebar.l2"))))).to_have_count(0)
