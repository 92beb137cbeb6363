"""Procedurally generated programming problems with hidden tests (pure Python, no torch).

>>> from tasks import make_problem, FAMILIES
>>> p = make_problem(family="rpn", difficulty=5, seed=123)
>>> p.family in FAMILIES and p.entry_point in p.prompt and 10 <= len(p.tests) <= 30
True
"""
from tasks.extract import extract_code
from tasks.generate import FAMILIES, make_problem
from tasks.jsonl import load_jsonl, save_jsonl
from tasks.problem import Problem, TestCase
from tasks.splits import build_splits

__all__ = ["FAMILIES", "Problem", "TestCase", "build_splits", "extract_code", "load_jsonl",
           "make_problem", "save_jsonl"]
