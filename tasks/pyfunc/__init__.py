"""What a logged model carries as code: the pyfunc chat model and its generation loop, nothing else of tasks/.

An import-linter contract keeps this package free of the rest of `tasks`, so the copy stored with every model
version loads in a process that has only the pip requirements.
"""
