"""The Playground as a student uses it: Train streams, Stop stops, links carry the setup."""

from __future__ import annotations

import io
import re
from urllib.parse import parse_qs, urlparse

import pandas as pd

from regdemo.i18n import translate
from tools.appserver import charts_fingerprint, open_app, shown_errors, wait_charts_change, wait_rendered

TRAIN_TIMEOUT_MS = 180_000  # a short run on two busy cores, first torch import included


def tr(key, **values):
    return translate(key, "en", **values)


def main(page):
    return page.get_by_test_id("stMain")


def sidebar(page):
    return page.get_by_test_id("stSidebar")


def slider(page, label_key):
    # Streamlit's slider is an <input type=range> named by its label; the shown
    # value (formatted, e.g. "0.25" or "off") is its aria-valuetext.
    return sidebar(page).get_by_role("slider", name=tr(label_key)).first


def test_train_streams_and_stop_stops(page, app, expect):
    # Still training when Stop is pressed on any machine: 200 epochs (the most a link may ask
    # for) of the sample's 4,000 digits is a minute or more on a fast CPU. A 500-digit,
    # 50-epoch run finished in ~2 s once the engine got fast, before Stop was pressed.
    open_app(page, f"{app.url}/?epochs=200&seed=11")
    main(page).get_by_role("button", name=tr("button.train"), exact=True).click()

    running = tr("status.running", epoch=1, epochs=200).split(":")[0]  # "Training"
    expect(main(page).get_by_text(re.compile(rf"^{running}.* of 200"))).to_be_visible(timeout=TRAIN_TIMEOUT_MS)
    expect(main(page).get_by_test_id("stVegaLiteChart").first).to_be_visible(timeout=TRAIN_TIMEOUT_MS)
    # The chart redraws by itself, twice: it streams, not just one rerun.
    first = charts_fingerprint(page)
    second = wait_charts_change(page, first, TRAIN_TIMEOUT_MS)
    wait_charts_change(page, second, TRAIN_TIMEOUT_MS)

    stop = main(page).get_by_role("button", name=tr("button.stop"), exact=True)
    expect(stop).to_be_enabled()
    stop.click()
    expect(main(page).get_by_text(tr("status.stopped"), exact=True)).to_be_visible()
    expect(stop).to_be_disabled()
    assert shown_errors(page) == []


SHARED = {
    "model": "article", "dataset": "mnist-sample", "dropout": "0.25", "l1": "5e-05", "l2": "0.003",
    "augment": "light", "bn": "1", "patience": "3", "train_size": "1000", "epochs": "7", "seed": "42",
    "lang": "en",
}


def _expect_shared_setup(page, expect):
    bar = sidebar(page)
    expect(bar.get_by_role("combobox", name=tr("sidebar.model"))).to_have_value(tr("sidebar.model.article"))
    expect(bar.get_by_role("combobox", name=tr("sidebar.dataset"))).to_have_value(
        tr("sidebar.dataset.mnist-sample"))
    expect(slider(page, "sidebar.dropout")).to_have_attribute("aria-valuetext", "0.25")
    expect(slider(page, "sidebar.l1")).to_have_attribute("aria-valuetext", "5e-05")
    expect(slider(page, "sidebar.l2")).to_have_attribute("aria-valuetext", "0.003")
    expect(slider(page, "sidebar.augment")).to_have_attribute("aria-valuetext", tr("sidebar.augment.light"))
    expect(bar.get_by_role("switch", name=tr("sidebar.batchnorm"))).to_be_checked()
    expect(slider(page, "sidebar.patience")).to_have_attribute("aria-valuetext", "3")
    expect(slider(page, "sidebar.train_size")).to_have_attribute("aria-valuetext", "1,000")
    expect(slider(page, "sidebar.epochs")).to_have_attribute("aria-valuetext", "7")


def test_shared_link_opens_with_the_same_setup(page, app, expect):
    query = "&".join(f"{k}={v}" for k, v in SHARED.items())
    open_app(page, f"{app.url}/?{query}")
    _expect_shared_setup(page, expect)
    seed = sidebar(page).get_by_role("spinbutton", name=tr("sidebar.seed"))
    expect(seed).to_have_value("42")

    # Changing one widget changes only that part of the setup (the rerun
    # keeps every other widget), and the address bar follows.
    seed.fill("43")
    seed.press("Enter")
    expect(page).to_have_url(re.compile(r"[?&]seed=43(&|$)"))
    _expect_shared_setup(page, expect)
    params = {k: v[-1] for k, v in parse_qs(urlparse(page.url).query).items()}
    expected = dict(SHARED, seed="43")
    expected.pop("dataset")  # the default dataset is left out of links
    expected.pop("lang")  # so is the default language
    assert params == expected


def test_bad_link_parameter_warns_and_opens(page, app, expect):
    open_app(page, f"{app.url}/?dropout=lots&colour=red")
    alerts = main(page).get_by_test_id("stAlert")
    expect(alerts.filter(has_text="dropout")).to_be_visible()
    expect(alerts.filter(has_text="colour")).to_be_visible()
    expect(slider(page, "sidebar.dropout")).to_have_attribute("aria-valuetext", "0.00")
    assert shown_errors(page) == []


def test_finished_run_downloads_its_curves_as_csv(page, app, expect):
    open_app(page, f"{app.url}/?train_size=500&epochs=2&seed=12")
    main(page).get_by_role("button", name=tr("button.train"), exact=True).click()
    expect(main(page).get_by_text(tr("status.finished", epochs=2), exact=True)).to_be_visible(
        timeout=TRAIN_TIMEOUT_MS)

    # The export section is an expander under the charts: open it, then the
    # per-epoch table's button.
    wait_rendered(page)  # the run's last full rerun redraws the page: click after it
    main(page).get_by_test_id("stExpander").filter(has_text=tr("export.title")).locator("summary").click()
    button = main(page).get_by_role("button", name=tr("export.csv.epochs"))
    expect(button).to_be_visible()
    with page.expect_download() as info:
        button.click()
    download = info.value
    assert download.suggested_filename.endswith(".csv")
    frame = pd.read_csv(io.StringIO(open(download.path(), encoding="utf-8").read()))
    assert list(frame["epoch"]) == [1, 2]
    for column in ("train_acc", "test_acc"):
        assert frame[column].between(0, 1).all(), frame[column]
    # 500 digits, two epochs: far better than the 10% of guessing.
    assert frame["test_acc"].iloc[-1] > 0.3


def test_presentation_mode_hides_the_controls(page, app, expect):
    open_app(page, f"{app.url}/?present=1")
    expect(page.get_by_test_id("stSidebar")).to_be_hidden()
    expect(page.get_by_role("slider")).to_have_count(0)  # hidden ones are not counted
    exit_button = main(page).get_by_role("button", name=tr("presentation.exit"))
    expect(exit_button).to_be_visible()

    exit_button.click()
    expect(page.get_by_test_id("stSidebar")).to_be_visible()
    expect(slider(page, "sidebar.dropout")).to_be_visible()
    # And back in from the sidebar's own switch, as a teacher would.
    sidebar(page).get_by_text(tr("sidebar.presentation"), exact=True).click()
    expect(page.get_by_test_id("stSidebar")).to_be_hidden()
    expect(page).to_have_url(re.compile(r"[?&]present=1(&|$)"))
