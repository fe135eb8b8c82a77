"""The guards around the model: the input guard screens user turns before generation, the output guard screens
replies before they leave. The server and the evaluation's as-served rates use the same two."""
