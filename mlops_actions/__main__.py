from mlops_actions.cli import entry

raise SystemExit(entry())
