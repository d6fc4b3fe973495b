"""Readers for every kind of input file: boundaries, deprivation, assets, postcodes, lookups, networks."""
