"""Readers that turn article files (txt, md, html, PubMed XML, JSONL) into article records or error rows."""
