"""The demo page: the patient page as plain HTML in the hospital's style, with the chat
widget embedded exactly as the README tells another site to embed it.

Everything from the source page goes through ``html.escape``; the only markup added
to its text is ``tel:`` links around UK phone numbers.
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
from dataclasses import dataclass
from html import escape
from typing import Dict, Iterable, List, Tuple

from web.source_page import Block

HOSPITAL = "Spire Cambridge Lea Hospital"
WIDGET_TITLE = "Ask about balloon kyphoplasty"
# The widget's default colours: white on this teal is 7.6:1, above WCAG AA's 4.5:1.
PRIMARY = "#00566b"
ON_PRIMARY = "#ffffff"

# UK numbers as the page writes them (01223 266929, 07700 900123, +44 1223 266900).
UK_PHONE = re.compile(r"(?<![\d+])(?:\+44\s?|0)\d{2,4}(?:\s?\d){6,8}(?!\d)")


def tel_href(number: str) -> str:
    """``tel:+441223266929`` for 01223 266929: E.164, so it dials from abroad too."""
    digits = re.sub(r"\D", "", number)
    if number.strip().startswith("+"):
        return "tel:+" + digits
    return "tel:+44" + digits[1:]


def phone_segments(text: str) -> List[Tuple[str, str]]:
    """``[("text", ...), ("tel", number), ...]``: the text with its UK phone numbers
    picked out. Only numbers whose digits make a UK number (10 or 11 digits with the
    leading 0) count, so figures such as 230,000 or 2009 stay text."""
    segments: List[Tuple[str, str]] = []
    position = 0
    for match in UK_PHONE.finditer(text):
        digits = re.sub(r"\D", "", match.group())
        national = digits[2:] if match.group().startswith("+") else digits[1:]
        if len(national) not in (9, 10):
            continue
        if match.start() > position:
            segments.append(("text", text[position : match.start()]))
        segments.append(("tel", match.group()))
        position = match.end()
    if position < len(text):
        segments.append(("text", text[position:]))
    return segments


def inline_html(text: str) -> str:
    """Escaped text with UK phone numbers as tel: links."""
    parts = []
    for kind, value in phone_segments(text):
        if kind == "tel":
            parts.append(f'<a href="{tel_href(value)}">{escape(value)}</a>')
        else:
            parts.append(escape(value))
    return "".join(parts)


def block_html(block: Block) -> str:
    if block.kind == "title":
        return f"<h1>{inline_html(block.text)}</h1>"
    if block.kind == "heading":
        return f"<h2>{inline_html(block.text)}</h2>"
    if block.kind == "subheading":
        return f"<h3>{inline_html(block.text)}</h3>"
    if block.kind == "list":
        items = "".join(f"<li>{inline_html(line)}</li>" for line in block.lines)
        return f"<ul>{items}</ul>"
    if block.kind == "footer":
        return ""  # shown in the page footer
    # A line break in the source ("...lifestyle." / "Telephone: ...") stays one.
    return "<p>" + "<br>".join(inline_html(line) for line in block.lines) + "</p>"


@dataclass(frozen=True)
class WidgetSettings:
    """What the demo page passes to the widget: the README's config object."""

    server_url: str
    title: str = WIDGET_TITLE
    primary: str = PRIMARY
    on_primary: str = ON_PRIMARY

    def config(self) -> Dict[str, object]:
        return {
            "serverUrl": self.server_url,
            "title": self.title,
            "colours": {"primary": self.primary, "onPrimary": self.on_primary},
            "offlineMessage": (
                "The assistant is not available right now. "
                "Please call the hospital on 01223 266900."
            ),
        }


def config_script(settings: WidgetSettings) -> str:
    # json.dumps does not escape "</script>"; "<" as \u003c keeps the config inert.
    payload = json.dumps(settings.config(), indent=2).replace("<", "\\u003c")
    return f"window.KyphoChatConfig = {payload};"


def script_hash(script: str) -> str:
    """The CSP hash that lets exactly this inline script run and nothing else."""
    digest = hashlib.sha256(script.encode("utf-8")).digest()
    return "'sha256-" + base64.b64encode(digest).decode("ascii") + "'"


def render_demo_page(blocks: Iterable[Block], settings: WidgetSettings) -> str:
    blocks = list(blocks)
    title = next((b.text for b in blocks if b.kind == "title"), "Patient information")
    footer = " ".join(escape(b.text) for b in blocks if b.kind == "footer")
    body = "\n".join(html for html in (block_html(b) for b in blocks) if html)
    return f"""<!doctype html>
<html lang="en-GB">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{escape(title)} | {escape(HOSPITAL)}</title>
<link rel="icon" href="data:,">
<link rel="stylesheet" href="/static/demo.css">
</head>
<body>
<a class="skip-link" href="#content">Skip to main content</a>
<header class="site-header">
  <div class="site-header__inner">
    <p class="site-name">{escape(HOSPITAL)}</p>
    <p class="site-note">Demo page for the patient assistant</p>
  </div>
</header>
<main id="content" tabindex="-1">
<article class="patient-page">
{body}
</article>
</main>
<footer class="site-footer"><p>{footer}</p></footer>
<script>{config_script(settings)}</script>
<script src="/widget/chat.js" async></script>
</body>
</html>
"""
