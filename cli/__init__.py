"""The `llmops` command: typer, above flows/ and serving/."""
