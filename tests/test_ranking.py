"""Doubtful areas: the spread between areas with a known answer, imprecise and implausible
estimates, and the publisher's own doubt (the ranking itself: tests/test_claims.py)."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pytest
import shapely

from gradient.areas.doubt import between_area_variance, doubtful_areas


def test_between_area_variance_known_answer():
    # equal errors: DL's tau^2 is the sample variance minus the error variance
    le = np.array([78.0, 80.0, 82.0, 84.0, 86.0])
    se = np.full(5, 1.0)
    tau2, mu = between_area_variance(le, se)
    assert mu == pytest.approx(82.0)
    assert tau2 == pytest.approx(le.var(ddof=1) - 1.0)
    assert between_area_variance(np.array([80.0, 80.1, 79.9]), np.full(3, 2.0))[0] == 0.0


def grid(values, ses, n=6):
    """A row of ``n`` 1 km squares (WGS84 near Tampa) with these values and errors."""
    from conftest import UTM17

    x0, y0 = 360000.0, 3090000.0
    boxes = [shapely.box(x0 + 1000 * i, y0, x0 + 1000 * (i + 1), y0 + 1000) for i in range(n)]
    return gpd.GeoDataFrame(
        {"area_id": [f"A{i}" for i in range(n)], "le": values, "le_se": ses}, geometry=boxes, crs=UTM17
    ).to_crs("EPSG:4326")


def test_doubtful_areas_flag_imprecise_and_implausible_estimates():
    rng = np.random.default_rng(0)
    n = 40
    values = 82 + rng.normal(0, 1.0, n)
    ses = np.full(n, 0.5)
    values[10], ses[10] = 95.0, 0.5  # precise, but nothing like its neighbours
    ses[20] = 6.0  # imprecise
    areas = grid(values, ses, n)
    flags = doubtful_areas(areas)
    assert flags["A10"] == "implausible"
    assert "imprecise" in flags["A20"]
    assert (flags.drop(["A10", "A20", "A9", "A11"]) == "").all()


def test_the_publishers_own_doubt_is_the_tools():
    values, ses = np.array([80.0, 84.0, 82.0, 79.0, 85.0, 81.0]), np.full(6, 0.5)
    areas = grid(values, ses).assign(le_doubt=["", "", "implausible", "", "", ""])
    flags = doubtful_areas(areas)
    assert flags["A2"] == "implausible" and (flags.drop("A2") == "").all()
