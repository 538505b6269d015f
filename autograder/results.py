"""What a check returns: one structured result, the same in every front end."""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, TypedDict


class Outcome(str, enum.Enum):
    """How a check ended."""

    PASSED = "passed"
    FAILED = "failed"  # the answer ran and is wrong
    NOT_ATTEMPTED = "not attempted"  # the exercise still raises NotImplementedError
    ERROR = "error"  # the answer crashed, or what the check needs could not be obtained


class CheckRecord(TypedDict):
    """A :class:`CheckResult` as JSON (:meth:`CheckResult.to_dict`): the outcome is its value, e.g. ``"passed"``."""

    check_id: str
    outcome: str
    points: float
    max_points: float
    message: str
    hint: str


@dataclass(frozen=True)
class CheckResult:
    """The result of one check.

    Attributes:
        check_id: Which check, e.g. ``"build_model"``.
        outcome: Passed, failed, not attempted or error.
        points: Points earned (all or nothing).
        max_points: Points possible.
        message: What was found and what was expected, in the student's terms.
        hint: What to try next; empty when the check passed.
    """

    check_id: str
    outcome: Outcome
    points: float
    max_points: float
    message: str
    hint: str = ""

    @property
    def passed(self) -> bool:
        return self.outcome is Outcome.PASSED

    def to_dict(self) -> CheckRecord:
        return {
            "check_id": self.check_id,
            "outcome": self.outcome.value,
            "points": self.points,
            "max_points": self.max_points,
            "message": self.message,
            "hint": self.hint,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> CheckResult:
        return cls(**{**data, "outcome": Outcome(data["outcome"])})
