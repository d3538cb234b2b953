"Unit tests of the (R, v_z) view of jeans_nbdev.explore on a small untrained JeansModel (no fit: fast)."
import math
import equinox as eqx
import jax
import numpy as np
import pytest
from types import SimpleNamespace
from jeans_nbdev import explore as ex
from jeans_nbdev.jeans import JeansModel
from jeans_nbdev.velocity import sample_phase_space, project


@pytest.fixture(scope="module")
def model():
    return JeansModel(jax.random.key(0), scale=0.3, v_scale=12.0, v_sys=1.0)   # mixture velocity shape


@pytest.fixture(scope="module")
def mock(model):
    n, verr = 20000, 2.0
    x, v = sample_phase_space(jax.random.key(2), model.flow, model.sigma, model.beta, n, shape=model.shape)
    o = np.asarray(project(x, v))
    vz = o[:, 2] + float(model.v_sys) + verr * np.random.default_rng(0).normal(size=n)
    return SimpleNamespace(R=np.hypot(o[:, 0], o[:, 1]), vz=vz, verr=np.full(n, verr), n=n)


def test_data_kde_mass():
    rng = np.random.default_rng(1)
    R, v = np.abs(rng.normal(size=500)) * 0.3, rng.normal(size=500) * 10
    h_R, h_v = ex.rv_bandwidths(R, v)
    Rg, vg = np.linspace(0, R.max() + 8 * h_R, 500), np.linspace(v.min() - 8 * h_v, v.max() + 8 * h_v, 501)
    mass = np.trapezoid(np.trapezoid(ex.data_density_rv(R, v, Rg, vg, h_R, h_v), vg, axis=1), Rg)
    TOL = 1e-6   # spacing < h/3: trapezoid of Gaussians is spectrally accurate; the reflected kernel has no slope at R=0
    assert abs(mass - 1) < TOL


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


def test_mock_matches_its_model(model, mock):
    d = ex.rv_densities(model, mock)
    peak = d["model"].max()
    mad = np.mean(np.abs(d["data"] - d["model"])) / peak
    noise = np.sqrt(2 / np.pi) * np.mean(np.sqrt(d["model"] / (4 * np.pi * mock.n * d["h_R"] * d["h_v"]))) / peak
    TOL = 2.0 * noise   # the KDE is unbiased for the smoothed model: only its noise remains (measured 0.9x)
    assert mad < TOL, (mad, noise)
    shifted = eqx.tree_at(lambda m: m.v_sys, model, model.v_sys + 0.2 * np.std(mock.vz))
    d2 = ex.rv_densities(shifted, mock, (d["R"], d["v"]), (d["h_R"], d["h_v"]))
    assert np.mean(np.abs(d["data"] - d2["model"])) / peak > TOL   # a 0.2 sd shift of v_sys is detected


def test_bad_input(model):
    with pytest.raises(ValueError):
        ex.rv_bandwidths(np.ones(3), np.ones(4))
    with pytest.raises(ValueError):
        ex.smeared_model_density_rv(model, np.linspace(0, 1, 10), np.linspace(-1, 1, 5), 0.05, 1.0, n_fine=16)
    with pytest.raises(ValueError):
        ex.smeared_model_density_rv(model, np.linspace(0, 1, 10), np.linspace(-1, 1, 5), 0.0, 1.0)
