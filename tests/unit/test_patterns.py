"""Patterns over dotted codes, and the index that finds them without scanning."""

from __future__ import annotations

import random

import pytest

from lgsp.patterns import DottedPattern, PatternIndex


@pytest.mark.parametrize(
    ("pattern", "code", "matches"),
    [
        ("000.*.*.H41", "000.00.00.H41", True),
        ("000.*.*.H41", "000.17.22.H41", True),
        ("000.*.*.H41", "000.00.00.H56", False),
        ("000.*.*.H41", "000.00.H41", False),
        ("H56.**", "H56.14", True),
        ("H56.**", "H56.14.02", True),
        ("H56.**", "H56", False),
        ("1.003560.**", "1.003560.000.00.00.H56", True),
        ("*", "anything.at.all", True),
        ("000.00.00.H41", "000.00.00.H41", True),
        ("000.00.00.H41", "000.00.00.H410", False),
    ],
)
def test_matching(pattern: str, code: str, matches: bool) -> None:
    assert DottedPattern.parse(pattern).matches(code) is matches


@pytest.mark.parametrize("text", ["000.**.00.H41", "000.00.00.H41;", "H56.", "000..00.H41", "a b", "x.*y"])
def test_invalid_patterns_are_refused_with_an_example(text: str) -> None:
    with pytest.raises(ValueError, match=r"000\.\*\.\*\.H41"):
        DottedPattern.parse(text)


@pytest.mark.parametrize(
    ("wide", "narrow", "covers"),
    [
        ("000.*.*.H41", "000.00.00.H41", True),
        ("000.*.*.H41", "000.00.*.H41", True),
        ("000.00.*.H41", "000.*.*.H41", False),
        ("*", "000.*.*.H41", True),
        ("H56.**", "H56.14", True),
        ("H56.**", "H56.*.**", True),
        ("H56.*.**", "H56.**", False),
        ("000.*.*.H41", "000.**", False),
        ("000.00.00.H41", "000.00.00.H41", True),
    ],
)
def test_coverage_is_what_shadowing_is_decided_by(wide: str, narrow: str, covers: bool) -> None:
    assert DottedPattern.parse(wide).covers(DottedPattern.parse(narrow)) is covers


def test_the_index_finds_exactly_what_a_scan_finds() -> None:
    generator = random.Random(7)
    segments = ["000", "00", "17", "H41", "H56", "G22", "*"]
    patterns = []
    for _ in range(400):
        length = generator.randint(1, 4)
        parts = [generator.choice(segments) for _ in range(length)]
        if generator.random() < 0.2:
            parts.append("**")
        patterns.append(DottedPattern.parse(".".join(parts)))
    index = PatternIndex((pattern, position) for position, pattern in enumerate(patterns))
    for _ in range(2000):
        code = ".".join(generator.choice(segments[:-1]) for _ in range(generator.randint(1, 5)))
        expected = sorted(position for position, pattern in enumerate(patterns) if pattern.matches(code))
        assert sorted(index.lookup(code)) == expected, code
