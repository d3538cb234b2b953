"""Checks of the (R, v_z) view of jeans_nbdev.explore that nbs/11_explore.ipynb does not make, on a small untrained
JeansModel (no fit: fast): the smeared model density keeps unit mass (reflection at R = 0; the unsmeared mass of the same
model is checked first) and the smeared density's bad-input errors. The notebook holds the data KDE's mass, the model
density's mass for a fitted member, the mock-against-its-model check and the bandwidths."""
import math
import jax
import numpy as np
import pytest
from jeans_nbdev import explore as ex
from jeans_nbdev.jeans import JeansModel


@pytest.fixture(scope="module")
def model():
    return JeansModel(jax.random.key(0), scale=0.3, v_scale=12.0, v_sys=1.0)   # mixture velocity shape


def test_model_and_smeared_mass(model):
    ln_r = np.asarray(model.flow.radial_table()[0])
    R = np.geomspace(1e-4, 10 * math.exp(ln_r[-1]), 300)
    v = np.linspace(-100, 100, 201)
    p = ex.model_density_rv(model, R, v, 2.0)
    mass = np.trapezoid(np.trapezoid(p * R[:, None], np.log(R), axis=0), v)
    TOL = 3e-3   # 48-node LOS quadrature and the linear 256-point table (measured ~6e-4 missing)
    assert abs(mass - 1) < TOL
    Rg = np.linspace(0, 4.0, 200)   # reflection at R=0 keeps the mass: the smoothed model integrates to 1 too
    ps = ex.smeared_model_density_rv(model, Rg, v, 0.05, 3.0, 2.0)
    assert abs(np.trapezoid(np.trapezoid(ps, v, axis=1), Rg) - 1) < TOL


def test_bad_input(model):
    with pytest.raises(ValueError):
        ex.rv_bandwidths(np.ones(3), np.ones(4))
    with pytest.raises(ValueError):
        ex.smeared_model_density_rv(model, np.linspace(0, 1, 10), np.linspace(-1, 1, 5), 0.05, 1.0, n_fine=16)
    with pytest.raises(ValueError):
        ex.smeared_model_density_rv(model, np.linspace(0, 1, 10), np.linspace(-1, 1, 5), 0.0, 1.0)
