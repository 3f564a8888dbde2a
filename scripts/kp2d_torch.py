#!/usr/bin/env python3
"""kp2d_torch.py: our PyTorch twin of KP2D (KeyPointNet + IO-Net + the KP2D loss + Adam), the peer that
`scripts/bench-vs-torch` times against kp2d-tui in the same run.

Written for this project from the facts of the official code (TRI-ML/KP2D: kp2d/networks/keypoint_net.py,
kp2d/networks/inlier_net.py, kp2d/models/KeypointNetwithIOLoss.py) and of our Swift engine
(Sources/KP2D/*.swift); the state_dict keys are the official ones, so the reference fixtures and converted
official checkpoints load as they are. Differences from the official module, all without effect on the
numbers: the channel widths are parameters (paper = the official ones), nothing is moved to CUDA, the
unused tensors of the official forward (nearest-mode target_uv_resampled, the IO soft-min) are not computed,
and a loss term that is undefined for a batch (empty mask) is left out of the total as kp2d-tui does
(officially it is NaN).

Commands
    python3 scripts/kp2d_torch.py verify [FIXTURES_DIR]
        Runs the twin on the reference fixtures keypointnet.train, keypointnet.eval, keypointnet.full_eval and
        kp2d.train_step (default dir: $KP2D_FIXTURES, else ../shared/fixtures next to the repository) and
        compares every stored out.*/grad.*/after.* tensor with the file's own tolerance rules (fixture
        README section 1.4). One line per tensor, then "N passed, N failed"; exit status 1 on any failure.
    python3 scripts/kp2d_torch.py bench [--preset paper|fast] [--repeats N] [--warmup N] [--threads N] [--json]
        Times the paper-preset training step at batch 8 and batch 2 (240x320) and eval-mode inference per
        image at 240x320 and 480x640, with the same method as `kp2d-tui bench --only trainstep,inference`
        (see TIMING below), and reports the process peak RSS after the batch-8 step.

TIMING (identical to kp2d-tui bench): training step: a fresh model per batch size, --warmup untimed steps,
then min(--repeats, 3) timed steps, median; one step = zero grads, normalise both images, two KeypointNet
forwards, the loss with IO-Net, backward, Adam. Inference: one untimed warm-up, then min(--repeats, 5) timed
eval-mode forwards (no grad, input already normalised, descriptors sampled and L2-normalised), median.
torch.set_num_threads(--threads, default 2).

Install (once; the tool itself never needs Python):
    python3 -m venv .venv-torch && .venv-torch/bin/pip install torch==2.13.0 numpy safetensors
then run with .venv-torch/bin/python (scripts/bench-vs-torch finds it there). Only torch is required here.
"""

import argparse
import json
import math
import os
import resource
import struct
import sys
import time

try:
    import torch
    import torch.nn as nn
    import torch.nn.functional as F
except ImportError:
    sys.stderr.write("kp2d_torch.py: PyTorch is not installed for %s; install it with "
                     "`python3 -m venv .venv-torch && .venv-torch/bin/pip install torch==2.13.0 numpy safetensors` "
                     "and run .venv-torch/bin/python scripts/kp2d_torch.py\n" % sys.executable)
    sys.exit(3)

# (c1, c2, c3, c4, c5, d1, descriptor) as in Sources/KP2D/KeypointNetConfig.swift.
PRESETS = {
    "paper": (32, 64, 128, 256, 256, 512, 256),
    "fast": (8, 16, 32, 64, 64, 128, 64),
}

CELL = 8
LEAKY_SLOPE = 0.01
ASSOCIATION_PX = 4.0       # valid association (L_loc, L_usp) and IO inlier radius
RELAX_FIELD = 4.0          # +-box around an anchor's true position with no negatives
TRIPLET_MARGIN = 0.2
DESCRIPTOR_MIN_POINTS = 20
IO_POINTS = 300
IO_MIN_INLIERS = 10


# ---------------------------------------------------------------------------------------------------------
# Networks

def conv_bn(cin, cout, bn_channels=None):
    """Official block: Sequential(Conv2d 3x3 no bias, BatchNorm2d(momentum 0.1)); keys 0.weight, 1.*"""
    return nn.Sequential(nn.Conv2d(cin, cout, kernel_size=3, stride=1, padding=1, bias=False),
                         nn.BatchNorm2d(bn_channels or cout, momentum=0.1))


