"""Readers turning article files (txt, md, html, PubMed XML, JSONL) into articles or error rows."""
