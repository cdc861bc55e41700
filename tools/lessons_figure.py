"""`python -m tools.lessons_figure`: the Lessons-at-a-glance figure of measured.json, into docs/.

Writes docs/lessons-glance.png and .svg (regdemo.viz.glance, exported as for a slide) and puts
the figure, its claim as the caption, into docs/lessons.md between the GLANCE markers (added
after the file's first paragraph when they are missing). Run it after every
`python -m regdemo lessons --check --write`; `--check` exits 1 when docs/lessons.md does not
show the figure of the current measured.json (what a test calls).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import pathlib
import sys

from regdemo.i18n import translate
from regdemo.teaching.lessons.catalog import MEASURED_PATH, measured
from regdemo.viz import slide
from regdemo.viz.glance import glance_chart, glance_claim, glance_frame

ROOT = pathlib.Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs"
STEM = "lessons-glance"
BEGIN, END = "<!-- GLANCE: written by python -m tools.lessons_figure -->", "<!-- /GLANCE -->"


def measured_hash(path: pathlib.Path = MEASURED_PATH) -> str:
    """sha256 of measured.json's bytes: what a figure or a screenshot was made from."""
    return hashlib.sha256(path.read_bytes()).hexdigest()


def block(stored: dict, digest: str) -> str:
    """The Markdown docs/lessons.md carries: the figure, its claim, what it was made from."""
    frame = glance_frame(stored, t=translate)
    claim = glance_claim(frame, t=translate)
    return "\n".join([
        BEGIN,
        f"**Lessons at a glance.** {claim}",
        "",
        f"![Lessons at a glance: {claim}]({STEM}.png)",
        "",
        f"Test accuracy of every lesson pair ({stored.get('date', '?')}, {len(stored.get('seeds') or [])} seeds): "
        "the baseline at its last epoch (black) and at its best epoch (grey, its peak), the treated run at its "
        "last epoch (orange); dots are means, bars the seeds' range. Also as [SVG](" + STEM + ".svg) and on the "
        f"app's *Lessons at a glance* page. measured.json sha256 `{digest[:12]}`.",
        END,
    ])


def with_block(text: str, new: str) -> str:
    """docs/lessons.md's text with its GLANCE block replaced, or added after the first paragraph."""
    if BEGIN in text and END in text:
        head, rest = text.split(BEGIN, 1)
        return head + new + rest.split(END, 1)[1]
    first = text.find("\n\n", text.find("\n\n") + 2)  # the end of the paragraph under the title
    first = len(text) if first < 0 else first
    return text[:first] + "\n\n" + new + text[first:]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--docs", type=pathlib.Path, default=DOCS)
    parser.add_argument("--check", action="store_true", help="only say whether docs/lessons.md is current")
    args = parser.parse_args(argv)
    stored, digest = measured(), measured_hash()
    if not stored:
        print("measured.json holds nothing: run python -m regdemo lessons --check --write first", file=sys.stderr)
        return 1
    doc = args.docs / "lessons.md"
    text = doc.read_text(encoding="utf-8")
    new = block(stored, digest)
    if args.check:
        current = BEGIN in text and new in text
        print("docs/lessons.md shows the current figure" if current else
              "docs/lessons.md does not show the figure of the current measured.json: python -m tools.lessons_figure")
        return 0 if current else 1
    missing = slide.missing()
    if missing:
        print(f"cannot draw the figure: {missing}", file=sys.stderr)
        return 1
    frame = glance_frame(stored, t=translate)
    chart = glance_chart(frame, t=translate, scale=slide.SLIDE_SCALE)
    claim = glance_claim(frame, t=translate)
    for fmt in slide.FORMATS:
        (args.docs / f"{STEM}.{fmt}").write_bytes(slide.slide_bytes(chart, fmt, title=claim))
    doc.write_text(with_block(text, new), encoding="utf-8")
    print(json.dumps({"figure": f"{args.docs / STEM}.png", "measured_sha256": digest}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
