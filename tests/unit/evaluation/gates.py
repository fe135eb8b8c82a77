"""Gates with just the checks a test names (the schema's defaults are the shipped policy of params.yaml)."""

from tasks.config.schema import GateParams


def only(**sections) -> GateParams:
    """No check but these; rates read the model alone unless `served` says otherwise."""
    empty = {"min": {}, "max": {}, "max_regression": {}, "min_gain_over_base": {}, "max_disparity": {}, "served": []}
    return GateParams(**{**empty, **sections})
