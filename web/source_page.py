"""The hospital's patient page as blocks (title, headings, paragraphs, lists) for the
demo page, read from the same source text the bot's answers are checked against.

Pure functions on text, so the demo page stays true to the source and is tested
without a server.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import List, Tuple

from content.answers import page_path

# Lines that were the old website's controls: consultant and treatment search boxes,
# the enquiry form and its "read more" links. They cannot work on a static page, and
# the assistant's callback replaces the form, so the demo page leaves them out.
WEBSITE_CONTROLS = frozenset(
    {
        "Find a treatment, test or scan available at:",
        "Find a consultant",
        "Use one or more of the options below to search for a consultant and link "
        "through to view their Spire profile.",
        "Let us help you",
        "fill out this form and we will get back to you:",
        "Please select a hospital",
        "We can call you",
        "Please enter your details below and we will call you back.",
        "What is the aim of your enquiry?",
        "If we are unable to reach you by phone, please include your email address "
        "so that we can get in touch...",
        "Click here to read more",
    }
)

BULLETS = ("•", "-", "*")
STEP = re.compile(r"^Step \d+:")


class SourcePageMissing(RuntimeError):
    """The patient page is not where it should be; the message says where to put it."""


@dataclass(frozen=True)
class Block:
    kind: str  # "title", "heading", "subheading", "paragraph", "list", "footer"
    lines: Tuple[str, ...]

    @property
    def text(self) -> str:
        return " ".join(self.lines)


def read_source_page(path: Path | None = None) -> str:
    """The page's text; KYPHO_SOURCE_PAGE or ../shared/source/ beside the repo."""
    path = Path(path) if path else page_path()
    try:
        return path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise SourcePageMissing(
            f"The patient page was not found at {path}. The demo page is built from "
            "it: put balloon-kyphoplasty-patient-page.txt in ../shared/source/ beside "
            "the repository, or set KYPHO_SOURCE_PAGE to its path."
        ) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise SourcePageMissing(f"The patient page at {path} cannot be read: {exc}")


def _chunks(text: str) -> List[List[str]]:
    """Runs of non-blank lines, stripped, with the website controls removed."""
    chunks: List[List[str]] = [[]]
    for raw in text.splitlines():
        line = " ".join(raw.split())
        if not line:
            if chunks[-1]:
                chunks.append([])
            continue
        if line not in WEBSITE_CONTROLS:
            chunks[-1].append(line)
    return [chunk for chunk in chunks if chunk]


def _is_heading(line: str) -> bool:
    return (
        len(line.split()) <= 12
        and line[-1] not in ".,;…"
        and line[0].isupper()
        and not line.startswith(BULLETS + ("©",))
    )


def parse_page(text: str) -> List[Block]:
    """Blocks in page order. The first line is the title; a short line on its own
    without a full stop is a heading; "Step n:" lines head their own paragraph."""
    blocks: List[Block] = []
    for index, chunk in enumerate(_chunks(text)):
        if index == 0 and len(chunk) == 1:
            blocks.append(Block("title", tuple(chunk)))
            continue
        if len(chunk) == 1 and _is_heading(chunk[0]):
            blocks.append(Block("heading", tuple(chunk)))
            continue
        paragraph: List[str] = []
        items: List[str] = []

        def flush() -> None:
            if paragraph:
                blocks.append(Block("paragraph", tuple(paragraph)))
                paragraph.clear()
            if items:
                blocks.append(Block("list", tuple(items)))
                items.clear()

        for line in chunk:
            if line.startswith(BULLETS):
                if paragraph:
                    flush()
                items.append(line.lstrip("".join(BULLETS)).strip())
            elif line.startswith("©"):
                flush()
                blocks.append(Block("footer", (line,)))
            elif STEP.match(line) and _is_heading(line):
                flush()
                blocks.append(Block("subheading", (line,)))
            else:
                if items:
                    flush()
                paragraph.append(line)
        flush()
    return blocks
