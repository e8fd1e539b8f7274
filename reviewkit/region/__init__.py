"""The region: de-identified bundles from a review, and the comparison across councils and rounds.

In: workspaces and bundles. Out: a bundle (.zip) and the regional comparison report.
"""
