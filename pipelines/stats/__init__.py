"""Statistics for the marts: effect-size arithmetic and metafor-compatible meta-analysis (numpy/scipy/pandas only)."""
