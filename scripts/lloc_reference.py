#!/usr/bin/env python3
"""Reference values of the official L_loc on the `fast` preset's training pairs: what a detector that does nothing,
a classical corner detector and a perfect detector score on the same loss (docs/training.md, "Fifth round").

Usage:
    python3 scripts/lloc_reference.py                          # the table, on sample-data/train, 128x192
    python3 scripts/lloc_reference.py --photos DIR --pairs 50 --size 128x192 --seed 1
    python3 scripts/lloc_reference.py --zero-location IN OUT   # IN's KeypointNet with cell-centre keypoints

Needs numpy and OpenCV's Python package (`pip install opencv-python-headless`). A reference for the docs only:
kp2d-tui never depends on Python.

What it replicates (statistically: NumPy's generator, not the tool's SeededRandom):
  * the pair: each photo resized to the training size (cv2.INTER_AREA), H drawn as Sources/Datasets/
    HomographySampler.swift draws it (the official sample_homography with patch 0.7, perspective 0.4, scaling 0.2,
    rotation up to 45 degrees), source = the target warped by H with bilinear sampling and zeros outside
    (grid_sample); no photometric augmentation (it moves L_loc by 0.01 px, docs/training.md "Third round");
  * the loss: Sources/KP2D/KP2DLoss.swift correspondences + locationLoss (the official one): one keypoint per 8x8
    cell in both images, the inner cells' source keypoints warped into the target, kept where they land strictly
    inside the frame and their nearest target keypoint is < 4 px away; L_loc is the mean of those distances.
Detectors, each giving exactly one keypoint per cell as KeyPointNet does:
  * centres: every cell's centre (what KeyPointNet gives with a zero location head; --zero-location writes such
    weights, so `kp2d-tui train --weights OUT --lr 1e-12` measures the same quantity with the tool's own pairs);
  * harris / mineig: the cell's maximum of cv2.cornerHarris / cv2.cornerMinEigenVal (block 3, Sobel 3), refined to
    sub-pixel by a parabola through its neighbours in x and in y;
  * ideal: no image at all. A Poisson field of scene points with random strengths; each cell of either image keeps
    its strongest point, and the source sees exactly the target's points mapped by H^-1: perfect repeatability and
    localisation. Given as a function of the density (points per 8x8 target cell)."""
import argparse, glob, json, os, struct, sys

import numpy as np

CELL = 8


def sample_homography(rng, height, width, patch=0.7, perspective=0.4, scaling=0.2, max_angle=np.pi / 4,
                      scales=100, angles=100):
    """H mapping source pixels to target pixels (HomographySampler.draw on normalised coordinates, then P H N)."""
    import cv2
    hw = height / width
    while True:
        corners = np.array([(-1, -1), (-1, 1), (1, -1), (1, 1)], float)
        p = np.stack([corners[:, 0] * patch, corners[:, 1] * patch * hw], 1)
        a = perspective / 2
        px = np.clip(rng.normal(size=2) * a, -a, a)
        py = np.clip(rng.normal(size=2) * hw * a, -hw * a, hw * a)
        p[0] -= (px[1], py[1]); p[1] += (-px[0], py[1]); p[2] += (px[1], -py[0]); p[3] += (px[0], py[0])
        a = scaling / 2
        s = np.concatenate([[1.0], np.clip(1 + rng.normal(size=scales) * a, 1 - a, 1 + a)])[rng.integers(scales)]
        c = p.mean(0); p = (p - c) * s + c
        lo_x, lo_y = (p[:, 0] + 1).min(), (p[:, 1] + hw).min()
        hi_x, hi_y = (1 - p[:, 0]).min(), (hw - p[:, 1]).min()
        if lo_x + hi_x < 0 or lo_y + hi_y < 0:
            continue
        p = p + (rng.uniform(-lo_x, hi_x), rng.uniform(-lo_y, hi_y))
        candidates = [0.0] + list(-max_angle + 2 * max_angle * np.arange(angles) / max(angles - 1, 1))
        c = p.mean(0); valid = []
        for t in candidates:
            co, si = np.cos(t), np.sin(t); d = p - c
            r = np.stack([d[:, 0] * co + d[:, 1] * si + c[0], -d[:, 0] * si + d[:, 1] * co + c[1]], 1)
            if (r[:, 0] >= -1).all() and (r[:, 1] >= -hw).all() and (r[:, 0] < 1).all() and (r[:, 1] < hw).all():
                valid.append(r)
        if not valid:
            continue
        p = valid[rng.integers(len(valid))]
        hn, _ = cv2.findHomography(corners, np.stack([p[:, 0], p[:, 1] / hw], 1))
        n = np.array([[2 / (width - 1), 0, -1], [0, 2 / (height - 1), -1], [0, 0, 1]])
        return np.linalg.inv(n) @ hn @ n


