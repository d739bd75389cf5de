"""Curate orbit clips for a training set and write the musubi-tuner dataset and scripts of the original recipe.

- ``scoring.py``: keep or reject one clip from its metric report (pure; thresholds and named reasons).
- ``score.py``: ``dataset score``: many clips through the study executors -> scores.csv, scores.html (``html.py``).
- ``frames.py``: Wan's 4k+1 frame counts and musubi-tuner's frame extraction.
- ``musubi.py``: the original's two training commands as data, and the scripts built from them.
- ``prepare.py``: ``dataset prepare``: clips, captions, dataset.toml, prompts.txt and the scripts.
"""