class KeypointNet(nn.Module):
    """KeyPointNet with configurable widths; layer names, keys and forward as the official class.

    Returns score (B,1,Hc,Wc) with the outer ring 0, coord (B,2,Hc,Wc) in pixels (ch0 = x), and feat: the
    dense descriptor map (B,D,H/4,W/4) in training mode, the map sampled at coord and L2-normalised
    (B,D,Hc,Wc) in eval mode."""

    def __init__(self, widths=PRESETS["paper"], use_color=True, do_upsample=True, with_drop=True, do_cross=True):
        super().__init__()
        c1, c2, c3, c4, c5, d1, desc = widths
        if c4 != c5 or (do_upsample and (d1 % 4 != 0 or d1 // 4 + c3 != c4)):
            raise ValueError("KeypointNet widths %s cannot build the network (need c4 == c5 and d1/4 + c3 == c4)"
                             % (widths,))
        self.widths = tuple(widths)
        self.do_upsample = do_upsample
        self.cross_ratio = 2.0 if do_cross else 1.0
        c0 = 3 if use_color else 1
        self.conv1a = conv_bn(c0, c1)
        self.conv1b = conv_bn(c1, c1)
        self.conv2a = conv_bn(c1, c2)
        self.conv2b = conv_bn(c2, c2)
        self.conv3a = conv_bn(c2, c3)
        self.conv3b = conv_bn(c3, c3)
        self.conv4a = conv_bn(c3, c4)
        self.conv4b = conv_bn(c4, c4)
        self.convDa = conv_bn(c4, c5, bn_channels=c4)
        self.convDb = nn.Conv2d(c5, 1, kernel_size=3, stride=1, padding=1)
        self.convPa = conv_bn(c4, c5, bn_channels=c4)
        self.convPb = nn.Conv2d(c5, 2, kernel_size=3, stride=1, padding=1)
        self.convFa = conv_bn(c4, c5, bn_channels=c4)
        self.convFb = conv_bn(c5, d1)
        self.convFaa = conv_bn(c4, c5)
        self.convFbb = nn.Conv2d(c5, desc, kernel_size=3, stride=1, padding=1)
        self.dropout = nn.Dropout2d(0.2) if with_drop else None
        self.pool = nn.MaxPool2d(kernel_size=2, stride=2)
        self.upsample = nn.PixelShuffle(upscale_factor=2)

    def _act(self, x):
        return F.leaky_relu(x, LEAKY_SLOPE, inplace=True)   # official: LeakyReLU(inplace=True)

    def _drop(self, x):
        return self.dropout(x) if self.dropout is not None else x

    def forward(self, x):
        _, _, H, W = x.shape
        a = self._act
        x = a(self.conv1a(x))
        x = self._drop(a(self.conv1b(x)))
        x = self.pool(x)
        x = a(self.conv2a(x))
        x = self._drop(a(self.conv2b(x)))
        x = self.pool(x)
        x = a(self.conv3a(x))
        skip = self._drop(a(self.conv3b(x)))
        x = self.pool(skip)
        x = a(self.conv4a(x))
        x = self._drop(a(self.conv4b(x)))
        B, _, Hc, Wc = x.shape

        score = self.convDb(self._drop(a(self.convDa(x)))).sigmoid()
        ring = torch.ones(B, 1, Hc, Wc, dtype=score.dtype, device=score.device)
        ring[:, :, 0] = 0
        ring[:, :, Hc - 1] = 0
        ring[:, :, :, 0] = 0
        ring[:, :, :, Wc - 1] = 0
        score = score * ring

        shift = self.convPb(self._drop(a(self.convPa(x)))).tanh()
        step = (CELL - 1) / 2.0
        xs = torch.arange(Wc, dtype=shift.dtype, device=shift.device).mul(CELL).add(step).view(1, Wc).expand(Hc, Wc)
        ys = torch.arange(Hc, dtype=shift.dtype, device=shift.device).mul(CELL).add(step).view(Hc, 1).expand(Hc, Wc)
        base = torch.stack([xs, ys], dim=0).unsqueeze(0)                     # (1,2,Hc,Wc)
        coord_un = base + shift * (self.cross_ratio * step)
        coord = torch.stack([coord_un[:, 0].clamp(0, W - 1), coord_un[:, 1].clamp(0, H - 1)], dim=1)

        feat = self._drop(a(self.convFa(x)))
        if self.do_upsample:
            feat = torch.cat([self.upsample(self.convFb(feat)), skip], dim=1)
        feat = self.convFbb(a(self.convFaa(feat)))

        if not self.training:
            grid = pixels_to_grid(coord, H, W)                              # (B,Hc,Wc,2)
            feat = F.grid_sample(feat, grid, align_corners=True)
            feat = feat / torch.norm(feat, p=2, dim=1, keepdim=True)
        return score, coord, feat


class InlierNet(nn.Module):
    """IO-Net, the official InlierNet(blocks): 1x1 convs over point pairs (B,5,N,1) -> (B,1,N,1)."""

    def __init__(self, blocks=4):
        super().__init__()
        self.p_in = nn.Sequential(nn.Conv2d(5, 128, 1, 1, 0, bias=False), nn.BatchNorm2d(128, momentum=0.9))
        self.blocks = blocks
        for i in range(blocks):   # keys <i>s0 .. <i>s3 as the official add_module names
            self.add_module("%ds0" % i, nn.Conv2d(128, 128, 1, 1, 0))
            self.add_module("%ds1" % i, nn.BatchNorm2d(128, momentum=0.1))
            self.add_module("%ds2" % i, nn.Conv2d(128, 128, 1, 1, 0))
            self.add_module("%ds3" % i, nn.BatchNorm2d(128, momentum=0.1))
        self.p_out = nn.Conv2d(128, 1, 1, 1, 0)

    def forward(self, x):
        x = F.relu(self.p_in(x))
        for i in range(self.blocks):
            m = lambda s: getattr(self, "%d%s" % (i, s))
            res = x
            x = F.relu(m("s1")(F.instance_norm(m("s0")(x))))
            x = F.relu(m("s3")(F.instance_norm(m("s2")(x))))
            x = x + res
        return self.p_out(x)


class KP2DModel(nn.Module):
    """keypoint_net + io_net, keys as KeypointNetwithIOLoss.state_dict()."""

    def __init__(self, widths=PRESETS["paper"], with_drop=True, do_cross=True, do_upsample=True, use_color=True):
        super().__init__()
        self.keypoint_net = KeypointNet(widths, use_color=use_color, do_upsample=do_upsample,
                                        with_drop=with_drop, do_cross=do_cross)
        self.io_net = InlierNet(blocks=4)

    def optimizer(self, lr=1e-3):
        """The official two Adam parameter groups (KeypointNet, InlierNet)."""
        return torch.optim.Adam([{"name": "KeypointNet", "params": list(self.keypoint_net.parameters()), "lr": lr},
                                 {"name": "InlierNet", "params": list(self.io_net.parameters()), "lr": lr}], lr=lr)


# ---------------------------------------------------------------------------------------------------------
# Geometry helpers

def normalize_images(images):
    """Official to_color_normalized: (image - 0.5) * 0.225 (a product, not a division)."""
    return (images - 0.5) * 0.225


def pixels_to_grid(coord, H, W):
    """(B,2,Hc,Wc) pixels -> (B,Hc,Wc,2) grid_sample coordinates, align_corners=True."""
    return torch.stack([coord[:, 0] / (float(W - 1) / 2.0) - 1.0,
                        coord[:, 1] / (float(H - 1) / 2.0) - 1.0], dim=-1)


def warp_points(points, homographies):
    """points (B,Hc,Wc,2) normalised, H (B,3,3): [x',y',w'] = H [x,y,1], then times 1/w' (official)."""
    B, Hc, Wc, _ = points.shape
    flat = points.reshape(B, Hc * Wc, 2)
    ph = torch.baddbmm(homographies[:, :, 2].unsqueeze(1), flat, homographies[:, :, :2].transpose(1, 2))
    out = ph[:, :, :2] * (1.0 / ph[:, :, 2:3])
    return out.reshape(B, Hc, Wc, 2)


# ---------------------------------------------------------------------------------------------------------
# The KP2D loss (KeypointNetwithIOLoss.forward, training branch)

class LossWeights:
    """total = alpha*L_loc + beta*2*L_desc + lambda*(L_usp + 2*L_cons) + gamma*L_IO (LossWeights.swift)."""

    def __init__(self, alpha=1.0, beta=2.0, lam=1.0, gamma=1.0):
        self.alpha, self.beta, self.lam, self.gamma = alpha, beta, lam, gamma


def descriptor_loss(src_feat, tgt_feat, src_norm, warped_norm, warped_px, border):
    """Per-image triplet loss with the hardest negative outside a +-4 px box; sum of image losses / B.
    Returns (loss or None, recall, per-image losses, per-image negative indices)."""
    B, D = src_feat.shape[:2]
    Hc, Wc = border.shape[1:]
    loss, recall = None, 0.0
    per_image = [0.0] * B
    negatives = [None] * B
    for b in range(B):
        mask = border[b].reshape(-1)
        m = int(mask.sum())
        if m < DESCRIPTOR_MIN_POINTS:
            continue
        ref = F.grid_sample(src_feat[b:b + 1], src_norm[b:b + 1].detach(), align_corners=True)[0].reshape(D, -1)[:, mask]
        tar = F.grid_sample(tgt_feat[b:b + 1], warped_norm[b:b + 1].detach(), align_corners=True)[0].reshape(D, -1)[:, mask]
        tar_px = warped_px[b].detach().reshape(2, -1)[:, mask]
        ref = ref / torch.norm(ref, p=2, dim=0)
        tar = tar / torch.norm(tar, p=2, dim=0)
        with torch.no_grad():
            dmat = torch.sqrt(2 - 2 * torch.clamp(ref.t() @ tar, min=-1, max=1))     # (m anchors, m candidates)
            dmat_sorted, order = torch.sort(dmat, dim=1)
            candidates = order.t()                                                    # (rank, anchor)
            cand_x, cand_y = tar_px[0, candidates], tar_px[1, candidates]
            true_x, true_y = tar_px[0], tar_px[1]
            first_correct = (cand_x[0] == true_x) & (cand_y[0] == true_y)
            recall += (1.0 / B) * (float(first_correct.sum()) / float(m))
            inside = ((cand_x - true_x).abs() <= RELAX_FIELD) & ((cand_y - true_y).abs() <= RELAX_FIELD)
            ranked = dmat_sorted.t().clone()
            ranked[inside] = 2.0                      # the largest possible distance
            neg = candidates.gather(0, torch.argmin(ranked, dim=0).unsqueeze(0)).squeeze(0)
        negatives[b] = neg
        t = F.triplet_margin_loss(ref.t(), tar.t(), tar[:, neg].t(), margin=TRIPLET_MARGIN)
        per_image[b] = float(t.detach())
        term = (1.0 / B) * t
        loss = term if loss is None else loss + term
    return loss, recall, per_image, negatives


def kp2d_loss(model, image, image_aug, homography, w, details=False):
    """Forward both images (source = image_aug first) and every loss term. image, image_aug (B,3,H,W) in
    [0,1]; homography (B,3,3) maps normalised source points to normalised target points."""
    B, _, H, W = image.shape
    kn = model.keypoint_net
    src_score, src_coord, src_feat = kn(normalize_images(image_aug))
    tgt_score, tgt_coord, tgt_feat = kn(normalize_images(image))
    _, _, Hc, Wc = tgt_score.shape
    N = Hc * Wc
    sx, sy = float(W - 1) / 2.0, float(H - 1) / 2.0

    src_norm = pixels_to_grid(src_coord, H, W)                         # (B,Hc,Wc,2)
    tgt_norm = pixels_to_grid(tgt_coord, H, W)
    warped_norm = warp_points(src_norm, homography)
    warped_px = torch.stack([(warped_norm[..., 0] + 1) * sx, (warped_norm[..., 1] + 1) * sy], dim=1)  # (B,2,Hc,Wc)

    ring = torch.zeros(B, Hc, Wc, dtype=torch.bool)
    ring[:, 1:Hc - 1, 1:Wc - 1] = True
    wn = warped_norm.detach()
    border = ring & (wn[..., 0] > -1) & (wn[..., 0] < 1) & (wn[..., 1] > -1) & (wn[..., 1] < 1)

    # Distance from every warped source point to every target keypoint (border ring included).
    d_all = torch.norm(torch.abs(warped_px.reshape(B, 2, N, 1) - tgt_coord.reshape(B, 2, 1, N)), p=2, dim=1)
    d_min, d_index = d_all.min(dim=2)                                  # (B,N)
    valid = (d_min < ASSOCIATION_PX) & border.reshape(B, N)

    terms = {}
    terms["loc"] = d_min[valid].mean() if bool(valid.any()) else None

    desc, recall, desc_per_image, negatives = descriptor_loss(src_feat, tgt_feat, src_norm, warped_norm,
                                                              warped_px, border)
    terms["desc"] = desc

    if bool(valid.any()):
        associated = tgt_score.reshape(B, N).gather(1, d_index)
        err = d_min[valid]
        terms["usp"] = ((associated[valid] + src_score.reshape(B, N)[valid]) * (err - err.mean())).mean()
    else:
        terms["usp"] = None

    if bool(border.any()):
        resampled = F.grid_sample(tgt_score, warped_norm.detach(), mode="bilinear", align_corners=True)
        terms["cons"] = F.mse_loss(resampled[:, 0][border], src_score[:, 0][border])
    else:
        terms["cons"] = None

    # IO-Net on the 300 lowest-score cells of each image (raster order).
    k = min(IO_POINTS, N)
    with torch.no_grad():
        mask_s = torch.zeros(B, N, dtype=torch.bool)
        mask_s.scatter_(1, src_score.reshape(B, N).topk(k, dim=1, largest=False).indices, True)
        mask_t = torch.zeros(B, N, dtype=torch.bool)
        mask_t.scatter_(1, tgt_score.reshape(B, N).topk(k, dim=1, largest=False).indices, True)
    src_k = src_norm.reshape(B, N, 2)[mask_s].reshape(B, k, 2)
    tgt_k = tgt_norm.reshape(B, N, 2)[mask_t].reshape(B, k, 2)
    warped_k = warped_norm.reshape(B, N, 2)[mask_s].reshape(B, k, 2)
    fs = F.grid_sample(src_feat, src_k.unsqueeze(1), align_corners=True)[:, :, 0]    # (B,D,k)
    ft = F.grid_sample(tgt_feat, tgt_k.unsqueeze(1), align_corners=True)[:, :, 0]
    fs = fs / torch.norm(fs, p=2, dim=1, keepdim=True)
    ft = ft / torch.norm(ft, p=2, dim=1, keepdim=True)
    dmat = torch.sqrt(2 - 2 * torch.clamp(torch.bmm(fs.permute(0, 2, 1), ft), min=-1, max=1))
    nn_dist, nn_index = dmat.min(dim=2)                                # (B,k)
    associated_t = tgt_k.gather(1, nn_index.unsqueeze(2).expand(B, k, 2))
    pairs = torch.cat([src_k, associated_t, nn_dist.unsqueeze(2)], dim=2)          # (B,k,5)
    io_pred = model.io_net(pairs.permute(0, 2, 1).unsqueeze(3)).reshape(B, k)
    with torch.no_grad():
        scale = torch.tensor([sx, sy])
        io_dist = torch.norm((associated_t + 1) * scale - (warped_k + 1) * scale, p=2, dim=2)
        inlier = io_dist < ASSOCIATION_PX
        io_gt = 2 * inlier.float() - 1
        inliers = int(inlier.sum())
    terms["io"] = F.mse_loss(io_pred, io_gt) if inliers > IO_MIN_INLIERS else None

    total = None
    for name, weight in (("loc", w.alpha), ("desc", w.beta * 2), ("usp", w.lam), ("cons", w.lam * 2), ("io", w.gamma)):
        if terms[name] is not None:
            part = weight * terms[name]
            total = part if total is None else total + part

    out = {"total": total, "terms": terms, "recall": recall, "io_inliers": inliers}
    if details:
        out.update({
            "source_score": src_score, "source_coord": src_coord, "target_score": tgt_score,
            "target_coord": tgt_coord, "source_uv_warped": warped_px, "border_mask": border,
            "d_uv_l2_min": d_min.reshape(B, Hc, Wc), "d_uv_l2_min_index": d_index.reshape(B, Hc, Wc),
            "dist_valid_mask": valid.reshape(B, Hc, Wc),
            "n_border_valid": border.reshape(B, N).sum(1), "n_dist_valid": valid.sum(1),
            "desc_per_image": desc_per_image, "desc_negatives": negatives,
            "io_topk_mask_source": mask_s.reshape(B, Hc, Wc), "io_topk_mask_target": mask_t.reshape(B, Hc, Wc),
            "io_nn_index": nn_index, "io_nn_dist": nn_dist, "io_pred": io_pred, "io_gt": io_gt,
        })
    return out


def train_step(model, optimizer, image, image_aug, homography, weights):
    """One training step as kp2d-tui's: zero grads, forward + loss, backward, Adam. Returns the loss dict."""
    optimizer.zero_grad(set_to_none=False)
    out = kp2d_loss(model, image, image_aug, homography, weights)
    if out["total"] is not None and bool(torch.isfinite(out["total"])):
        out["total"].backward()
        optimizer.step()
    return out


# ---------------------------------------------------------------------------------------------------------
# Reference fixtures

class Fixture:
    """A fixture file: safetensors with F32/I64 tensors and the kp2d_fixture metadata (fixture README 1.1-1.2)."""

    def __init__(self, path):
        self.path = path
        with open(path, "rb") as f:
            raw = f.read()
        if len(raw) < 8:
            raise ValueError("%s: not a safetensors file (shorter than 8 bytes)" % path)
        n = struct.unpack("<Q", raw[:8])[0]
        header = json.loads(raw[8:8 + n].decode("utf-8"))
        meta = json.loads(header.pop("__metadata__")["kp2d_fixture"])
        if meta.get("version") != 1:
            raise ValueError("%s: fixture version %r, expected 1" % (path, meta.get("version")))
        self.kind, self.config, self.tolerance = meta["kind"], meta["config"], meta["tolerance"]
        self.tensors = {}
        data = raw[8 + n:]
        for name, e in header.items():
            dtype = {"F32": torch.float32, "I64": torch.int64}[e["dtype"]]
            begin, end = e["data_offsets"]
            t = torch.frombuffer(bytearray(data[begin:end]), dtype=dtype) if end > begin else torch.empty(0, dtype=dtype)
            self.tensors[name] = t.reshape(e["shape"])

    def names(self, prefix):
        return [n for n in self.tensors if n.startswith(prefix)]

    def rule(self, name):
        r = self.tolerance.get("per_tensor", {}).get(name)
        return r if r is not None else {"abs": self.tolerance["abs"], "rel": self.tolerance["rel"]}

    def state_dict(self, prefix="param."):
        return {n[len(prefix):]: t for n, t in self.tensors.items() if n.startswith(prefix)}


class Report:
    def __init__(self, fixture_label):
        self.label = fixture_label
        self.passed = 0
        self.failed = 0
        self.checked = set()

    def line(self, name, ok, max_abs=None, max_rel=None, note=""):
        self.checked.add(name)
        if ok:
            self.passed += 1
        else:
            self.failed += 1
        nums = "" if max_abs is None else "  max_abs %.3e  max_rel %.3e" % (max_abs, max_rel)
        print("%s  %-22s %-48s%s%s" % ("PASS" if ok else "FAIL", self.label, name, nums, ("  " + note) if note else ""))
        return ok

    def compare(self, fixture, name, actual):
        """Fixture README 1.4 rules 1-4. Returns (passed, passed_elementwise)."""
        expected = fixture.tensors[name]
        actual = torch.as_tensor(actual).detach()
        if tuple(actual.reshape(-1).shape) != tuple(expected.reshape(-1).shape):
            self.line(name, False, note="%d values, expected %d (shape %s)" % (actual.numel(), expected.numel(),
                                                                                list(expected.shape)))
            return False, False
        if expected.dtype == torch.int64:
            a = actual.reshape(-1).to(torch.int64)
            e = expected.reshape(-1)
            bad = int((a != e).sum())
            self.line(name, bad == 0, note="exact" if bad == 0 else "%d of %d differ" % (bad, e.numel()))
            return bad == 0, bad == 0
        a = actual.reshape(-1).double()
        e = expected.reshape(-1).double()
        r = fixture.rule(name)
        diff = (a - e).abs()
        max_abs = float(diff.max()) if diff.numel() else 0.0
        nz = e != 0
        max_rel = float((diff[nz] / e[nz].abs()).max()) if bool(nz.any()) else 0.0
        finite = bool(torch.isfinite(a).all())
        elementwise = finite and bool((diff <= r["abs"] + r["rel"] * e.abs()).all())
        if elementwise:
            self.line(name, True, max_abs, max_rel)
            return True, True
        if finite and "max_rel_l2" in r:
            rel_l2 = float(torch.linalg.vector_norm(a - e) / max(float(torch.linalg.vector_norm(e)), 1e-300))
            if rel_l2 <= r["max_rel_l2"]:
                self.line(name, True, max_abs, max_rel, "via rel-L2 fallback %.2e <= %.0e" % (rel_l2, r["max_rel_l2"]))
                return True, False
        bad = int((~(diff <= r["abs"] + r["rel"] * e.abs())).sum())
        self.line(name, False, max_abs, max_rel, "%d of %d outside abs %.1e + rel %.1e*|e|%s"
                  % (bad, e.numel(), r["abs"], r["rel"], "" if finite else " (non-finite values)"))
        return False, False

    def missing(self, fixture, prefixes):
        for name in fixture.tensors:
            if name.startswith(prefixes) and name not in self.checked:
                self.line(name, False, note="the twin computes no value for this tensor")


def build_keypointnet(fixture, with_drop_default=False):
    c = fixture.config
    net = KeypointNet(tuple(c["widths"]), use_color=c.get("use_color", True), do_upsample=c.get("do_upsample", True),
                      with_drop=c.get("with_drop", with_drop_default), do_cross=c.get("do_cross", True))
    net.load_state_dict(fixture.state_dict(), strict=True)
    return net


def verify_keypointnet_train(f, rep):
    net = build_keypointnet(f)
    net.train()
    x = f.tensors["in.x"].clone().requires_grad_(True)
    score, coord, feat = net(x)
    for name, t in (("out.score", score), ("out.coord", coord), ("out.feat", feat)):
        rep.compare(f, name, t)
    objective = ((score * f.tensors["in.gout.score"]).sum() + (coord * f.tensors["in.gout.coord"]).sum()
                 + (feat * f.tensors["in.gout.feat"]).sum())
    objective.backward()
    for key, p in net.named_parameters():
        if "grad." + key in f.tensors:
            rep.compare(f, "grad." + key, p.grad if p.grad is not None else torch.zeros_like(p))
    if "grad.in.x" in f.tensors:
        rep.compare(f, "grad.in.x", x.grad)
    for key, b in net.named_buffers():
        if "after." + key in f.tensors:
            rep.compare(f, "after." + key, b)
    rep.missing(f, ("out.", "grad.", "after."))


def verify_keypointnet_eval(f, rep):
    net = build_keypointnet(f, with_drop_default=True)
    net.eval()
    x = f.tensors["in.x"] if "in.x" in f.tensors else normalize_images(f.tensors["in.image"])
    with torch.no_grad():
        score, coord, desc = net(x)
    for name, t in (("out.score", score), ("out.coord", coord), ("out.desc", desc)):
        if name in f.tensors:
            rep.compare(f, name, t)
    rep.missing(f, ("out.", "grad.", "after."))


def adam_step_on(params_and_grads, lr):
    """One torch Adam step on copies of (param, grad); returns the updated copies."""
    if not params_and_grads:
        return []
    copies = []
    for p, g in params_and_grads:
        c = p.clone().requires_grad_(True)
        c.grad = g.clone()
        copies.append(c)
    torch.optim.Adam(copies, lr=lr).step()
    return [c.detach() for c in copies]


def after_param_check(f, rep, key, actual):
    """Fixture README 1.4 rule 5: within abs where |expected grad| >= grad_threshold, else abs_small_grad."""
    name = "after.param." + key
    r = f.rule(name)
    e = f.tensors[name].reshape(-1).double()
    g = f.tensors["grad." + key].reshape(-1).double()
    a = actual.reshape(-1).double()
    diff = (a - e).abs()
    small = g.abs() < r.get("grad_threshold", 0.0)
    bound = torch.where(small, torch.full_like(e, r.get("abs_small_grad", r["abs"])), torch.full_like(e, r["abs"]))
    bad = int((~(diff <= bound)).sum())
    nz = e != 0
    max_rel = float((diff[nz] / e[nz].abs()).max()) if bool(nz.any()) else 0.0
    note = ("%d small-grad elements within %.1e" % (int(small.sum()), r.get("abs_small_grad", r["abs"]))
            if bad == 0 and bool(small.any()) else ("" if bad == 0 else "%d of %d outside the bound" % (bad, e.numel())))
    rep.line(name, bad == 0, float(diff.max()), max_rel, note)


def verify_train_step(f, rep):
    c = f.config
    model = KP2DModel(tuple(c["widths"]), with_drop=c.get("with_drop", False), do_cross=c.get("do_cross", True),
                      do_upsample=c.get("do_upsample", True), use_color=c.get("use_color", True))
    model.load_state_dict(f.state_dict(), strict=True)
    model.train()
    kw = c.get("keypoint_loss_weight", 1.0)
    weights = LossWeights(alpha=kw, beta=c.get("descriptor_loss_weight", 1.0), lam=c.get("score_loss_weight", 1.0),
                          gamma=kw)
    out = kp2d_loss(model, f.tensors["in.image"], f.tensors["in.image_aug"], f.tensors["in.homography"], weights,
                    details=True)
    model.zero_grad(set_to_none=False)
    out["total"].backward()

    T = out["terms"]
    scalar = lambda v: torch.tensor([float(v.detach()) if v is not None else 0.0])
    values = {
        "out.loss": scalar(out["total"]), "out.loss_loc": scalar(T["loc"]), "out.loss_desc": scalar(T["desc"]),
        "out.loss_usp": scalar(T["usp"]), "out.loss_score_consistency": scalar(T["cons"]),
        "out.loss_io": scalar(T["io"]), "out.recall": torch.tensor([out["recall"]]),
        "out.io_inliers": torch.tensor([out["io_inliers"]]),
        "out.loss_desc_per_image": torch.tensor(out["desc_per_image"]),
    }
    for key in ("source_score", "source_coord", "target_score", "target_coord", "source_uv_warped", "border_mask",
                "d_uv_l2_min", "d_uv_l2_min_index", "dist_valid_mask", "n_border_valid", "n_dist_valid",
                "io_topk_mask_source", "io_topk_mask_target", "io_nn_index", "io_nn_dist", "io_pred", "io_gt"):
        values["out." + key] = out[key]
    for b, neg in enumerate(out["desc_negatives"]):
        if neg is not None:
            values["out.desc_negative_index.b%d" % b] = neg
    for name in sorted(f.names("out.")):
        if name in values:
            rep.compare(f, name, values[name])

    elementwise = {}
    for key, p in model.named_parameters():
        if "grad." + key in f.tensors:
            _, elementwise[key] = rep.compare(f, "grad." + key, p.grad if p.grad is not None else torch.zeros_like(p))
    for key, b in model.named_buffers():
        if "after." + key in f.tensors:
            rep.compare(f, "after." + key, b)

    lr = c.get("adam", {}).get("lr", 1e-3)
    model.optimizer(lr).step()
    stored_only = []
    for key, p in model.named_parameters():
        if "after.param." + key not in f.tensors:
            continue
        if elementwise.get(key):
            after_param_check(f, rep, key, p.detach())
        else:
            stored_only.append(key)
    # Gradients that only passed through the rel-L2 fallback: check the optimizer on the stored gradients.
    updated = adam_step_on([(f.tensors["param." + k], f.tensors["grad." + k]) for k in stored_only], lr)
    for key, a in zip(stored_only, updated):
        name = "after.param." + key
        r = f.rule(name)
        bound = r.get("abs_given_stored_grad", r["abs"])
        diff = (a.double() - f.tensors[name].double()).abs()
        rep.line(name, bool((diff <= bound).all()), float(diff.max()), 0.0,
                 "optimizer-only check on the stored grad (abs %.1e)" % bound)
    rep.missing(f, ("out.", "grad.", "after."))


VERIFIERS = {
    "keypointnet.train": verify_keypointnet_train,
    "keypointnet.eval": verify_keypointnet_eval,
    "keypointnet.full_eval": verify_keypointnet_eval,
    "kp2d.train_step": verify_train_step,
}


def default_fixtures_dir():
    env = os.environ.get("KP2D_FIXTURES")
    if env:
        return env
    here = os.path.dirname(os.path.abspath(__file__))
    return os.path.normpath(os.path.join(here, "..", "..", "shared", "fixtures"))


def cmd_verify(args):
    torch.set_num_threads(args.threads)
    folder = args.fixtures or default_fixtures_dir()
    files = [os.path.join(folder, name + ".safetensors") for name in VERIFIERS]
    missing = [p for p in files if not os.path.isfile(p)]
    if missing:
        print("kp2d_torch.py verify: %s not found; pass the fixtures folder (e.g. scripts/kp2d_torch.py verify "
              "/work/shared/fixtures) or set KP2D_FIXTURES" % missing[0], file=sys.stderr)
        return 2
    passed = failed = 0
    for path in files:
        try:
            f = Fixture(path)
        except (OSError, ValueError, KeyError, struct.error) as e:
            print("kp2d_torch.py verify: %s is not a readable fixture (%s); restore it from the shared fixtures"
                  % (path, e), file=sys.stderr)
            return 2
        rep = Report(os.path.basename(path)[:-len(".safetensors")])
        torch.manual_seed(0)
        VERIFIERS[f.kind](f, rep)
        passed += rep.passed
        failed += rep.failed
    print("%d passed, %d failed" % (passed, failed))
    return 0 if failed == 0 else 1


# ---------------------------------------------------------------------------------------------------------
# Bench

def peak_rss_mb():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0   # Linux: KiB


def synthetic_pair(batch, height, width, gen):
    """Textured targets in [0,1] (sums of random sinusoids plus noise, as kp2d-tui's bench), mild random
    homographies (normalised source -> target), sources warped from the targets (bilinear, zeros)."""
    def u(lo, hi, *shape):
        """Uniform in [lo, hi): a float for no shape, else a float64 tensor."""
        t = torch.rand(shape or (1,), generator=gen, dtype=torch.float64) * (hi - lo) + lo
        return t if shape else float(t)
    ys = torch.arange(height, dtype=torch.float64).view(height, 1)
    xs = torch.arange(width, dtype=torch.float64).view(1, width)
    image = torch.empty(batch, 3, height, width)
    for b in range(batch):
        waves = [(u(0.02, 0.4), u(0.02, 0.4), u(0, 6.3), u(0.2, 1)) for _ in range(12)]
        v = sum(a * torch.sin(fx * xs + fy * ys + ph) for fx, fy, ph, a in waves)
        for c in range(3):
            img = 0.5 + 0.08 * v * u(0.7, 1.0) + u(-0.05, 0.05, height, width)
            image[b, c] = img.clamp(0, 1).float()
    hom = torch.empty(batch, 3, 3)
    for b in range(batch):
        angle, scale = u(-0.3, 0.3), u(0.85, 1.15)
        hom[b] = torch.tensor([[scale * math.cos(angle), -scale * math.sin(angle), u(-0.1, 0.1)],
                               [scale * math.sin(angle), scale * math.cos(angle), u(-0.1, 0.1)],
                               [u(-0.1, 0.1), u(-0.1, 0.1), 1.0]])
    gy, gx = torch.meshgrid(torch.linspace(-1, 1, height), torch.linspace(-1, 1, width), indexing="ij")
    grid = torch.stack([gx, gy], dim=-1).unsqueeze(0).expand(batch, height, width, 2)
    warped = warp_points(grid.contiguous(), hom)
    image_aug = F.grid_sample(image, warped, mode="bilinear", padding_mode="zeros", align_corners=True)
    return image, image_aug, hom


def time_train_steps(widths, batch, height, width, steps, warmup, seed):
    torch.manual_seed(seed)
    gen = torch.Generator().manual_seed(seed)
    model = KP2DModel(widths, with_drop=True)       # the paper preset trains with dropout, as kp2d-tui's bench
    model.train()
    opt = model.optimizer(1e-3)
    image, image_aug, hom = synthetic_pair(batch, height, width, gen)
    weights = LossWeights()                          # official 1 / 2 / 1 / 1
    times = []
    out = None
    for i in range(warmup + steps):
        t0 = time.perf_counter()
        out = train_step(model, opt, image, image_aug, hom, weights)
        dt = time.perf_counter() - t0
        if i >= warmup:
            times.append(dt)
    return times, out


def time_inference(widths, height, width, runs, seed):
    torch.manual_seed(seed)
    net = KeypointNet(widths)
    net.eval()
    x = normalize_images(torch.rand(1, 3, height, width, generator=torch.Generator().manual_seed(seed)))
    with torch.no_grad():
        net(x)                                       # warm-up
        times = []
        for _ in range(runs):
            t0 = time.perf_counter()
            net(x)
            times.append(time.perf_counter() - t0)
    return times


def cmd_bench(args):
    torch.set_num_threads(args.threads)
    widths = PRESETS[args.preset]
    H, W = args.height, args.width
    if H % 8 or W % 8 or (H // 8) * (W // 8) < IO_POINTS:
        print("kp2d_torch.py bench: %dx%d is not usable; --height and --width must be multiples of 8 with "
              "(H/8)*(W/8) >= 300 (e.g. 240x320)" % (H, W), file=sys.stderr)
        return 2
    log = (lambda s: print(s, file=sys.stderr, flush=True)) if args.json else (lambda s: print(s, flush=True))
    result = {"torch": torch.__version__, "threads": torch.get_num_threads(), "preset": args.preset,
              "widths": list(widths), "repeats": args.repeats, "warmup": args.warmup,
              "mkldnn": bool(torch.backends.mkldnn.is_available()), "trainstep": [], "inference": []}
    steps = min(args.repeats, 3)
    for batch in ([args.batch, 2] if args.batch != 2 else [2]):
        times, out = time_train_steps(widths, batch, H, W, steps, args.warmup, seed=1)
        row = {"case": "b%d %dx%d" % (batch, H, W), "step_s": sorted(times)[len(times) // 2], "samples_s": times,
               "loss": float(out["total"].detach()) if out["total"] is not None else None, "io_inliers": out["io_inliers"],
               "peak_rss_mb": peak_rss_mb()}
        result["trainstep"].append(row)
        log("twin trainstep %s: median %.3f s/step over %d steps (%s), peak RSS so far %.0f MiB"
            % (row["case"], row["step_s"], len(times), ", ".join("%.3f" % t for t in times), row["peak_rss_mb"]))
    runs = min(args.repeats, 5)
    for h, w in ((240, 320), (480, 640)):
        times = time_inference(widths, h, w, runs, seed=0)
        times_ms = [t * 1e3 for t in times]
        row = {"size": "%dx%d" % (h, w), "median_ms": sorted(times_ms)[len(times_ms) // 2], "min_ms": min(times_ms),
               "runs": len(times_ms)}
        result["inference"].append(row)
        log("twin inference %s: median %.1f ms, min %.1f ms over %d runs" % (row["size"], row["median_ms"],
                                                                            row["min_ms"], row["runs"]))
    result["peak_rss_mb"] = peak_rss_mb()
    if args.json:
        print(json.dumps(result))
    return 0


def main(argv=None):
    p = argparse.ArgumentParser(prog="kp2d_torch.py", description=__doc__.split("\n\n")[0],
                                epilog="Install: python3 -m venv .venv-torch && .venv-torch/bin/pip install "
                                       "torch==2.13.0 numpy safetensors",
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = p.add_subparsers(dest="command", required=True)
    v = sub.add_parser("verify", help="check the twin against the reference fixtures")
    v.add_argument("fixtures", nargs="?", help="fixtures folder (default $KP2D_FIXTURES or ../shared/fixtures)")
    v.add_argument("--threads", type=int, default=2)
    b = sub.add_parser("bench", help="time the twin (training step b8/b2, inference 240x320/480x640)")
    b.add_argument("--preset", choices=sorted(PRESETS), default="paper")
    b.add_argument("--batch", type=int, default=8)
    b.add_argument("--height", type=int, default=240)
    b.add_argument("--width", type=int, default=320)
    b.add_argument("--repeats", type=int, default=5, help="timed runs: min(N,3) train steps, min(N,5) inferences")
    b.add_argument("--warmup", type=int, default=1, help="untimed training steps before the timed ones")
    b.add_argument("--threads", type=int, default=2, help="torch.set_num_threads (default 2)")
    b.add_argument("--json", action="store_true", help="print one JSON object (progress goes to stderr)")
    args = p.parse_args(argv)
    if args.command == "bench" and (args.batch < 2 or args.repeats < 1 or args.warmup < 0 or args.threads < 1):
        p.error("need --batch >= 2, --repeats >= 1, --warmup >= 0, --threads >= 1")
    return cmd_verify(args) if args.command == "verify" else cmd_bench(args)


if __name__ == "__main__":
    sys.exit(main())
