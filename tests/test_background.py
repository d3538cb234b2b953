"""Checks of jeans_nbdev.background that nbs/01_background.ipynb does not make: the Zhao mass of a non-special
(alpha, beta, gamma) against scipy, the error messages of bad parameters, the density round trip under Baes-van Hese
anisotropy, the one-pass sigma_los against the nested form under Osipkov-Merritt, galpy's sigmalos (galpy is a dev
requirement), the gradient of r_1/2, the estimators' R_e = median(R) and shape error, autodiff and vmap through the
Jeans solution, and the normalised tracer's exact total. The notebook holds the closed-form masses and potentials, the
Plummer sigma_r^2, Sigma and sigma_los^2, the mass round trip and the Gaia Challenge table."""
import numpy as np
import pytest
import jax
import jax.numpy as jnp
import equinox as eqx

from jeans_nbdev.background import (
    G, Zhao, plummer, nfw, cored, ConstantBeta, OsipkovMerritt, BaesVanHese, isotropic,
    sigma_r2, sigma_los, sigma_los2_jeans, sigma_los_jeans, jeans_density, jeans_density_slope, half_light_radius,
    wolf_mass, walker_mass,
)


def test_zhao_mass_general_vs_scipy():
    from scipy.integrate import quad
    tol = 1e-8  # issue spec for the general Zhao mass, here for a non-special (alpha, beta, gamma)
    z = Zhao(3.0, 0.4, 0.7, 4.3, 0.6)
    ref = [quad(lambda s: 4 * np.pi * s**2 * float(z.density(s)), 0, r, epsabs=0, epsrel=1e-12, limit=200)[0]
           for r in [1e-3, 0.1, 1.0, 30.0]]
    np.testing.assert_allclose(np.asarray(z.mass(np.array([1e-3, 0.1, 1.0, 30.0]))), ref, rtol=tol)


def test_zhao_bad_input():
    with pytest.raises(ValueError, match="gamma"):
        Zhao(1.0, 1.0, 1.0, 3.0, 3.5)
    with pytest.raises(ValueError, match="rs"):
        nfw(1.0, -1.0)
    with pytest.raises(ValueError, match="ra"):
        OsipkovMerritt(0.0)
    with pytest.raises(ValueError, match="beta0"):
        ConstantBeta(1.5)


def test_round_trip_density_slope():
    tol_rho, tol_slope = 1e-5, 1e-4  # measured ~2e-7 / ~3e-6 (second and third derivatives of the quadrature)
    tr, halo, bm = Zhao(1.0, 0.25, 2.0, 5.0, 0.1).normalised(), nfw(6.4e7, 1.0), BaesVanHese(-0.2, 0.5, 0.3, 1.5)
    r = np.geomspace(1e-2, 10.0, 21)
    s2 = lambda x: sigma_r2(x, tr, halo, bm)
    rho, slope = jax.jit(lambda r: (jeans_density(r, tr, s2, bm), jeans_density_slope(r, tr, s2, bm)))(r)
    np.testing.assert_allclose(np.asarray(rho), np.asarray(halo.density(r)), rtol=tol_rho)
    np.testing.assert_allclose(np.asarray(slope), np.asarray(halo.log_slope(r)), rtol=tol_slope)


def test_nested_equals_onepass():
    tol = 1e-6  # two independent quadratures of the same double integral, each converged to ~1e-8
    tr, halo, bm = Zhao(1.0, 0.1, 2.0, 5.0, 0.1).normalised(), nfw(6.4e7, 1.0), OsipkovMerritt(0.1)
    R = np.geomspace(1e-3, 1e2, 25)
    nested = jax.jit(lambda R: sigma_los(R, tr, lambda r: sigma_r2(r, tr, halo, bm), bm))(R)
    np.testing.assert_allclose(np.asarray(sigma_los_jeans(R, tr, halo, bm)), np.asarray(nested), rtol=tol)


