"""The `Problem` record: one task shown to the model plus its hidden tests."""
from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class TestCase:
    """One hidden test: call the entry point with `args`, expect `expected`.

    >>> TestCase.from_dict({"args": ["1 2 +"], "expected": 3}).to_dict()
    {'args': ['1 2 +'], 'expected': 3}
    """

    __test__ = False  # not a pytest test class

    args: list
    expected: Any

    def to_dict(self) -> dict:
        return {"args": list(self.args), "expected": self.expected}

    def __hash__(self) -> int:
        return hash(json.dumps(self.to_dict(), sort_keys=True))

    @classmethod
    def from_dict(cls, data: dict) -> "TestCase":
        return cls(args=list(data["args"]), expected=data["expected"])


def problem_id(family: str, difficulty: int, spec: dict, tests: list[TestCase]) -> str:
    """Stable id derived from content: family, difficulty, spec and tests.

    >>> problem_id("rpn", 3, {"entry_point": "f"}, [TestCase(["1"], 1)])[:7]
    'rpn-d3-'
    """
    payload = {
        "family": family,
        "difficulty": difficulty,
        "spec": spec,
        "tests": [t.to_dict() for t in tests],
    }
    blob = json.dumps(payload, sort_keys=True, separators=(",", ":"))
    return f"{family}-d{difficulty}-{hashlib.sha256(blob.encode()).hexdigest()[:12]}"


@dataclass(frozen=True)
class Problem:
    """A generated problem. `spec` holds the family's parameters (JSON data); the first
    `edge_tests` tests are the family's hand-picked edge cases, the rest random (not part of the
    id: it describes the tests, it does not change them)."""

    id: str
    family: str
    difficulty: int
    prompt: str
    entry_point: str
    tests: list[TestCase] = field(default_factory=list)
    reference: str = ""
    spec: dict = field(default_factory=dict)
    edge_tests: int = 0

    def __hash__(self) -> int:
        return hash(self.id)

    def content_key(self) -> str:
        """Canonical JSON of (spec, tests): equal keys mean the same task."""
        payload = {"spec": self.spec, "tests": [t.to_dict() for t in self.tests]}
        return json.dumps(payload, sort_keys=True, separators=(",", ":"))

    def to_dict(self) -> dict:
        return {
            "id": self.id,
            "family": self.family,
            "difficulty": self.difficulty,
            "prompt": self.prompt,
            "entry_point": self.entry_point,
            "tests": [t.to_dict() for t in self.tests],
            "reference": self.reference,
            "spec": self.spec,
            "edge_tests": self.edge_tests,
        }

    @classmethod
    def from_dict(cls, data: dict) -> "Problem":
        missing = [k for k in ("id", "family", "difficulty", "prompt", "entry_point", "tests")
                   if k not in data]
        if missing:
            raise ValueError(f"problem record is missing field(s): {', '.join(missing)}")
        return cls(
            id=data["id"],
            family=data["family"],
            difficulty=int(data["difficulty"]),
            prompt=data["prompt"],
            entry_point=data["entry_point"],
            tests=[TestCase.from_dict(t) for t in data["tests"]],
            reference=data.get("reference", ""),
            spec=dict(data.get("spec", {})),
            edge_tests=int(data.get("edge_tests", 0)),
        )
