"""Privacy: screening free text for identifiers, and the publish gate that reads a page as a reader does.

In: text (Markdown, HTML, plain) and what a review declares. Out: findings by kind and place, never a value.
"""
