"""jeans_nbdev: model-independent spherical Jeans analysis with equivariant continuous normalizing flows.

`import jeans_nbdev` imports nothing heavy: the names below load their module (and JAX, switched to float64 by
`numerics`, which every module imports first) on first use, so `jeans_nbdev --help` and Ctrl-C during start-up
stay quick. Arrays made with `jax.numpy` before the package's first use are float32, as JAX makes them by default.
"""
__version__ = "0.1.0"

_NAMES = {  # public name -> module that defines it
    "background": ("G Zhao plummer nfw cored isotropic ConstantBeta OsipkovMerritt BaesVanHese sigma_r2 surface_density "
                   "sigma_los sigma_los_jeans jeans_factor jeans_mass jeans_density jeans_density_slope "
                   "half_light_radius effective_radius wolf_mass walker_mass"),
    "data": ("Catalog CatalogError CatalogWarning from_arrays from_sky load_csv load_gaia_challenge shipped_path "
             "truth_by_name truth_from_filename check_catalog vet recentre likely_members effective_members Photometry "
             "load_photometry sky_centre"),
    "mocks": "sample_mock", "flow": "RadialFlow", "velocity": "SigmaR2Net", "trainer": "TrainConfig train",
    "jeans": "FitConfig ModelConfig PriorConfig JeansModel fit fit_ensemble",
    "inference": "ProfileBands member_profiles ensemble_profiles for_inference plot_bands j_factor",
    "dwarfs": "contaminate member_posterior",
}
_WHERE = {name: mod for mod, names in _NAMES.items() for name in names.split()}
__all__ = sorted(_WHERE)


def __getattr__(name):
    "The public names, each imported from its module on first use."
    if name not in _WHERE:
        raise AttributeError(f"module 'jeans_nbdev' has no attribute {name!r}")
    import importlib
    value = getattr(importlib.import_module(f"{__name__}.{_WHERE[name]}"), name)
    globals()[name] = value
    return value


def __dir__():
    return sorted(set(globals()) | set(_WHERE))
