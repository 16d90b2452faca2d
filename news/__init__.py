"""Nashra's pure domain: Arabic text, feed parsing, topics, dedup, summaries, schedule maths, rendering.

Nothing in this package performs network or database I/O, and nothing imports the other project
packages; time is passed in as a parameter. Data files shipped inside the package (the topic model)
are read through ``importlib.resources``.
"""
