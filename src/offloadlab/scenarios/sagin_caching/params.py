"""Parameters of the SAGIN model-caching scenario (seed 001, Section VI-A) and its presets.

Values the paper states are defaults here; values it leaves open are documented choices
(see docs/sagin-caching.md) and every one is configurable.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field, model_validator

from offloadlab.core.config import StrictModel
from offloadlab.core.config import preset_params as core_preset_params

# ImageBind zero-shot performance per modality (Section VI-A): images, videos, infrared, depth, audio, IMU.
IMAGEBIND_ACCURACY = (0.777, 0.500, 0.634, 0.540, 0.669, 0.250)


class LlmType(StrictModel):
    """One LLM architecture: runtime memory s_m, compute per token e_m, context window w_m."""

    name: str = Field(..., min_length=1, description="label of the architecture")
    memory_gb: float = Field(..., gt=0, description="runtime GPU memory s_m (fp16 weights), GB")
    flops_per_token: float = Field(..., gt=0, description="computation per token e_m, FLOPs (about 2 x parameters)")
    context_tokens: int = Field(..., ge=1, description="context window w_m, tokens")


LLAMA_65B = LlmType(name="LLaMA-65B", memory_gb=130.0, flops_per_token=1.3e11, context_tokens=2048)
GPT3_174B = LlmType(name="GPT3-174B", memory_gb=348.0, flops_per_token=3.48e11, context_tokens=8192)


class SaginParams(StrictModel):
    """System, workload, cost and market parameters. SI units unless the name says otherwise."""

    # --- system (Section VI-A) ---
    T: int = Field(100, ge=1, le=100_000, description="time steps of an episode")
    num_bs: int = Field(
        5,
        ge=2,
        le=100,
        description="ground base stations N (the MSB auction, eq. 31, prices a BS "
        "by its competitors' bids, so it needs two)",
    )
    num_services: int = Field(10, ge=1, le=1000, description="LLM agent services I")
    num_models: int = Field(10, ge=1, le=1000, description="reasoning LLMs M (types alternate over llm_types)")
    num_users: int = Field(10, ge=0, le=100_000, description="users per ground BS")
    num_gpus: int = Field(24, ge=1, le=100_000, description="GPUs at each ground BS")
    gpu_memory_gb: float = Field(80.0, gt=0, description="memory of one GPU, GB")
    gpu_flops_per_w: float = Field(810e9, gt=0, description="GPU energy efficiency, FLOP/s per W")
    gpu_power_w: float = Field(300.0, gt=0, description="energy capacity (power) of one GPU, W")
    llm_types: list[LlmType] = Field(
        default_factory=lambda: [LLAMA_65B, GPT3_174B],
        min_length=1,
        description="LLM architectures the reasoning LLMs cycle through (LlmType)",
    )
    arrival_per_user: float = Field(
        0.1,
        ge=0,
        le=100,
        description="Poisson mean per user, service and slot: lambda = users x this (at most 100 requests)",
    )
    vanishing_factor: float = Field(0.6, gt=0, lt=1, description="AoT vanishing factor Delta in (0, 1)")
    vanishing_unit: Literal["example", "token"] = Field(
        "example",
        description="'example': Delta CoT examples vanish per slot (AoT counted in examples); "
        "'token': eq. (19) read literally with AoT in tokens",
    )
    cot_tokens: int = Field(200, ge=1, description="tokens k_i of one CoT example")
    slot_s: float = Field(60.0, gt=0, description="slot duration (energy budget E_n = GPUs x power x slot)")
    # --- radio (eq. 2) ---
    user_power_w: float = Field(0.2, ge=1e-6, le=100, description="user transmit power p_u (1 uW to 100 W)")
    bandwidth_hz: float = Field(20e6, ge=1e3, le=1e10, description="bandwidth B_n of a ground BS (1 kHz to 10 GHz)")
    noise_dbm_per_hz: float = Field(-174.0, ge=-250, le=0, description="noise spectral density")
    cell_radius_m: float = Field(
        500.0, gt=0, le=1e5, description="users uniform in a disc of this radius (at most 100 km)"
    )
    min_distance_m: float = Field(20.0, gt=0, description="closest user distance")
    interference: Literal["all-users", "none"] = Field(
        "all-users", description="'all-users': eq. (2), every other user of the BS interferes; 'none': orthogonal"
    )
    data_mb_min: float = Field(100.0, gt=0, le=1e6, description="smallest input size d_i, MB (at most 1 TB)")
    data_mb_max: float = Field(200.0, gt=0, le=1e6, description="largest input size d_i, MB (at most 1 TB)")
    satellite_bandwidth_hz: float = Field(20e6, gt=0, le=1e10, description="bandwidth B_0 of the satellite access link")
    satellite_bandwidth: Literal["per-area", "shared"] = Field(
        "per-area",
        description="reading of eq. (2)'s U_0: 'per-area': the users of each BS area share their own B_0 and "
        "interfere among themselves; 'shared': one B_0 for every user of every area, all interfering",
    )
    satellite_carrier_hz: float = Field(
        2e9, gt=0, le=1e12, description="carrier of the satellite access link (S band, 3GPP TR 38.821 LEO-600 set 1)"
    )
    satellite_antenna_gain_db: float = Field(
        30.0,
        ge=-50,
        le=100,
        description="user + satellite antenna gain (0 dBi handheld + 30 dBi satellite, 3GPP TR 38.821)",
    )
    satellite_fading: Literal["light", "average", "heavy"] = Field(
        "average", description="shadowed-Rician shadowing of the satellite access link (Abdi et al. 2003)"
    )
    ground_backhaul_bps: float = Field(
        1e9, ge=1e3, le=1e15, description="BS-to-cloud core rate r_n^C (1 kbit/s to 1 Pbit/s)"
    )
    satellite_backhaul_bps: float = Field(2e9, gt=0, description="satellite backbone rate r_0^C")
    # --- costs (eqs. 21-26; access and cloud prices from Section VI-A) ---
    # prices are bounded by 1e3 (like satellite_access_cost): far above any calibrated value, and small enough
    # that a slot's total cost stays finite
    switch_cost: float = Field(0.05, ge=0, le=1e3, description="lambda of eq. (21), per model load")
    edge_access_cost_ground: float = Field(1e-4, ge=0, le=1e3, description="price per second of ground transmission")
    edge_access_cost_satellite: float = Field(
        5e-3, ge=0, le=1e3, description="price per second of satellite transmission"
    )
    satellite_access_cost: float = Field(
        1e-4,
        ge=0,
        le=1e3,
        description="price per second of user airtime on the "
        "satellite access link (default: the ground's; 0.005 prices it at the "
        "satellite's edge access cost, see docs)",
    )
    cloud_access_cost_ground: float = Field(
        0.04, ge=0, le=1e3, description="l_0 per request sent to the cloud by the core"
    )
    cloud_access_cost_satellite: float = Field(
        0.025, ge=0, le=1e3, description="l_0 per request relayed by the satellite"
    )
    compute_cost: float = Field(1.0, ge=0, description="price per second of edge GPU time (eq. 23)")
    accuracy_weight: float = Field(1.0, ge=0, description="weight of the accuracy cost (eq. 24)")
    sigma_min: float = Field(0.25, gt=0, lt=0.5, description="smallest ambiguity bound sigma (Assumption 2)")
    sigma_max: float = Field(
        0.45,
        gt=0,
        lt=0.5,
        description="largest ambiguity bound sigma; beta = sigma/(1-sigma) "
        "(sigma = 0 would make the CoT gain log(1/beta) infinite)",
    )
    # --- satellite coverage (eq. 1) ---
    altitude_m: float = Field(5.5e5, gt=0, le=1e8, description="LEO altitude (at most 1e8 m: well beyond GEO)")
    earth_radius_m: float = Field(
        6.371e6, gt=0, le=1e8, description="Earth radius (at most 1e8 m: larger than any planet)"
    )
    satellite_speed_m_s: float = Field(7.6e3, gt=0, description="satellite ground-track speed v^S")
    min_elevation_deg: float = Field(10.0, ge=0, lt=90, description="lowest usable elevation angle")
    # --- market (Section IV-D, V) ---
    cloud_examples: float = Field(3.0, ge=0, description="CoT examples held by the cloud model (satellite match)")
    match_noise: float = Field(0.5, ge=0, description="lognormal sigma of idiosyncratic match quality")
    action_levels: int = Field(10, ge=1, le=1000, description="|A|: rho = 10^(a/|A|), a = 0..|A|-1")
    market_train_episodes: int = Field(10, ge=1, le=10_000, description="episodes of bids used to learn x_0 and rho")

    def estimate_bytes(self, batch: int = 1) -> int:
        """Peak bytes of an episode while ``batch`` decisions are replayed (core.resources)."""
        # Measured with tracemalloc (within 10 %): the [T, N, I] requests, the simulated trajectory and its
        # cost terms about 160 bytes per slot, BS and service; the per-user gains and rates [N, U] about
        # 48 bytes a user; decisions are replayed one after the other, each holding its [T] rho.
        users = self.num_bs * max(self.num_users, 1)
        return 160 * self.T * self.num_bs * self.num_services + 48 * users + batch * 16 * self.T

    @model_validator(mode="after")
    def _ordered(self) -> SaginParams:
        if self.data_mb_max < self.data_mb_min:
            raise ValueError(f"data_mb_max ({self.data_mb_max}) must be >= data_mb_min ({self.data_mb_min})")
        if self.sigma_max < self.sigma_min:
            raise ValueError(f"sigma_max ({self.sigma_max}) must be >= sigma_min ({self.sigma_min})")
        if self.cell_radius_m <= self.min_distance_m:
            raise ValueError(f"cell_radius_m ({self.cell_radius_m}) must exceed min_distance_m ({self.min_distance_m})")
        return self

    @property
    def arrival_rate(self) -> float:
        """Poisson mean lambda of requests per (BS, service, slot): users / 10 by default."""
        return self.num_users * self.arrival_per_user

    @property
    def gpu_capacity_gb(self) -> float:
        """GPU memory G_n of one BS."""
        return self.num_gpus * self.gpu_memory_gb

    @property
    def compute_flops(self) -> float:
        """Computing capacity f_n of one BS, FLOP/s."""
        return self.num_gpus * self.gpu_power_w * self.gpu_flops_per_w

    @property
    def energy_budget_j(self) -> float:
        """Energy capacity E_n of one BS per slot, J."""
        return self.num_gpus * self.gpu_power_w * self.slot_s


PRESETS: dict[str, dict] = {
    # Section VI-A read literally: every cost term with weight 1. The accuracy cost (1-alpha)/(kappa log 1/beta)
    # is then several times the cloud price, so edge execution rarely pays.
    "paper": {},
    # Calibrated: the accuracy cost is weighted 0.05, so that serving at the edge (about 0.03 per request)
    # competes with the cloud through the ground core (0.04) and the satellite (about 0.028).
    "default": {"accuracy_weight": 0.05},
}


def preset_params(preset: str, **overrides) -> SaginParams:
    """Parameters of a named preset with overrides applied and validated."""
    return core_preset_params(SaginParams, PRESETS, preset, overrides)
