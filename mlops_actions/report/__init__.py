"""What a reviewer reads: the Markdown report, its verdicts, plots and charts, and the model card.
Every untrusted text in them goes through the top-level `inert` module."""
