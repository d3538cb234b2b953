"""Tests of jeans_nbdev.jeans that the notebook 08_jeans does not run: a whole fit resumed from its checkpoints."""
import os

import equinox as eqx
import jax
import numpy as np


def _same(a, b):
    la, lb = jax.tree.leaves(a), jax.tree.leaves(b)
    return len(la) == len(lb) and all(np.array_equal(np.asarray(x), np.asarray(y), equal_nan=True)
                                      for x, y in zip(la, lb))


def test_fit_checkpoint_resume(tmp_path):
    """fit() on 200 stars with a tiny model: a second call with the same checkpoint_dir resumes every stage from its
    (complete) checkpoint and returns the identical model; the anisotropy is never changed by training."""
    from jeans_nbdev.background import OsipkovMerritt
    from jeans_nbdev.data import load_gaia_challenge, shipped_path
    from jeans_nbdev.jeans import FitConfig, fit
    cat = load_gaia_challenge(shipped_path("PlumCuspOm", 1000, err=True)).resample(np.arange(200))
    kw = dict(key=jax.random.PRNGKey(0), config=FitConfig().set(steps=(3, 3, 2), width=8, n_table=32), quiet=True,
              checkpoint_dir=str(tmp_path))
    a = fit(cat, OsipkovMerritt(0.1), **kw)
    assert sorted(os.listdir(tmp_path)) == ["joint", "positions", "velocities"]
    b = fit(cat, OsipkovMerritt(0.1), **kw)
    assert _same(eqx.filter(a.model, eqx.is_array), eqx.filter(b.model, eqx.is_array))
    assert float(a.model.beta.ra) == 0.1 and all(r.steps_done == s for r, s in zip(a.stages.values(), (3, 3, 2)))
