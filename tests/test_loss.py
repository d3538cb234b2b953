"""Checks of jeans_nbdev.velocity and jeans_nbdev.loss that nbs/05_velocity.ipynb and nbs/06_loss.ipynb do not make
(analytic Plummer stand-ins, float64): SigmaR2Net's v_scale error and smoothness over 1e-4-1e3 kpc, linear extrapolation
with distinct end segments, the LOS likelihood with sigma_r2_fn against the tabulated sigma_r^2, finite gradients through
make_loss (weights, both kinds), make_loss/make_log_lik error messages, and the mixture's Gaussian limit and sample
likelihood. The notebooks hold the Plummer Sigma, sigma_los^2 and normalisation, the loss minima, the kernel estimator's
expectation, variance and N_G = 16384 gradients, the sampler's variances and the curvature penalties."""
import math

import equinox as eqx
import jax
import jax.numpy as jnp
import jax.random as jr
import numpy as np
import pytest

from jeans_nbdev.loss import los_log_lik, make_log_lik, make_loss, tabulate_ln_sigma_r2
from jeans_nbdev.numerics import gauss_legendre, interp_linear
from jeans_nbdev.velocity import SigmaR2Net, project, sample_phase_space

G = 4.30091727e-6
B = 0.3  # kpc


def plummer_table(b, n=256):
    ln_r = jnp.linspace(jnp.log(b) - 7.0, jnp.log(b) + 4.6, n)
    return ln_r, jnp.log(3 / (4 * jnp.pi * b**3)) - 2.5 * jnp.log1p(jnp.exp(2 * (ln_r - jnp.log(b))))


def plummer_sampler(b):
    def sample(key, n):
        ku, kd = jr.split(key)
        u = jr.uniform(ku, (n,), minval=1e-12, maxval=1 - 1e-9)
        d = jr.normal(kd, (n, 3))
        return (b / jnp.sqrt(u ** (-2 / 3) - 1))[:, None] * d / jnp.linalg.norm(d, axis=-1, keepdims=True)
    return sample


def s2_plummer(b, amp=1.0, mass=1e8):
    return lambda r: amp * G * mass / (6 * jnp.sqrt(r**2 + b**2))


def beta_om(r):
    return r**2 / (r**2 + 0.45**2)


def mock(seed, n, b=B, amp=1.0, verr=None):
    "numpy Plummer + Gaussian velocities (OM r_a = 0.45 kpc) with an explicit spherical basis"
    rng = np.random.default_rng(seed)
    r = b / np.sqrt(rng.uniform(size=n) ** (-2 / 3) - 1)
    cth, ph = rng.uniform(-1, 1, n), rng.uniform(0, 2 * np.pi, n)
    sth = np.sqrt(1 - cth**2)
    s2r = amp * G * 1e8 / (6 * np.sqrt(r**2 + b**2))
    s2t = (1 - r**2 / (r**2 + 0.45**2)) * s2r
    g = rng.normal(size=(n, 3))
    vz = np.sqrt(s2r) * g[:, 0] * cth - np.sqrt(s2t) * g[:, 1] * sth
    if verr is not None:
        vz = vz + verr * rng.normal(size=n)
    xy = r[:, None] * np.stack([sth * np.cos(ph), sth * np.sin(ph)], -1)
    return jnp.asarray(xy), jnp.asarray(vz)


def _gl01(n):
    "Gauss-Legendre nodes and weights on [0, 1]."
    t, w = gauss_legendre(n)
    return 0.5 * (t + 1.0), 0.5 * w


def test_sigma_r2_net_positive_smooth_and_validates():
    net = SigmaR2Net(jr.PRNGKey(0), scale=0.3, v_scale=10.0)
    r = jnp.geomspace(1e-4, 1e3, 300)
    assert bool(jnp.all(net(r) > 0))
    d2 = jax.jit(jax.vmap(jax.grad(jax.grad(lambda s: net.log_sigma_r2(jnp.exp(s))))))(jnp.log(r))
    assert bool(jnp.all(jnp.isfinite(d2)))  # tanh + softplus: no kinks
    with pytest.raises(ValueError, match="v_scale"):
        SigmaR2Net(jr.PRNGKey(0), scale=0.3, v_scale=0.0)


def test_interp_and_quadrature_exact_cases():
    xp, fp = jnp.array([0.0, 1.0, 3.0]), jnp.array([1.0, 2.0, 0.0])
    np.testing.assert_allclose(np.asarray(interp_linear(jnp.array([-1.0, 4.0]), xp, fp)), [0.0, -1.0], atol=1e-14)
    t, w = _gl01(5)
    np.testing.assert_allclose(np.sum(w * t**9), 0.1, rtol=1e-13)  # degree 2n-1 exact


