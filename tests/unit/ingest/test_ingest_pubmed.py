"""PubMed XML: one article per PubmedArticle, labelled abstracts, dates, and refusal of entities."""

from __future__ import annotations

import datetime as dt
import time
from pathlib import Path

import pytest

from pipelines.ingest.readers import read_file

DOCTYPE = (
    '<!DOCTYPE PubmedArticleSet PUBLIC "-//NLM//DTD PubMedArticle, 1st January 2025//EN" '
    '"https://dtd.nlm.nih.gov/ncbi/pubmed/out/pubmed_250101.dtd">'
)


def pubmed_article(pmid: str, title: str, abstract: str, pub_date: str, extra: str = "") -> str:
    return f"""
  <PubmedArticle>
    <MedlineCitation Status="MEDLINE" Owner="NLM">
      <PMID Version="1">{pmid}</PMID>
      <Article PubModel="Print-Electronic">
        <Journal>
          <JournalIssue CitedMedium="Internet">
            <Volume>12</Volume><PubDate>{pub_date}</PubDate>
          </JournalIssue>
          <Title>Journal of Invented Trials</Title>
          <ISOAbbreviation>J Invent Trials</ISOAbbreviation>
        </Journal>
        <ArticleTitle>{title}</ArticleTitle>
        {abstract}
        {extra}
      </Article>
    </MedlineCitation>
    <PubmedData>
      <ArticleIdList>
        <ArticleId IdType="pubmed">{pmid}</ArticleId>
        <ArticleId IdType="doi">10.9999/jit.{pmid}</ArticleId>
      </ArticleIdList>
    </PubmedData>
  </PubmedArticle>"""


STRUCTURED = """<Abstract>
          <AbstractText Label="BACKGROUND">Relapse is common.</AbstractText>
          <AbstractText Label="RESULTS" NlmCategory="RESULTS">Among 412 patients, the hazard
            ratio with <i>drug X</i> was 0.71 (95% CI, 0.58 to 0.87).</AbstractText>
          <AbstractText Label="CONCLUSIONS">Drug X lowered relapse.</AbstractText>
          <CopyrightInformation>Copyright holder line.</CopyrightInformation>
        </Abstract>"""
PLAIN = "<Abstract><AbstractText>Unstructured summary of a made-up trial.</AbstractText></Abstract>"


def pubmed_set(*articles: str, doctype: str = DOCTYPE) -> str:
    body = "".join(articles)
    return f'<?xml version="1.0" ?>\n{doctype}\n<PubmedArticleSet>{body}\n</PubmedArticleSet>\n'


def test_each_pubmed_article_becomes_an_article(root: Path, write) -> None:
    xml = pubmed_set(
        pubmed_article("111", "Drug X in relapse: a trial", STRUCTURED,
                       "<Year>2024</Year><Month>Mar</Month><Day>5</Day>"),
        pubmed_article("222", "A second <i>invented</i> trial", PLAIN,
                       "<Year>2023</Year><Month>11</Month><Day>20</Day>"),
    )
    path = write(root, "set.xml", xml)

    result = read_file(path, root)

    assert result.errors == []
    first, second = result.articles
    assert (first.article_id, second.article_id) == ("set.xml#1", "set.xml#2")
    assert first.source_format == "pubmed_xml"
    assert first.text == (
        "BACKGROUND: Relapse is common.\n\n"
        "RESULTS: Among 412 patients, the hazard ratio with drug X was 0.71 (95% CI, 0.58 to 0.87)."
        "\n\nCONCLUSIONS: Drug X lowered relapse."
    )
    assert first.title == "Drug X in relapse: a trial"
    assert first.url == "https://pubmed.ncbi.nlm.nih.gov/111/"
    assert first.outlet == "Journal of Invented Trials"
    assert first.published_on == dt.date(2024, 3, 5)
    assert first.meta["doi"] == "10.9999/jit.111"
    assert second.text == "Unstructured summary of a made-up trial."
    assert second.title == "A second invented trial"
    assert second.published_on == dt.date(2023, 11, 20)


def test_partial_pub_date_falls_back_to_the_electronic_date(root: Path, write) -> None:
    electronic = (
        '<ArticleDate DateType="Electronic"><Year>2024</Year><Month>01</Month><Day>17</Day>'
        "</ArticleDate>"
    )
    xml = pubmed_set(
        pubmed_article(
            "1", "Dated online", PLAIN, "<Year>2024</Year><Month>Feb</Month>", electronic
        ),
        pubmed_article("2", "Season only", PLAIN.replace("made-up", "second made-up"),
                       "<MedlineDate>2023 Winter</MedlineDate>"),
    )
    path = write(root, "dates.xml", xml)

    first, second = read_file(path, root).articles

    assert first.published_on == dt.date(2024, 1, 17)
    assert first.meta["pub_date"] == "2024 Feb"
    assert second.published_on is None
    assert second.meta["pub_date"] == "2023 Winter"


def test_article_without_abstract_is_an_error_row_and_the_rest_ingest(
    root: Path, write, codes
) -> None:
    xml = pubmed_set(
        pubmed_article("10", "No abstract here", "", "<Year>2020</Year>"),
        pubmed_article("20", "Has one", PLAIN, "<Year>2020</Year>"),
    )
    path = write(root, "mixed.xml", xml)

    result = read_file(path, root)

    assert [a.article_id for a in result.articles] == ["mixed.xml#2"]
    assert codes(result) == ["empty"]
    assert "record 1" in result.errors[0].detail and "PMID 10" in result.errors[0].detail


@pytest.mark.parametrize(
    ("xml", "code"),
    [
        ("<PubmedArticleSet><PubmedArticle></PubmedArticleSet>", "bad_xml"),
        ("<rss><channel><title>Feed</title></channel></rss>", "unsupported_xml"),
        ("<PubmedArticleSet></PubmedArticleSet>", "empty"),
    ],
)
def test_unusable_xml_is_refused(root: Path, xml: str, code: str, write, codes) -> None:
    path = write(root, "bad.xml", xml)

    result = read_file(path, root)

    assert result.articles == []
    assert codes(result) == [code]


def test_billion_laughs_is_refused_quickly(root: Path, write, codes) -> None:
    entities = ['<!ENTITY lol0 "lol">'] + [
        f'<!ENTITY lol{i} "{f"&lol{i - 1};" * 10}">' for i in range(1, 10)
    ]
    doctype = "<!DOCTYPE PubmedArticleSet [\n" + "\n".join(entities) + "\n]>"
    abstract = "<Abstract><AbstractText>&lol9;</AbstractText></Abstract>"
    xml = pubmed_set(pubmed_article("1", "Lol", abstract, ""), doctype=doctype)
    path = write(root, "lol.xml", xml)

    started = time.perf_counter()
    result = read_file(path, root)

    assert time.perf_counter() - started < 1
    assert result.articles == []
    assert codes(result) == ["unsafe_xml"]


def test_external_entity_is_never_read(tmp_path: Path, root: Path, write, codes) -> None:
    secret = write(tmp_path, "secret.txt", "SECRET_CONTENT")
    doctype = f'<!DOCTYPE PubmedArticleSet [<!ENTITY leak SYSTEM "file://{secret}">]>'
    abstract = "<Abstract><AbstractText>&leak;</AbstractText></Abstract>"
    xml = pubmed_set(pubmed_article("1", "Leak", abstract, ""), doctype=doctype)
    path = write(root, "xxe.xml", xml)

    result = read_file(path, root)

    assert result.articles == []
    assert codes(result) == ["unsafe_xml"]
    assert "SECRET_CONTENT" not in result.errors[0].detail
