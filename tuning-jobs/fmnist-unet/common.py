"""Shared helpers: Fashion-MNIST IDX loading, DDPM schedule, tiny PNG writer."""
import gzip
import struct
import zlib

import numpy as np
import torch

DATA_DIR = "/usr/share/datasets/fashion-mnist"
CLASS_NAMES = ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
               "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"]


def load_idx(path: str) -> np.ndarray:
    with gzip.open(path, "rb") as f:
        data = f.read()
    magic = struct.unpack(">I", data[:4])[0]
    ndim = magic & 0xFF
    dims = struct.unpack(">" + "I" * ndim, data[4:4 + 4 * ndim])
    return np.frombuffer(data, dtype=np.uint8, offset=4 + 4 * ndim).reshape(dims)


def load_fmnist(split: str = "train"):
    """Returns (images uint8 [N,28,28], labels int64 [N]) as torch tensors."""
    prefix = "train" if split == "train" else "t10k"
    x = load_idx(f"{DATA_DIR}/{prefix}-images-idx3-ubyte.gz")
    y = load_idx(f"{DATA_DIR}/{prefix}-labels-idx1-ubyte.gz")
    return torch.from_numpy(x.copy()), torch.from_numpy(y.astype(np.int64))


def to_model_range(x_uint8: torch.Tensor) -> torch.Tensor:
    """uint8 [N,28,28] -> float32 [N,1,28,28] in [-1, 1] (x / 127.5 - 1)."""
    return (x_uint8.float() / 127.5 - 1.0).unsqueeze(1)


def alphas_cumprod(num_steps: int = 1000, beta_start: float = 1e-4, beta_end: float = 0.02) -> torch.Tensor:
    """DDPM linear schedule, computed in float64."""
    betas = torch.linspace(beta_start, beta_end, num_steps, dtype=torch.float64)
    return torch.cumprod(1.0 - betas, dim=0)


def write_png_gray(path: str, img: np.ndarray) -> None:
    """Minimal 8-bit grayscale PNG writer (no PIL needed). img: uint8 [H, W]."""
    img = np.ascontiguousarray(img, dtype=np.uint8)
    h, w = img.shape
    raw = b"".join(b"\x00" + img[r].tobytes() for r in range(h))

    def chunk(tag: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + tag + body + struct.pack(">I", zlib.crc32(tag + body) & 0xFFFFFFFF)

    png = b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 8, 0, 0, 0, 0))
    png += chunk(b"IDAT", zlib.compress(raw, 9)) + chunk(b"IEND", b"")
    with open(path, "wb") as f:
        f.write(png)
