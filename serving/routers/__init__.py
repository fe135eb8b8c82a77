"""One router per endpoint (as vLLM's entrypoints/openai): each takes its service from `app.state`."""
