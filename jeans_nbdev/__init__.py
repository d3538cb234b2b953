"""jeans_nbdev: model-independent spherical Jeans analysis with equivariant continuous normalizing flows."""
__version__ = "0.1.0"
from . import numerics   # first: it switches JAX to float64 for the whole package (see 00_numerics)

from .background import (G, Zhao, plummer, nfw, cored, isotropic, ConstantBeta, OsipkovMerritt, BaesVanHese,
                         sigma_r2, surface_density, sigma_los, sigma_los_jeans, jeans_factor, jeans_mass, jeans_density,
                         jeans_density_slope, half_light_radius, effective_radius, wolf_mass, walker_mass)
from .data import (Catalog, CatalogError, from_arrays, from_sky, load_csv, load_gaia_challenge, shipped_path,
                   truth_by_name, truth_from_filename)
from .mocks import sample_mock
from .flow import RadialFlow
from .velocity import SigmaR2Net
from .trainer import TrainConfig, train
from .jeans import FitConfig, ModelConfig, PriorConfig, JeansModel, fit, fit_ensemble
from .inference import ProfileBands, member_profiles, ensemble_profiles, for_inference, plot_bands, j_factor
