"""Change a few keys of a gate config file (``gate.yaml``) and keep everything else the user wrote.

The file is edited as a round-trip YAML document (ruamel.yaml), so the user's other keys, their order and
their comments stay as they were; the result is validated through :class:`~dabai.gate.config.GateConfig`
(an unknown key or a bad value is a ``ConfigError`` naming it) *before* the file is replaced, atomically.
A file that does not exist yet is created with just those keys::

    from dabai.gate.config_edit import set_config_values
    config = set_config_values("~/.dabai/gate.yaml", {"mask.with_mask": 0.62})
"""

from __future__ import annotations

import io
import os
from pathlib import Path

from dabai.core.config import from_dict
from dabai.core.errors import ConfigError
from dabai.gate.config import GateConfig


def _round_trip():
    from ruamel.yaml import YAML

    yaml = YAML(typ="rt")
    yaml.preserve_quotes = True
    return yaml


def set_config_values(path: str | Path, values: dict[str, object]) -> GateConfig:
    """Set the dotted ``values`` (e.g. ``{"mask.with_mask": 0.62}``) in the gate config ``path``; returns
    the validated config. Nothing is written when the result would not be a valid gate config."""
    import yaml as pyyaml
    from ruamel.yaml.comments import CommentedMap
    from ruamel.yaml.error import YAMLError

    path = Path(path).expanduser()
    rt = _round_trip()
    if path.is_file():
        try:
            doc = rt.load(path.read_text(encoding="utf-8"))
        except YAMLError as exc:
            mark = getattr(exc, "problem_mark", None)
            where = f"{path}:{mark.line + 1}" if mark is not None else str(path)
            raise ConfigError(f"{where}: not valid YAML ({getattr(exc, 'problem', exc)}); the file was not changed") from None
        if doc is None:
            doc = CommentedMap()
        if not isinstance(doc, dict):
            raise ConfigError(f"{path}: expected a mapping of keys to values, got {type(doc).__name__}; "
                              "the file was not changed")
    elif path.exists():
        raise ConfigError(f"{path}: not a file")
    else:
        doc = CommentedMap()
    for key, value in values.items():
        node = doc
        parts = key.split(".")
        for part in parts[:-1]:
            child = node.get(part)
            if child is None:
                child = node[part] = CommentedMap()
            elif not isinstance(child, dict):
                raise ConfigError(f"{path}: '{part}' in '{key}' holds {child!r}, not a mapping; the file was not changed")
            node = child
        node[parts[-1]] = value
    buffer = io.StringIO()
    rt.dump(doc, buffer)
    text = buffer.getvalue()
    try:
        config = from_dict(GateConfig, pyyaml.safe_load(text) or {})
    except ConfigError as exc:
        raise ConfigError(f"{path}: {exc}; the file was not changed") from None
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(text, encoding="utf-8")
    if path.is_file():
        os.chmod(tmp, path.stat().st_mode & 0o7777)  # the user's permissions stay
    os.replace(tmp, path)
    return config
