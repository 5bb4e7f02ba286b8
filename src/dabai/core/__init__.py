"""The bottom layer: basics every other package may use, and that use nothing else of Dabai.

* :mod:`dabai.core.errors`  the user-facing errors (``DabaiError`` and its kinds) and ``require``
* :mod:`dabai.core.config`  YAML specs mapped onto typed dataclasses
* :mod:`dabai.core.images`  image files: extensions, listing, header size and bounded decoding
* :mod:`dabai.core.boxes`   box geometry: IoU (pair and batch), greedy matching, clipping to a window
* :mod:`dabai.core.home`    the per-user home folder (``DABAI_HOME``)
* :mod:`dabai.core.lazy`    lazy public exports of the packages

The import rule (docs/architecture.md, ``dabai/_layers.py``) forbids any import from here into the
rest of the package, so this layer can be read, tested and reused on its own.
"""
