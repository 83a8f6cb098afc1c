"""The grid design lab (`echelon grid`): layouts, static coverage, optimised posts, a queue-aware verdict."""
