"""Hypothesis: no per-example deadline. CI machines are shared; a slow example is not a wrong
one, and the properties are what the tests assert."""
from hypothesis import settings

settings.register_profile("wip", deadline=None)
settings.load_profile("wip")
