"""The report: the render pipeline (cache, staging and publishing, the kernel, the HTML, the Chromium printer, Word), its sections and the team annex.

In: a snapshot of a review. Out: report.html, report.pdf, report.docx, published together or not at all.
"""