def test_los_table_sigma_equals_direct_callable():
    ln_r, ln_n = plummer_table(B)
    xy, vz = mock(3, 300, verr=2.0)
    R = jnp.linalg.norm(xy, axis=-1)
    verr = jnp.full(300, 2.0)
    a = los_log_lik(R, ln_r, ln_n, vz, verr, sigma_r2_fn=s2_plummer(B), beta=beta_om)
    b = los_log_lik(R, ln_r, ln_n, vz, verr, ln_sigma_r2_tab=tabulate_ln_sigma_r2(s2_plummer(B), ln_r), beta=beta_om)
    # per-star log-likelihoods agree to 1e-3: linear interpolation of ln sigma_r^2 on the 256-point table (~1e-4 typical)
    np.testing.assert_allclose(np.asarray(a), np.asarray(b), atol=1e-3)


def test_make_loss_gradients_finite_both_kinds():
    xy, vz = mock(6, 400, verr=2.0)
    net = SigmaR2Net(jr.PRNGKey(0), scale=0.3, v_scale=12.0)

    class Dens(eqx.Module):
        b: jax.Array
        def radial_table(self):
            return plummer_table(self.b)
        def sample(self, key, n):
            return plummer_sampler(self.b)(key, n)

    # error-free data: for the kernel in nbs/06_loss.ipynb (N_G = 16384 gradients), for LOS here with verr None
    for kind, verr in (("los", None), ("los", jnp.linspace(1.0, 4.0, 400)), ("kernel", jnp.linspace(1.0, 4.0, 400))):
        f = make_loss(kind, xy, vz, verr, n_model=512, weights=jnp.ones(400))
        g = eqx.filter_jit(eqx.filter_grad(lambda p: f(p[0], p[1], beta_om, p[2], jr.PRNGKey(1))))(
            (Dens(jnp.asarray(B)), net, jnp.asarray(0.3)))
        leaves = jax.tree_util.tree_leaves(eqx.filter(g, eqx.is_inexact_array))
        assert all(bool(jnp.all(jnp.isfinite(x))) for x in leaves), (kind, verr is None)


def test_make_loss_errors():
    with pytest.raises(ValueError, match="kind"):
        make_loss("abc", jnp.zeros((3, 2)))
    with pytest.raises(ValueError, match="vz"):
        make_loss("los", jnp.zeros((3, 2)), vz=jnp.zeros(4))
    with pytest.raises(ValueError, match="key"):
        make_log_lik("kernel", jnp.ones((3, 2)))(plummer_sampler(B))


def _shape_with_bias(bias):
    from jeans_nbdev.velocity import VelocityShape
    s = VelocityShape(jr.PRNGKey(4), scale=B)
    s = eqx.tree_at(lambda m: m.mlp.layers[-1].weight, s, jnp.zeros_like(s.mlp.layers[-1].weight))
    return eqx.tree_at(lambda m: m.mlp.layers[-1].bias, s, jnp.asarray(bias, float))


def test_mixture_gaussian_limit_and_sample_likelihood():
    """A scale mixture with all weight on one component is the Gaussian LOS likelihood (float64 rounding, 1e-9); and
    on stars drawn from a kurtotic mixture model the mixture likelihood beats the Gaussian one with the same sigma."""
    ln_r, ln_n = plummer_table(B)
    s2 = s2_plummer(B)
    ls2 = jnp.log(s2(jnp.exp(ln_r)))
    x, v = sample_phase_space(jr.PRNGKey(7), plummer_sampler(B), s2, beta_om, 10000, _shape_with_bias([-4.0, -0.5, 0.5, -1.0, -4.0]))
    obs = project(x, v)
    R, vz, verr = jnp.linalg.norm(obs[:, :2], axis=-1), obs[:, 2], jnp.full((10000,), 2.0)
    gauss = los_log_lik(R, ln_r, ln_n, vz, verr, ln_sigma_r2_tab=ls2, beta=beta_om)
    limit = los_log_lik(R, ln_r, ln_n, vz, verr, ln_sigma_r2_tab=ls2, beta=beta_om, shape=_shape_with_bias([-60.0, -60.0, 0.0, -60.0, -60.0]))
    np.testing.assert_allclose(np.asarray(limit), np.asarray(gauss), rtol=1e-9, atol=1e-9)
    mix = los_log_lik(R, ln_r, ln_n, vz, verr, ln_sigma_r2_tab=ls2, beta=beta_om, shape=_shape_with_bias([-4.0, -0.5, 0.5, -1.0, -4.0]))
    gain, se = float(jnp.mean(mix - gauss)), float(jnp.std(mix - gauss)) / math.sqrt(10000)
    assert gain > 5 * se, (gain, se)   # the true (mixture) model is preferred by more than 5 standard errors
