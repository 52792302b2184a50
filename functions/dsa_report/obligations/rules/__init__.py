"""The evaluators the catalogue names in its `rule` fields, one module per theme.

Importing the package registers every rule in `engine.registry.RULES` (name -> fn(ctx, parameters) -> Outcome).
"""

from . import (  # noqa: F401  (registers)
    ads,
    complaints,
    consumers,
    data_access,
    listings,
    marketplace,
    notices,
    orders,
    publications,
    recommenders,
    risk,
    sor,
    traders,
)
