"""Whatever the bytes, a read ends in articles or error rows, never an exception."""

from __future__ import annotations

import tempfile
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from pipelines.ingest.readers import SUPPORTED_SUFFIXES, read_file

# Fragments of every supported syntax, so random files get past the first check now and then.
FRAGMENTS = [
    "---\n", "title: x\n", "&a", "*a", "!!python/object:os.system", "<p>", "</p>", "<script>",
    "</script>", "<article>", "<![CDATA[", "<!DOCTYPE x>", "<!ENTITY e 'v'>", "&e;", "&amp;",
    "<PubmedArticleSet>", "<PubmedArticle>", "<Abstract>", "<AbstractText Label='R'>",
    "</AbstractText>", '{"text": "', '"}', "\n", "\r", "\x00", "\\ud800", "\ufeff", "HR 0.71",
]
contents = st.one_of(
    st.binary(max_size=300),
    st.lists(st.sampled_from(FRAGMENTS), max_size=30).map("".join),
)


@settings(max_examples=300, deadline=None)
@given(suffix=st.sampled_from(SUPPORTED_SUFFIXES), content=contents)
def test_any_content_is_accounted_for(suffix: str, content: str | bytes) -> None:
    data = content if isinstance(content, bytes) else content.encode("utf-8", "surrogatepass")
    with tempfile.TemporaryDirectory() as folder:
        root = Path(folder)
        path = root / f"item{suffix}"
        path.write_bytes(data)

        result = read_file(path, root)

    assert result.articles or result.errors
    for error in result.errors:
        assert error.detail.startswith("item") and "\n" not in error.detail
    for article in result.articles:
        assert article.text.strip()
        assert "\r" not in article.text
