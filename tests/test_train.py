"""Unit tests of jeans_nbdev.train on a Gaussian maximum-likelihood toy (known optimum: sample mean / std)."""
import os

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import pytest

from jeans_nbdev.train import (TrainConfig, TrainingDivergedError, read_checkpoint, train, train_ensemble)


class Gauss(eqx.Module):
    mu: jax.Array
    log_sigma: jax.Array

    def __init__(self, key=None):
        self.mu = jnp.zeros(()) if key is None else 0.1 * jax.random.normal(key, ())
        self.log_sigma = jnp.zeros(())


def nll(model, batch, key):
    z = (batch["x"] - model.mu) / jnp.exp(model.log_sigma)
    val = jnp.mean(0.5 * z**2 + model.log_sigma)
    return val, {"nll": val}


X = 2.0 + 1.5 * jax.random.normal(jax.random.PRNGKey(1), (1000,))
DATA = {"x": X}
CFG = TrainConfig(steps=300, lr=0.1, warmup=10, final_lr_frac=1e-3, quiet=True)


def _same(a, b):
    la, lb = jax.tree.leaves(a), jax.tree.leaves(b)
    return len(la) == len(lb) and all(np.array_equal(np.asarray(x), np.asarray(y), equal_nan=True)
                                      for x, y in zip(la, lb))


def test_mle():
    res = train(Gauss(), nll, DATA, key=jax.random.PRNGKey(0), config=CFG)
    # full-batch Adam with a 1e-3 cosine floor converges far below 1e-4 relative on this smooth problem
    np.testing.assert_allclose([float(res.model.mu), float(jnp.exp(res.model.log_sigma))],
                               [float(X.mean()), float(X.std())], rtol=1e-4)


def test_resume_bit_identical(tmp_path):
    kw = dict(key=jax.random.PRNGKey(7), config=CFG, steps=120, batch_size=64, val_fraction=0.2, eval_every=15,
              checkpoint_every=30)
    full = train(Gauss(), nll, DATA, checkpoint_dir=str(tmp_path / "a"), **kw)
    cut = train(Gauss(), nll, DATA, checkpoint_dir=str(tmp_path / "b"), callback=lambda s, i: s == 45, **kw)
    assert cut.steps_done == 45 and read_checkpoint(cut.checkpoint)[0]["step"] == 45
    res = train(Gauss(), nll, DATA, checkpoint_dir=str(tmp_path / "b"), **kw)
    # resumed run must equal the uninterrupted one bit for bit (pure (key, step) randomness, exact state on disk)
    assert _same(full.final_model, res.final_model) and _same(full.model, res.model)
    assert _same(full.history, res.history)
    assert [f for f in os.listdir(tmp_path / "b") if f.endswith(".tmp")] == []   # atomic writes leave no temp files


def test_diverged():
    def trap(model, batch, key):
        v, aux = nll(model, batch, key)
        t = 1e-3 * jnp.log(2.5 - model.mu)
        return v + t, dict(aux, trap=t)
    with pytest.raises(TrainingDivergedError) as ei:
        train(Gauss(), trap, {"x": X + 1.0}, key=jax.random.PRNGKey(0), config=CFG)
    assert ei.value.terms == ["trap"] and np.isfinite(ei.value.last_finite_loss) and ei.value.step > 0


def test_bad_data():
    with pytest.raises(ValueError, match="leading"):
        train(Gauss(), nll, {"x": X, "y": X[:10]}, key=jax.random.PRNGKey(0), config=CFG)


def test_ensemble_modes_agree():
    kw = dict(key=jax.random.PRNGKey(3), n_members=3, bootstrap_stars=True, config=CFG, steps=100)
    a = train_ensemble(Gauss, nll, DATA, vectorize=True, **kw)
    b = train_ensemble(Gauss, nll, DATA, vectorize=False, **kw)
    # the same per-member arithmetic; vmap may only reorder reductions
    np.testing.assert_allclose(np.asarray(a.models.mu), np.asarray(b.models.mu), rtol=1e-9)
    assert len(set(np.asarray(a.models.mu).tolist())) == 3   # members differ (own seeds and resamples)


def test_fit_checkpoint_resume(tmp_path):
    """fit() on 200 stars with a tiny model: a second call with the same checkpoint_dir resumes every stage from its
    (complete) checkpoint and returns the identical model; the anisotropy is never changed by training."""
    from jeans_nbdev.background import OsipkovMerritt
    from jeans_nbdev.data import load_gaia_challenge, shipped_path
    from jeans_nbdev.train import fit
    cat = load_gaia_challenge(shipped_path("PlumCuspOm", 1000, err=True)).resample(np.arange(200))
    kw = dict(key=jax.random.PRNGKey(0), steps=(3, 3, 2), width=8, n_table=32, quiet=True,
              checkpoint_dir=str(tmp_path))
    a = fit(cat, OsipkovMerritt(0.1), **kw)
    assert sorted(os.listdir(tmp_path)) == ["joint", "positions", "velocities"]
    b = fit(cat, OsipkovMerritt(0.1), **kw)
    assert _same(eqx.filter(a.model, eqx.is_array), eqx.filter(b.model, eqx.is_array))
    assert float(a.model.beta.ra) == 0.1 and all(r.steps_done == s for r, s in zip(a.stages.values(), (3, 3, 2)))


def test_compile_caches_cleared_near_the_memory_map_limit(monkeypatch):
    # fit calls the guard first; above the threshold it empties JAX's caches (a jitted function recompiles), below not
    import jeans_nbdev.train as T
    f = jax.jit(lambda x: x + 1.0)
    f(1.0)
    assert not T._release_compiled_if_crowded(1.0) and f._cache_size() == 1
    assert T._release_compiled_if_crowded(0.0) and f._cache_size() == 0
    # without /proc (macOS, Windows) it does nothing
    monkeypatch.setattr(T, "_proc_int", lambda *a, **k: None)
    f(1.0)
    assert not T._release_compiled_if_crowded(0.0) and f._cache_size() == 1
