"""Analysis: pure functions over (Geo)DataFrames, with no I/O."""
