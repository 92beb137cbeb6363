"""The package layout: each folder one concern, imports only downward (README's layout table)."""

from __future__ import annotations

import ast
import os

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

# folder -> top-level packages its modules must not import (at the top or inside a function)
PROJECT = {"tasks", "sandbox", "storage", "settings", "generation", "models", "verify", "reporting", "lightning_modules",
           "datamodules", "callbacks", "cli"}
MUST_NOT_IMPORT = {
    "storage": {"torch", "lightning", "transformers", "peft"} | PROJECT - {"storage"},
    "settings": {"torch", "lightning", "transformers", "peft"} | PROJECT - {"settings"},
    "tasks": {"torch", "lightning", "sandbox", "callbacks", "datamodules", "lightning_modules"},
    "sandbox": {"torch", "lightning", "tasks", "callbacks", "datamodules", "lightning_modules"},
    "generation": {"lightning", "callbacks", "datamodules", "cli", "verify", "reporting"},
    "models": {"lightning", "callbacks", "datamodules", "cli", "generation", "verify", "reporting"},
    "verify": {"lightning", "callbacks", "datamodules", "cli", "lightning_modules"},
    "reporting": {"lightning", "callbacks", "datamodules", "cli", "lightning_modules"},
    "lightning_modules": {"callbacks", "datamodules", "cli"},
    "datamodules": {"callbacks", "cli"},
    "callbacks": {"cli"},
}


def imported_packages(path: str) -> dict[str, int]:
    """Top-level package of every import in the file -> the first line importing it."""
    tree = ast.parse(open(path, encoding="utf-8").read(), path)
    out: dict[str, int] = {}
    for node in ast.walk(tree):
        names = []
        if isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names = [node.module]
        for name in names:
            out.setdefault(name.split(".")[0], node.lineno)
    return out


def modules(folder: str) -> list[str]:
    base = os.path.join(ROOT, folder)
    return sorted(os.path.join(dirpath, f) for dirpath, _, files in os.walk(base) for f in files if f.endswith(".py"))


@pytest.mark.parametrize("folder", sorted(MUST_NOT_IMPORT))
def test_imports_only_downward(folder):
    assert modules(folder), f"{folder}/ holds no modules"
    bad = [f"{os.path.relpath(path, ROOT)}:{line} imports {pkg}"
           for path in modules(folder) for pkg, line in imported_packages(path).items()
           if pkg in MUST_NOT_IMPORT[folder]]
    assert not bad, "\n".join(bad)


def test_every_package_folder_says_what_it_holds():
    for folder in MUST_NOT_IMPORT:
        init = os.path.join(ROOT, folder, "__init__.py")
        assert os.path.isfile(init), init
        assert ast.get_docstring(ast.parse(open(init).read())), f"{init} has no docstring"


SIZE_CHECKED = sorted(MUST_NOT_IMPORT) + ["cli", "scripts"]
MAX_FILE_LINES, MAX_FUNCTION_LINES = 400, 60
STANDALONE = {os.path.join("sandbox", "worker.py")}  # runs alone with the standard library: one file


def test_files_and_functions_stay_small():
    """No file over 400 lines (the standalone sandbox worker excepted), no function over 60."""
    paths = [p for folder in SIZE_CHECKED for p in modules(folder)] + [os.path.join(ROOT, "main.py")]
    long_files, long_functions = [], []
    for path in paths:
        rel = os.path.relpath(path, ROOT)
        source = open(path, encoding="utf-8").read()
        if source.count("\n") > MAX_FILE_LINES and rel not in STANDALONE:
            long_files.append(f"{rel}: {source.count(chr(10))} lines")
        for node in ast.walk(ast.parse(source)):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                length = node.end_lineno - node.lineno + 1
                if length > MAX_FUNCTION_LINES:
                    long_functions.append(f"{rel}:{node.lineno} {node.name}: {length} lines")
    assert not long_files and not long_functions, "\n".join(long_files + long_functions)