def warp_points(h, pts):
    q = np.c_[pts, np.ones(len(pts))] @ h.T
    return q[:, :2] / q[:, 2:]


class Grid:
    def __init__(self, height, width):
        self.height, self.width = height, width
        self.hc, self.wc = height // CELL, width // CELL
        self.centres = np.stack(np.meshgrid(np.arange(self.wc) * CELL + (CELL - 1) / 2,
                                            np.arange(self.hc) * CELL + (CELL - 1) / 2), -1).reshape(-1, 2)

    def lloc(self, h, source_kp, target_kp):
        """Sum and count of the valid nearest distances (KP2DLoss.correspondences + locationLoss)."""
        w = warp_points(h, source_kp)
        idx = np.arange(self.hc * self.wc); i, j = idx // self.wc, idx % self.wc
        un = w[:, 0] / ((self.width - 1) / 2) - 1; vn = w[:, 1] / ((self.height - 1) / 2) - 1
        border = (i > 0) & (i < self.hc - 1) & (j > 0) & (j < self.wc - 1) & (un > -1) & (un < 1) & (vn > -1) & (vn < 1)
        d = np.sqrt(((w[:, None, :] - target_kp[None, :, :]) ** 2).sum(-1)).min(1)
        valid = border & (d < 4)
        return d[valid].sum(), valid.sum(), border.sum()

    def strongest_per_cell(self, pos, strength):
        kp = self.centres.copy(); best = np.full(self.hc * self.wc, -np.inf)
        inside = (pos[:, 0] >= 0) & (pos[:, 0] < self.width) & (pos[:, 1] >= 0) & (pos[:, 1] < self.height)
        cell = (pos[:, 1] // CELL).astype(int) * self.wc + (pos[:, 0] // CELL).astype(int)
        for k in np.nonzero(inside)[0]:
            if strength[k] > best[cell[k]]:
                best[cell[k]] = strength[k]; kp[cell[k]] = pos[k]
        return kp

    def corner_per_cell(self, gray, kind):
        import cv2
        g = gray.astype(np.float32) / 255
        r = cv2.cornerHarris(g, 3, 3, 0.04) if kind == 'harris' else cv2.cornerMinEigenVal(g, 3, 3)
        kp = np.zeros((self.hc * self.wc, 2))
        for i in range(self.hc):
            for j in range(self.wc):
                block = r[i * CELL:(i + 1) * CELL, j * CELL:(j + 1) * CELL]
                y, x = np.unravel_index(np.argmax(block), block.shape); y += i * CELL; x += j * CELL
                dx = dy = 0.0
                if 0 < x < self.width - 1:
                    den = r[y, x - 1] - 2 * r[y, x] + r[y, x + 1]
                    if den < 0: dx = np.clip(0.5 * (r[y, x - 1] - r[y, x + 1]) / den, -0.5, 0.5)
                if 0 < y < self.height - 1:
                    den = r[y - 1, x] - 2 * r[y, x] + r[y + 1, x]
                    if den < 0: dy = np.clip(0.5 * (r[y - 1, x] - r[y + 1, x]) / den, -0.5, 0.5)
                kp[i * self.wc + j] = (x + dx, y + dy)
        return kp


def photo_rows(grid, files, detectors, pairs, rng, **sampler):
    import cv2
    rows = {d: {} for d in detectors}
    for f in files:
        image = cv2.imread(f, cv2.IMREAD_GRAYSCALE)
        if image is None:
            sys.exit(f"error: {f}: not an image OpenCV can read; remove it from the folder")
        target = cv2.resize(image, (grid.width, grid.height), interpolation=cv2.INTER_AREA)
        sums = {d: [0.0, 0] for d in detectors}
        for _ in range(pairs):
            h = sample_homography(rng, grid.height, grid.width, **sampler)
            # Source pixel p shows the target at H(p), zeros outside (grid_sample).
            source = cv2.warpPerspective(target, h, (grid.width, grid.height),
                                         flags=cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP,
                                         borderMode=cv2.BORDER_CONSTANT, borderValue=0)
            for d in detectors:
                if d == 'centres':
                    s, t = grid.centres, grid.centres
                else:
                    s, t = grid.corner_per_cell(source, d), grid.corner_per_cell(target, d)
                a, b, _ = grid.lloc(h, s, t); sums[d][0] += a; sums[d][1] += b
        for d in detectors:
            rows[d][os.path.basename(f)] = sums[d][0] / max(sums[d][1], 1)
    return rows


def ideal_row(grid, density, pairs, rng, **sampler):
    total = count = border = 0
    for _ in range(pairs):
        h = sample_homography(rng, grid.height, grid.width, **sampler)
        m = rng.poisson(density * grid.height * grid.width / CELL ** 2)
        points = np.c_[rng.uniform(-0.5, grid.width - 0.5, m), rng.uniform(-0.5, grid.height - 0.5, m)]
        strength = rng.uniform(size=m)
        target = grid.strongest_per_cell(points, strength)
        source = grid.strongest_per_cell(warp_points(np.linalg.inv(h), points), strength)
        a, b, c = grid.lloc(h, source, target); total += a; count += b; border += c
    return total / count, count / border


def zero_location(src, dst):
    """Copy a KeyPointNet safetensors file with the location head's last convolution (convPb) zeroed."""
    with open(src, 'rb') as f:
        data = bytearray(f.read())
    n = struct.unpack('<Q', data[:8])[0]
    header = json.loads(data[8:8 + n])
    keys = [k for k in ('convPb.weight', 'convPb.bias') if k in header]
    if len(keys) != 2:
        sys.exit(f"error: {src}: no convPb.weight/convPb.bias; pass a *.keypointnet.safetensors file written by kp2d-tui")
    for k in keys:
        a, b = header[k]['data_offsets']; data[8 + n + a:8 + n + b] = bytes(b - a)
    tmp = dst + '.tmp'
    with open(tmp, 'wb') as f:
        f.write(data)
    os.replace(tmp, dst)
    print(f"wrote {dst}: {src} with {', '.join(keys)} zeroed (keypoints at the cell centres)")


def main():
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    ap.add_argument('--photos', default=os.path.join(os.path.dirname(__file__), '..', 'sample-data', 'train'))
    ap.add_argument('--size', default='128x192', help='training size HxW (multiples of 8)')
    ap.add_argument('--pairs', type=int, default=50, help='pairs per photo')
    ap.add_argument('--ideal-pairs', type=int, default=400)
    ap.add_argument('--seed', type=int, default=1)
    ap.add_argument('--patch', type=float, default=0.7,
                    help="the sampler's patch ratio (`train --patch-ratio`; official and default 0.7)")
    ap.add_argument('--zero-location', nargs=2, metavar=('IN', 'OUT'))
    a = ap.parse_args()
    if a.zero_location:
        return zero_location(*a.zero_location)
    try:
        hh, ww = (int(v) for v in a.size.lower().split('x'))
        assert hh % CELL == 0 and ww % CELL == 0 and hh >= 3 * CELL and ww >= 3 * CELL
    except (ValueError, AssertionError):
        sys.exit(f"error: --size {a.size}: give HxW, multiples of 8, at least 24x24 (e.g. 128x192)")
    grid, rng = Grid(hh, ww), np.random.default_rng(a.seed)
    files = sorted(f for f in glob.glob(os.path.join(a.photos, '**', '*'), recursive=True)
                   if f.lower().endswith(('.png', '.jpg', '.jpeg', '.ppm', '.pgm')))
    if not files:
        sys.exit(f"error: {a.photos}: no PNG/JPEG/PPM photos; pass --photos with a folder of training photos")
    print(f"L_loc (px) on {a.pairs} replica pairs per photo, {hh}x{ww}, {len(files)} photos in {a.photos}")
    if not 0.3 <= a.patch <= 1:
        sys.exit(f"error: --patch {a.patch}: give a patch ratio between 0.3 and 1 (official: 0.7)")
    print(f"sampler: patch ratio {a.patch}, perspective 0.4, scaling 0.2, rotation up to pi/4")
    rows = photo_rows(grid, files, ['centres', 'harris', 'mineig'], a.pairs, rng, patch=a.patch)
    for d, r in rows.items():
        print(f"  {d:8s} mean {np.mean(list(r.values())):.3f}   " + ' '.join(f"{k.rsplit('.', 1)[0]} {v:.3f}" for k, v in r.items()))
    print(f"ideal detector ({a.ideal_pairs} pairs each): L_loc (px), share of inner cells that are valid")
    for density in (1, 4, 16, 64):
        l, v = ideal_row(grid, density, a.ideal_pairs, rng, patch=a.patch)
        print(f"  {density:2d} points per 8x8 cell: {l:.3f}, {v:.3f}")
    for name, kw in [('zoom only (patch 0.7; no perspective, scaling, rotation)', dict(perspective=0, scaling=0, max_angle=0)),
                     ('no zoom (patch 0.99; nothing else)', dict(patch=0.99, perspective=0, scaling=0, max_angle=0))]:
        l, v = ideal_row(grid, 16, a.ideal_pairs, rng, **kw)
        print(f"  16 points per cell, {name}: {l:.3f}, {v:.3f}")


if __name__ == '__main__':
    main()
