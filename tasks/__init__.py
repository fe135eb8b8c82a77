"""Stage logic of llmops-pipelines: plain functions over typed config and paths (never imports prefect)."""
