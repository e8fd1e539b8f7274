"""Core: the exception tree, safe file writes, YAML, shipped files, audit tools, codebooks, the CQC framework as data and the regional bundle format.

In: files on disk. Out: typed, validated objects. Imports nothing else of reviewkit.
"""
