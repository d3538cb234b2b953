"""Checks of the validation diagnostics that nbs/10_validation.ipynb does not make, all without a fit: the realised
dispersion (`realized_ratio`) of Gaussian velocities drawn from the truth and its standard error sqrt(2 / n_eff), the
error messages for a catalog without 6D truth or a wrong-length z, the slope errors `_slope_errors` reports for known
power-law shifts (with the Jeans factor's identity G M = r sigma_r^2 A), and `median_noise`'s error and `run_budget`'s
sizes. The notebook holds the 100,000-star unbiasedness, the closed-form scaling of the ratio, the shipped catalogs'
ratios and the median noise's closed form.

Seed fixed (key 3), not tuned: velocities are drawn from exactly the truth's sigma_z, so the ratio is 1 in expectation."""
import jax
import numpy as np
import pytest

from jeans_nbdev import data
from jeans_nbdev.mocks import sample_mock
from jeans_nbdev.validation import _gaussian_velocities, realized_ratio

N = 20_000
RADII = np.array([0.25, 0.5, 1.0, 2.0, 4.0])     # units of r_1/2


@pytest.fixture(scope="module")
def core():
    truth = data.truth_by_name("PlumCoreOm")
    return truth, sample_mock(jax.random.key(3), "PlumCoreOm", N, verr=2.0), RADII * float(truth.r_half)


def test_unbiased_for_velocities_drawn_from_the_truth(core):
    truth, cat, r = core
    gauss = _gaussian_velocities(cat, truth, 2.0, seed=3)        # v_z ~ N(0, sigma_z,true^2) + 2 km/s errors
    q, se, n_eff = realized_ratio(gauss, truth, r, z=cat.truth.z)
    assert np.all(np.abs(q - 1) < 4 * se), (q, se)               # E[q] = 1; 4 SE: five radii, no false alarm
    assert np.all(se < 0.05) and np.all(n_eff > 1000), (se, n_eff)
    # the standard error is that of a Gaussian variance: sqrt(2 / n_eff) within 20% (the weights are not uniform)
    np.testing.assert_allclose(se, np.sqrt(2 / n_eff), rtol=0.2)


def test_errors_name_the_problem(core):
    truth, cat, r = core
    bare = data.from_arrays(cat.x, cat.y, cat.vz, source="bare.csv")
    with pytest.raises(ValueError, match="bare.csv has no 6D truth"):
        realized_ratio(bare, truth, r)
    with pytest.raises(ValueError, match="one value per star"):
        realized_ratio(bare, truth, r, z=cat.truth.z[:10])


class _Shifted:
    "The truth's nu and sigma_r^2 times r^a and r^b: log-slopes off by exactly a and b."
    def __init__(self, truth, a, b):
        self.truth, self.a, self.b = truth, a, b

    def nu(self, r):
        return self.truth.nu(r) * r**self.a

    def sigma_r2(self, r):
        return self.truth.sigma_r2(r) * r**self.b


@pytest.mark.parametrize("name", ["PlumCoreOm", "PlumCuspOm"])
def test_jeans_factor_gives_the_mass_and_slope_errors(name):
    from jeans_nbdev import background as bg
    from jeans_nbdev.validation import _slope_errors, true_jeans_factor
    truth = data.truth_by_name(name)
    r = RADII * float(truth.r_half)
    A = true_jeans_factor(truth, r)
    assert np.all(A > 0), A                                      # a positive mass at every radius
    # G M = r sigma_r^2 A: the Jeans equation itself (autodiff slopes of the truth; only rounding error remains)
    np.testing.assert_allclose(r * np.asarray(truth.sigma_r2(r)) * A / bg.G, np.asarray(truth.mass(r)), rtol=1e-9)
    d = _slope_errors(_Shifted(truth, 0.1, -0.2), truth, r)     # power-law factors shift log-slopes exactly
    np.testing.assert_allclose(d["d_slope_nu"], 0.1, atol=1e-9)
    np.testing.assert_allclose(d["d_slope_s2"], -0.2, atol=1e-9)


def test_median_noise_matches_the_closed_form_and_budget_sizes():
    # the median of k standard normal draws has sd ~ 1.2533 / sqrt(k) (finite-population corrected); 8%: see nbs/10_validation.ipynb
    from jeans_nbdev.validation import median_noise, run_budget, SMALL_CATALOG_MEMBERS, BUDGETS
    y = np.random.default_rng(1).normal(size=(2000, 3))
    np.testing.assert_allclose(median_noise(y, 25).std(axis=0), 1.2533 / 5 * np.sqrt(1 - 25 / 2000), rtol=0.08)
    with pytest.raises(ValueError, match="members"):
        median_noise(y, 2001)
    assert run_budget(True, 1000)["members"] == SMALL_CATALOG_MEMBERS
    full, ci = run_budget(True, 10000), run_budget(False, 1000)
    assert (full["members"], full["config"].steps) == (BUDGETS["full"]["members"], BUDGETS["full"]["steps"])
    assert (ci["members"], ci["config"].steps) == (BUDGETS["ci"]["members"], BUDGETS["ci"]["steps"])
