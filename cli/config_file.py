"""The ``--config`` files themselves: readable, YAML, no key given twice, composed from parts.

A config file may start with ``include: [part.yaml, ...]`` (paths relative to the file): the
parts are read first, in order, then the file's own keys, exactly as if each had been given with
its own ``--config`` (LightningCLI merges them key by key; a later file wins, a list such as
``trainer.callbacks`` is replaced whole). ``expand_includes`` rewrites the command line that way
before LightningCLI sees it, so ``python main.py fit --config configs/X.yaml`` stays the one command.
"""

from __future__ import annotations

import os

import yaml

from settings.errors import ConfigError


class _DuplicateKey(Exception):
    def __init__(self, key, first: int, second: int):
        super().__init__(key, first, second)
        self.key, self.first, self.second = key, first, second


class UniqueKeyLoader(yaml.SafeLoader):
    """A SafeLoader that raises on a mapping key given twice (plain YAML keeps the last silently)."""


def _mapping(loader: UniqueKeyLoader, node: yaml.MappingNode, deep: bool = False):
    seen: dict = {}
    for key_node, _ in node.value:
        if key_node.tag == "tag:yaml.org,2002:merge":
            continue
        key = loader.construct_object(key_node, deep=True)
        try:
            if key in seen:
                raise _DuplicateKey(key, seen[key], key_node.start_mark.line + 1)
            seen[key] = key_node.start_mark.line + 1
        except TypeError:  # an unhashable key: the default constructor reports it
            pass
    return yaml.SafeLoader.construct_mapping(loader, node, deep=deep)


UniqueKeyLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _mapping)


INCLUDE = "include"


def read_config_file(path: str):
    """The YAML in ``path``; a ConfigError naming the file if it cannot be used."""
    try:
        with open(path, encoding="utf-8") as f:
            return yaml.load(f, Loader=UniqueKeyLoader)  # noqa: S506 - a SafeLoader subclass
    except _DuplicateKey as dup:
        raise ConfigError(
            f"config file {path!r} gives the key {dup.key!r} twice (lines {dup.first} and {dup.second}) "
            "in the same section; YAML would silently keep the last one",
            fix=f"keep one {dup.key!r} in that section of {path}") from None
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as err:
        raise ConfigError(f"config file {path!r} cannot be used: {err}",
                          fix="give an existing YAML file to --config") from None


def is_inline(value: str) -> bool:
    """A ``--config`` value that is YAML text, not a file name: what ``expand_includes`` writes for
    a file's own keys (and so what the processes of a DDP launch, started with that argv, get)."""
    return "\n" in value and not os.path.exists(value)


def _parts(path: str, chain: tuple[str, ...]) -> list:
    """``path``'s parts in merge order: file paths, then its own keys as a dict (when it includes)."""
    if is_inline(path):
        return [path]
    if os.path.abspath(path) in chain:
        raise ConfigError(f"config file {path!r} includes itself (through {' -> '.join(chain)})",
                          fix=f"remove the cycle from the {INCLUDE!r} lists")
    data = read_config_file(path)
    if not isinstance(data, dict) or INCLUDE not in data:
        return [path]
    data = dict(data)
    included = data.pop(INCLUDE)
    included = [included] if isinstance(included, str) else included
    if not isinstance(included, list) or not included or not all(isinstance(p, str) and p for p in included):
        raise ConfigError(f"config file {path!r}: {INCLUDE} = {included!r} is invalid: must be a file name or "
                          "a list of file names (relative to the file)",
                          fix=f"write e.g. {INCLUDE}: [parts/loop.yaml] at the top of {path}")
    here = os.path.dirname(path)
    parts = [part for name in included for part in _parts(os.path.join(here, name), chain + (os.path.abspath(path),))]
    return parts + ([data] if data else [])


def expand_includes(args: list[str]) -> list[str]:
    """``args`` with each ``--config FILE`` that has an ``include`` list replaced by one ``--config``
    per part and one (a YAML string) for the file's own keys; other arguments keep their places.

    Every file and part is read on the way: one that is missing, unreadable, not YAML, gives a key
    twice or includes itself is refused with a ConfigError before LightningCLI sees the arguments.
    """
    out, i = [], 0
    while i < len(args):
        arg = args[i]
        if arg in ("--config", "-c") and i + 1 < len(args):
            path, i = args[i + 1], i + 2
        elif arg.startswith(("--config=", "-c=")):
            path, i = arg.split("=", 1)[1], i + 1
        else:
            out.append(arg)
            i += 1
            continue
        for part in _parts(path, ()):
            out += ["--config", part if isinstance(part, str) else yaml.safe_dump(part, sort_keys=False)]
    return out


def composed_config(path: str) -> dict:
    """The one dict that ``path`` and its parts amount to (dicts merged key by key, later wins)."""
    merged: dict = {}
    for part in _parts(path, ()):
        _merge(merged, part if isinstance(part, dict) else read_config_file(part) or {})
    return merged


def _merge(into: dict, extra: dict) -> None:
    for key, value in extra.items():
        if isinstance(value, dict) and isinstance(into.get(key), dict):
            _merge(into[key], value)
        else:
            into[key] = value
