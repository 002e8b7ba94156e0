"""Settings: params.yaml's mlops: section and what the project declares, gate rules and their evaluation."""
