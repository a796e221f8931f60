"""Controlled vocabularies shared by the extractor, the pandera schemas and the SQL models."""

ENDPOINTS = (
    "PFS", "OS", "DFS", "iDFS", "EFS", "RFS", "DRFS", "TTP", "ORR", "CBR", "DOR", "pCR",
    "MACE", "MORTALITY", "HOSP", "AE", "OTHER",
)
MEASURES = ("HR", "OR", "RR", "RD", "MD", "IRR")
# Measures analysed on the log scale; the others (RD, MD) are differences with null 0.
RATIO_MEASURES = ("HR", "OR", "RR", "IRR")
POPULATIONS = ("overall", "subgroup")
P_RELATIONS = ("<", "=", ">")
STATISTICS = ("median", "percent", "rate", "mean", "count")
COMPLEMENT_SOURCES = ("reported", "derived")
PATTERNS = (
    "subgroup_only_significant",
    "overall_only_significant",
    "both_significant",
    "neither_significant",
    "qualitative_interaction",
)
RECORD_TYPES = ("estimate", "arm_result", "arm")
