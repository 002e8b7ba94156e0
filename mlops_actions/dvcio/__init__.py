"""DVC's files read as DVC reads them: YAML 1.2, dvc.yaml, dvc.lock, config, the cache and remotes, pull and verify."""
