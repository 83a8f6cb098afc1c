"""Agents: one module per kind (enterprise, response team, police unit, patrol drone, command room)."""
