"""Echelon: emergency response in island industrial districts, simulated on real road networks."""

__version__ = "0.1.0"
