"""Every page of the app opens in Chromium with no exception shown."""

from __future__ import annotations

from regdemo.screenshots import nav_links, open_app, shown_errors


def test_every_page_renders_without_exception(page, app, expect):
    open_app(page, app.url)
    links = nav_links(page)
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
