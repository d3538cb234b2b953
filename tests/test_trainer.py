"""The trainer on two devices: with XLA forced to split the CPU into 2 devices (set before JAX starts, so in a
subprocess), the members of an ensemble are sharded over both and the results equal the one-by-one path."""
import os
import subprocess
import sys
import textwrap

SCRIPT = textwrap.dedent('''
    import jax, jax.numpy as jnp, numpy as np, equinox as eqx
    from jeans_nbdev.trainer import TrainConfig, member_sharding, train_ensemble
    assert len(jax.local_devices()) == 2, jax.local_devices()
    assert member_sharding(4).mesh.size == 2 and member_sharding(3) is None   # 3 members: no even split, one device

    class Gauss(eqx.Module):
        mu: jax.Array
        log_sigma: jax.Array
        def __init__(self, key):
            self.mu, self.log_sigma = jax.random.normal(key, ()), jnp.zeros(())

    def nll(m, batch, key):
        z = (batch["x"] - m.mu) / jnp.exp(m.log_sigma)
        return jnp.mean(0.5 * z**2 + m.log_sigma), {}

    data = {"x": 2.0 + 1.5 * jax.random.normal(jax.random.PRNGKey(1), (2000,))}
    cfg = TrainConfig(steps=200, lr=0.05, warmup=10, val_fraction=0.1, eval_every=20, quiet=True)
    kw = dict(key=jax.random.PRNGKey(3), members=4, bootstrap=True, config=cfg)
    sharded = train_ensemble(Gauss, nll, data, **kw)
    one_by_one = train_ensemble(Gauss, nll, data, vectorize=False, **kw)
    mu_s = np.array([float(r.model.mu) for r in sharded.members])
    mu_1 = np.array([float(r.model.mu) for r in one_by_one.members])
    np.testing.assert_allclose(mu_s, mu_1, rtol=1e-9)   # same per-member arithmetic in float64; only placement differs
    assert len(set(mu_s)) == 4                           # four different members, not one copied
    # the results come back to the default device, so they mix with anything else
    assert all(r.model.mu.devices() == {jax.local_devices()[0]} for r in sharded.members)
    print("ok")
''')


def test_members_sharded_over_two_cpu_devices_equal_one_by_one():
    env = dict(os.environ, XLA_FLAGS="--xla_force_host_platform_device_count=2", JAX_PLATFORMS="cpu")
    p = subprocess.run([sys.executable, "-c", SCRIPT], capture_output=True, text=True, env=env, timeout=600)
    assert p.returncode == 0 and p.stdout.strip().endswith("ok"), p.stderr[-3000:]
