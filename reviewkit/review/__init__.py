"""The review: a workspace folder, its store, sessions, migrations, snapshots, progress, readiness and redaction.

In: a workspace path. Out: the review's metadata, rows and narrative, read and written safely.
"""
