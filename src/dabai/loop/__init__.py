"""The learning loop: find the frames worth labelling (``mine``) and pre-label them for a person (``label``).

Both run on the inference runtime only (ONNX Runtime, OpenCV; no torch), so they work on a gate's own
machine. ``docs/loop.md`` walks through the loop.
"""
