"""What a reviewer reads: the Markdown report, plots, the model card and the one module that makes untrusted text inert."""
