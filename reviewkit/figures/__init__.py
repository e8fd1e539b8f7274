"""Figures: counts, shares, intervals, agreement, trends, CQC evidence, charts and generated sentences.

In: pandas tables and an audit tool. Out: tables, numbers, charts and sentences. Pure: no store, no files.
"""
