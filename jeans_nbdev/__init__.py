"""jeans_nbdev: model-independent spherical Jeans analysis with equivariant continuous normalizing flows."""
__version__ = "0.1.0"
import jax as _jax

# Jeans post-processing differentiates fitted profiles twice: it needs float64 everywhere.
_jax.config.update("jax_enable_x64", True)
