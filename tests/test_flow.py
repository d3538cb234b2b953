"""Unit tests for jeans_nbdev.flow (the notebook nbs/04_flow.ipynb has the full checks and the fits)."""
import jax
import jax.numpy as jnp
import numpy as np
import equinox as eqx
import pytest
import scipy.integrate

from jeans_nbdev.flow import (RadialFlow, cartesian_cnf_forward, cartesian_cnf_log_prob, default_base_radii,
                              forward_radius, with_solver, base_log_prob_r)
from jeans_nbdev.numerics import cast_floats, interp_linear
KEY = jax.random.PRNGKey(42)


@pytest.fixture(scope="module")
def flows():
    "Strong (init_scale=1) cored and cuspy test flows, float64, scale 0.3 kpc."
    return (RadialFlow(KEY, scale=0.3, init_scale=1.0, width=32, n_steps=16),
            RadialFlow(KEY, scale=0.3, init_scale=1.0, width=32, cusp=0.5, n_steps=16))


def test_api_shapes(flows):
    f = flows[1]
    x = f.sample(jax.random.PRNGKey(1), 17)
    assert x.shape == (17, 3) and f.log_prob(x).shape == (17,) and f.inverse(x).shape == (17, 3)
    xs, lp = f.sample_with_log_prob(jax.random.PRNGKey(1), 17)
    np.testing.assert_allclose(np.asarray(xs), np.asarray(x), rtol=1e-12)  # same key, same map
    ln_r, ln_n = f.radial_table(64)
    assert ln_r.shape == ln_n.shape == (64,) and np.all(np.diff(np.asarray(ln_r)) > 0)  # sorted ascending


def test_exact_divergence_matches_jacfwd_trace(flows):
    f = with_solver(flows[0], n_steps=64)
    z = jax.random.normal(jax.random.PRNGKey(3), (50, 3))
    r0 = jnp.linalg.norm(z, axis=-1)
    _, ln_n = forward_radius(f, r0)
    _, l_bf = cartesian_cnf_forward(f, z)
    l_exact = base_log_prob_r(r0) - ln_n - 3 * np.log(f.scale)
    np.testing.assert_allclose(np.asarray(l_exact), np.asarray(l_bf), rtol=1e-5)  # issue spec, float64


def test_cartesian_log_prob_matches(flows):
    f = with_solver(flows[1], n_steps=64)
    x = f.sample(jax.random.PRNGKey(4), 40)
    np.testing.assert_allclose(np.asarray(cartesian_cnf_log_prob(f, x)), np.asarray(f.log_prob(x)),
                               rtol=1e-7)  # same field; RK4 in ln r vs in x differ by O(h^4) ~ 1e-9 at 64 steps


@pytest.mark.parametrize("i", [0, 1])
def test_normalised(flows, i):
    f = flows[i]
    lo, hi = forward_radius(f, jnp.array([1e-6, 8.0]))[0]
    ln_r = jnp.linspace(lo, hi, 3001)
    integrand = np.asarray(jnp.exp(f.log_nu(jnp.exp(ln_r)) + 3 * ln_r)) * 4 * np.pi
    np.testing.assert_allclose(scipy.integrate.simpson(integrand, x=np.asarray(ln_r)), 1.0,
                               atol=1e-4)  # issue spec; quadrature + 16-step RK4 error


def test_rotation_invariance(flows):
    f = flows[1]
    x = f.sample(jax.random.PRNGKey(5), 100)
    q, _ = jnp.linalg.qr(jax.random.normal(jax.random.PRNGKey(6), (3, 3)))
    np.testing.assert_allclose(np.asarray(f.log_prob(x @ q.T)), np.asarray(f.log_prob(x)),
                               rtol=0, atol=1e-6)  # issue spec: ln n depends on |x| only


def test_round_trip(flows):
    k = jax.random.PRNGKey(7)
    z = jax.random.normal(k, (100, 3))
    for f in flows:
        np.testing.assert_allclose(np.asarray(f.inverse(f.sample(k, 100))), np.asarray(z), rtol=0,
                                   atol=1e-6)  # RK4 forward then backward: O(h^4) at 16 steps


def test_inner_slopes(flows):
    def slope(f, r):
        return jax.vmap(jax.grad(lambda lr: f.log_nu(jnp.exp(lr)[None])[0]))(jnp.log(r))
    r = jnp.array([1e-9, 1e-7]) * 0.3
    np.testing.assert_allclose(np.asarray(slope(flows[0], r)), 0.0, atol=1e-6)   # core: O(r^2)
    np.testing.assert_allclose(np.asarray(slope(flows[1], r)), -1.0, atol=1e-4)  # gamma = 3c/(1+c) = 1


def test_table_gradient_and_float32(flows):
    f = cast_floats(RadialFlow(KEY, scale=0.3, cusp="learn"), jnp.float32)
    p, static = eqx.partition(f, eqx.is_inexact_array)
    g = jax.grad(lambda p: jnp.sum(eqx.combine(p, static).radial_table(64)[1]))(p)
    leaves = jax.tree.leaves(g)
    assert all(a.dtype == jnp.float32 and np.all(np.isfinite(np.asarray(a))) for a in leaves)
    assert float(jnp.abs(g.cusp_raw)) > 0  # the cusp power is trained


def test_interp_extrapolates_linearly():
    t, y = jnp.array([0.0, 1.0, 3.0]), jnp.array([1.0, 3.0, -1.0])
    np.testing.assert_allclose(np.asarray(interp_linear(jnp.array([-1.0, 0.5, 2.0, 4.0]), t, y)),
                               [-1.0, 2.0, 1.0, -3.0], rtol=1e-14)  # piecewise linear by hand


@pytest.mark.parametrize("bad", [dict(scale=-1.0), dict(solver="rk5"), dict(n_steps=0), dict(cusp="yes"),
                                 dict(cusp=-0.5)])
def test_bad_arguments(bad):
    with pytest.raises(ValueError):
        RadialFlow(KEY, **bad)


def test_with_solver_rejects_unknown(flows):
    with pytest.raises(ValueError):
        with_solver(flows[0], steps=3)
    assert with_solver(flows[0], n_steps=5).n_steps == 5 and flows[0].n_steps == 16
