"""HTML pages: main content chosen, boilerplate and scripts dropped, entities and metadata read."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from pipelines.ingest.html_text import read_html
from pipelines.ingest.readers import read_file

PAGE = """<!DOCTYPE html>
<html lang="en">
<head>
  <title>Rollout trial   results | Example News</title>
  <meta property="og:site_name" content="Example News">
  <meta property="article:published_time" content="2024-06-02T09:15:00+02:00">
  <link rel="canonical" href="https://news.example.org/rollout">
  <style>body { font-family: STYLE_MARKER; }</style>
  <script>var tracker = "SCRIPT_MARKER_HEAD";</script>
</head>
<body>
  <nav><a href="/">Home</a> NAV_MARKER</nav>
  <header><h1>Rollout cuts relapse</h1> HEADER_MARKER</header>
  <aside>Related: ASIDE_MARKER</aside>
  <article>
    <p>In the   randomised
       trial, relapse fell (HR 0.71; 95% CI 0.58&ndash;0.87; P &lt; 0.001).</p>
    <script>document.write("SCRIPT_MARKER_BODY")</script>
    <noscript>NOSCRIPT_MARKER</noscript>
    <template><p>TEMPLATE_MARKER</p></template>
    <svg><title>SVG_MARKER</title><text>SVG_MARKER</text></svg>
    <div>Median survival: <b>24.1</b> vs <i>19.8</i> months<br>
      Adverse events &amp; dropouts were rare.</div>
    <ul><li>Arm A: 206 patients</li><li>Arm B: 206 patients</li></ul>
    <table><tr><th>Group</th><th>HR</th></tr><tr><td>Women</td><td>0.65</td></tr></table>
    <form>FORM_MARKER <input name="q"></form>
  </article>
  <footer>FOOTER_MARKER &copy; 2024</footer>
</body>
</html>
"""

EXPECTED_TEXT = (
    "In the randomised trial, relapse fell (HR 0.71; 95% CI 0.58\u20130.87; P < 0.001).\n"
    "Median survival: 24.1 vs 19.8 months\n"
    "Adverse events & dropouts were rare.\n"
    "Arm A: 206 patients\n"
    "Arm B: 206 patients\n"
    "Group HR\n"
    "Women 0.65"
)


def test_page_gives_the_article_text_only(root: Path, write) -> None:
    path = write(root, "rollout.html", PAGE)

    result = read_file(path, root)

    assert result.errors == []
    [article] = result.articles
    assert article.source_format == "html"
    assert article.text == EXPECTED_TEXT
    for marker in ("STYLE", "SCRIPT", "NAV", "HEADER", "ASIDE", "NOSCRIPT", "TEMPLATE", "SVG",
                   "FORM", "FOOTER"):
        assert f"{marker}_MARKER" not in article.text


def test_page_metadata_comes_from_head_tags(root: Path, write) -> None:
    path = write(root, "rollout.htm", PAGE)

    [article] = read_file(path, root).articles

    assert article.title == "Rollout trial results | Example News"
    assert article.url == "https://news.example.org/rollout"
    assert article.outlet == "Example News"
    assert article.published_on == dt.date(2024, 6, 2)
    assert article.meta["html_meta"]["og:site_name"] == "Example News"
    json.dumps(article.meta)


def test_sidecar_overrides_what_the_page_says(root: Path, write) -> None:
    write(root, "rollout.meta.json", json.dumps({"outlet": "Corrected Outlet", "trial": "ROLLOUT"}))
    path = write(root, "rollout.html", PAGE)

    [article] = read_file(path, root).articles

    assert (article.outlet, article.trial_hint) == ("Corrected Outlet", "ROLLOUT")
    assert article.url == "https://news.example.org/rollout"


def test_longest_article_wins_over_teaser_cards() -> None:
    markup = (
        "<body><article><p>Teaser one.</p></article>"
        "<article><p>The full made-up story.</p><article><p>A quoted reply.</p></article></article>"
        "<section><article><p>Teaser two.</p></article></section></body>"
    )

    assert read_html(markup).records[0].text == "The full made-up story.\nA quoted reply."


def test_a_form_wrapping_the_whole_page_is_not_boilerplate() -> None:
    markup = (
        '<body><form id="page"><nav>Menu</nav><main><p>Story in a page-wide form.</p>'
        "<form><p>Comment box</p></form></main></form></body>"
    )

    assert read_html(markup).records[0].text == "Story in a page-wide form."


def test_main_is_used_when_there_is_no_article() -> None:
    markup = "<body><div>Menu text</div><main><p>Main story.</p></main><p>Trailer</p></body>"

    assert read_html(markup).records[0].text == "Main story."


def test_body_is_used_without_article_or_main_and_h1_gives_the_title() -> None:
    markup = "<html><body><h1>Headline  here</h1><p>First.</p><p>Second.</p></body></html>"

    record = read_html(markup).records[0]

    assert record.text == "Headline here\nFirst.\nSecond."
    assert record.derived["title"] == "Headline here"


def test_fragment_without_body_is_read_whole() -> None:
    record = read_html("<p>Loose paragraph</p>tail words").records[0]

    assert record.text == "Loose paragraph\ntail words"


def test_unclosed_script_never_leaks() -> None:
    markup = "<body><p>Visible.</p><script>var leaked = 'LEAK'; </p> more LEAK"

    assert read_html(markup).records[0].text == "Visible."


def test_non_breaking_spaces_are_kept_as_written() -> None:
    assert read_html("<p>12&nbsp;months</p>").records[0].text == "12\u00a0months"


def test_page_of_only_boilerplate_is_empty(root: Path, write, codes) -> None:
    markup = "<html><body><nav>Home</nav><script>app()</script></body></html>"
    path = write(root, "shell.html", markup)

    result = read_file(path, root)

    assert result.articles == []
    assert codes(result) == ["empty"]


@settings(max_examples=200, deadline=None)
@given(payload=st.text(alphabet=st.characters(codec="utf-8"), max_size=80))
def test_nothing_inside_a_script_reaches_the_text(payload: str) -> None:
    body = payload.replace("</", "< /")  # only a closing tag can end a script early
    markup = f"<body><p>Before.</p><script>{body}</script><style>{body}</style><p>After.</p></body>"

    assert read_html(markup).records[0].text == "Before.\nAfter."
