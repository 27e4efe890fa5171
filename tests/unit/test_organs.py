from __future__ import annotations

import pytest

from lgsp.organs import OrganPattern


@pytest.mark.parametrize(
    "organ",
    ["000.00.00.G22", "000.00.00.H41", "000.17.22.H56", "28.22.H17", "999.010.01.H22", "H56.14", "H01.151.01"],
)
def test_real_agency_codes_are_organ_ids(organ: str) -> None:
    assert OrganPattern.is_organ_id(organ)


@pytest.mark.parametrize("text", ["", "000.00.00", "G2", "000.00.00.h41", "000.00.00.H4", "abc.def.ghi.H41"])
def test_malformed_codes_are_not_organ_ids(text: str) -> None:
    assert not OrganPattern.is_organ_id(text)


def test_a_star_stands_for_one_whole_segment() -> None:
    pattern = OrganPattern.compile("000.*.*.H41")
    assert pattern.matches("000.00.00.H41")
    assert pattern.matches("000.17.22.H41")
    assert not pattern.matches("000.00.00.H56")
    assert not pattern.matches("000.00.H41")


def test_a_lone_star_matches_everything() -> None:
    assert OrganPattern.compile("*").matches("H56.14")


@pytest.mark.parametrize("text", ["000.**.00.H41", "000.00.00.H41;", "H56.", "000..00.H41", "000.0000.00.H41"])
def test_invalid_patterns_are_refused_with_an_example(text: str) -> None:
    with pytest.raises(ValueError, match=r"000\.\*\.\*\.H41"):
        OrganPattern.compile(text)
