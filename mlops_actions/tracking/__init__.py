"""Experiment tracking with no server: every run a DVC experiment ref on the git remote.

- runrecord.py: the run record file an experiment carries, and experiment names
- snapshot.py: which files of a run go into its experiment commit
- localgit.py: write an experiment with local git plumbing; read refs and objects back
- apiwriter.py: write an experiment through GitHub's git data API (the publishing job)
- listing.py: every experiment, read from refs and objects (no dvc), with params and metrics
- view.py: the table, JSON, CSV and Markdown of a listing; sorting and filtering
- standing.py: where this run stands among the recorded runs of the same model
"""
