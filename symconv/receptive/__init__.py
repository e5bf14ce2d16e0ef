"""Receptive fields: layer stacks and graphs, exact regions, closed forms and checks against 𝒲 products."""
