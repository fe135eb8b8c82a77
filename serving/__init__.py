"""The HTTP API that serves the registry's @champion."""
