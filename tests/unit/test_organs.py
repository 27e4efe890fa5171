from __future__ import annotations

import pytest

from lgsp.organs import is_organ_id


@pytest.mark.parametrize(
    "organ",
    ["000.00.00.G22", "000.00.00.H41", "000.17.22.H56", "28.22.H17", "999.010.01.H22", "H56.14", "H01.151.01", "G22"],
)
def test_real_agency_codes_are_organ_ids(organ: str) -> None:
    assert is_organ_id(organ)


@pytest.mark.parametrize("text", ["", "000.00.00", "G2", "000.00.00.h41", "000.00.00.H4", "abc.def.ghi.H41"])
def test_malformed_codes_are_not_organ_ids(text: str) -> None:
    assert not is_organ_id(text)
