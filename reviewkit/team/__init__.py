"""The team: entry forms (ipywidgets), the local form server, the review hub (JupyterHub) with sign-in and first-use codes.

In: a workspace and the people signing in. Out: ratings, meetings and notes saved through the store.
"""
