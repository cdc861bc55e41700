"""Every page of the app opens in Chromium with no exception shown."""

from __future__ import annotations

from regdemo.i18n import translate
from tools.appserver import ROOT, nav_links, open_app, shown_errors


def test_every_page_renders_without_exception(page, app, expect):
    open_app(page, app.url)
    links = nav_links(page)
    # Every page file, those under the sidebar's "View N more" too (the screenshots take these links).
    assert len(links) == len(list((ROOT / "app_pages").glob("*.py"))), links
    urls = [app.url] + [href for _, href in links if href.rstrip("/") != app.url]
    problems = {}
    for url in urls:
        open_app(page, url)
        expect(page.get_by_test_id("stMain")).not_to_be_empty()
        errors = shown_errors(page)
        if "Traceback" in page.inner_text("body"):
            errors.append("'Traceback' in the page text")
        if errors:
            problems[url] = errors
    assert not problems, problems


def test_chinese_link_opens_in_chinese(page, app, expect):
    open_app(page, f"{app.url}/?lang=zh")
    main = page.get_by_test_id("stMain")
    expect(main.get_by_role("button", name=translate("button.train", "zh"), exact=True)).to_be_visible()
    expect(main.get_by_role("heading", name=translate("app.title", "zh"))).to_be_visible()
    assert shown_errors(page) == []
