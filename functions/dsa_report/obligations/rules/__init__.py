"""The evaluators the catalogue names in its `rule` fields, one module per theme.

Importing the package registers every rule in `engine.registry.RULES` (name -> fn(ctx, parameters) -> Outcome).
"""

from . import ads, complaints, consumers, listings, notices, orders, publications, risk, sor, traders  # noqa: F401
