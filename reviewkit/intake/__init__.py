"""Intake: files in and out of a review (CSV and XLSX imports with row checks, exports, the offline workbook, action plans, the sample).

In: other people's files. Out: rows in the store (all or nothing), or files for others.
"""
