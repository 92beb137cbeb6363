"""Checks of the ``--config`` files themselves: readable, YAML, no key given twice."""

from __future__ import annotations

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


def config_paths(args: list[str]) -> list[str]:
    """The files given with ``--config``/``-c`` (either spelling, with or without ``=``)."""
    paths = [args[i + 1] for i, a in enumerate(args[:-1]) if a in ("--config", "-c")]
    return paths + [a.split("=", 1)[1] for a in args if a.startswith(("--config=", "-c="))]


def check_config_files(args: list[str]) -> None:
    """Refuse a ``--config`` file that is missing, unreadable, not YAML or gives a key twice."""
    for path in config_paths(args):
        try:
            with open(path, encoding="utf-8") as f:
                yaml.load(f, Loader=UniqueKeyLoader)  # noqa: S506 - a SafeLoader subclass
        except _DuplicateKey as dup:
            raise ConfigError(
                f"config file {path!r} gives the key {dup.key!r} twice (lines {dup.first} and {dup.second}) "
                "in the same section; YAML would silently keep the last one",
                fix=f"keep one {dup.key!r} in that section of {path}") from None
        except (OSError, UnicodeDecodeError, yaml.YAMLError) as err:
            raise ConfigError(f"config file {path!r} cannot be used: {err}",
                              fix="give an existing YAML file to --config") from None