@pytest.mark.parametrize("om", [False, True], ids=["iso", "OM"])
def test_galpy_sigmalos(om):
    import galpy.df.jeans as galpy_jeans        # a dev requirement: missing galpy fails, never skips
    from galpy.potential import NFWPotential
    tol = 1e-3  # issue spec
    rho0, rs, b, ra = 6.4e7, 1.0, 0.25, 0.25
    pot = NFWPotential(amp=4 * np.pi * rho0 * rs**3 * G, a=rs)  # galpy natural units: G = 1, kpc, km/s
    nu = lambda r: (1 + (r / b) ** 2) ** -2.5
    beta_g = (lambda r: r**2 / (r**2 + ra**2)) if om else 0.0
    bm = OsipkovMerritt(ra) if om else isotropic()
    R = np.array([0.02, 0.3, 2.0])
    # rescale the tracer by 1/nu(R): quad's absolute tolerance would otherwise truncate the small integrands
    ref = [galpy_jeans.sigmalos(pot, x, dens=lambda r, x=x: nu(r) / nu(x), beta=beta_g) for x in R]
    np.testing.assert_allclose(np.asarray(sigma_los_jeans(R, plummer(1.0, b), nfw(rho0, rs), bm)), ref, rtol=tol)


def test_half_light_gradient():
    tol = 1e-6  # Newton step carries the implicit-function derivative: d r_1/2 / d b = 1/sqrt(2^(2/3)-1) for Plummer
    g = jax.jit(jax.grad(lambda b: half_light_radius(plummer(1.0, b))))(0.3)
    np.testing.assert_allclose(float(g), 1 / np.sqrt(2 ** (2 / 3) - 1), rtol=tol)


def test_estimators():
    key = jax.random.PRNGKey(1)
    k1, k2 = jax.random.split(key)
    n, sig, err = 40000, 7.0, 3.0
    R = jnp.linspace(0.01, 1.0, n)
    vz = jnp.sqrt(sig**2 + err**2) * jax.random.normal(k1, (n,))
    tol = 5 * np.sqrt(2 / n) * (1 + (err / sig) ** 2)  # 5 sigma of a sample variance
    w = wolf_mass(R, vz, verr=jnp.full(n, err))
    np.testing.assert_allclose(float(w["sigma_los2"]), sig**2, rtol=tol)
    np.testing.assert_allclose(float(w["R_e"]), float(jnp.median(R)), rtol=1e-12)
    np.testing.assert_allclose(float(w["mass"]), 4 * float(w["sigma_los2"]) * float(w["R_e"]) / G, rtol=1e-12)
    k = walker_mass(R, vz, verr=err)
    np.testing.assert_allclose(float(k["mass"]), 2.5 * float(k["sigma_los2"]) * float(k["R_e"]) / G, rtol=1e-12)
    with pytest.raises(ValueError, match="shapes"):
        wolf_mass(R[:10], vz[:9])


def test_differentiable_and_vmappable():
    tol = 1e-8  # sigma_los^2 is linear in the halo normalisation: d ln sigma_los^2 / d ln rho0 = 1 exactly
    tr, bm = Zhao(1.0, 0.25, 2.0, 5.0, 0.1).normalised(), OsipkovMerritt(0.25)
    R = jnp.array([0.05, 0.3, 1.5])
    f = lambda lr0: jnp.log(sigma_los2_jeans(R, tr, nfw(jnp.exp(lr0), 1.0), bm))
    np.testing.assert_allclose(np.asarray(jax.jit(jax.jacfwd(f))(jnp.log(6.4e7))), 1.0, rtol=tol)
    # vmap over a batch of halos (Zhao fields as arrays)
    halos = Zhao(jnp.array([6.4e7, 4e8]), jnp.array([1.0, 1.0]), 1.0, 3.0, jnp.array([1.0, 0.0]))
    m = eqx.filter_vmap(lambda h: h.mass(jnp.array([0.1, 1.0])))(halos)
    np.testing.assert_allclose(np.asarray(m), [np.asarray(nfw(6.4e7, 1.0).mass(jnp.array([0.1, 1.0]))),
                                               np.asarray(cored(4e8, 1.0).mass(jnp.array([0.1, 1.0])))], rtol=1e-12)


def test_normalised_needs_finite_total():
    with pytest.raises(ValueError, match="beta"):
        nfw(6.4e7, 1.0).normalised()
    np.testing.assert_allclose(float(plummer(5.0, 0.2).normalised().total_mass()), 1.0, rtol=1e-12)  # exact Beta function
