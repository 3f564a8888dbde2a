#!/usr/bin/env python3
"""ORB and SIFT reference rows for an HPatches-format folder, with the official KP2D metrics.

Usage:
    python3 scripts/classic_reference.py HPATCHES_DIR                      # ORB and SIFT, 240x320, top-300
    python3 scripts/classic_reference.py HPATCHES_DIR --size 480x640 --top-k 1000 --detectors sift --json
    python3 scripts/classic_reference.py --check-fixture [eval.metrics.safetensors]   # prove the metric code

Needs numpy and OpenCV's Python package (`pip install opencv-python-headless`). This is a reference for the
docs only: kp2d-tui never depends on Python.

What it does, per pair (1, k) of every sequence (folders i_*/v_*, images 1..6 as .ppm/.pgm/.png/.jpg/.jpeg,
H_1_k text files; the same layout Sources/Datasets/HPatches.swift accepts):
  * both images read with cv2.imread (colour), resized to the evaluation size with cv2.resize ignoring the aspect
    ratio, and the homography rescaled, exactly as the official PatchesDataset does; converted to gray
    (cv2.COLOR_BGR2GRAY) for the detectors;
  * ORB (cv2.ORB_create) or SIFT (cv2.SIFT_create) with at most --max-features points (default 1500, as the
    SuperPoint authors' classical baselines); a point's score is its cv2 `response`, its position the sub-pixel
    `pt` (pixel centres at integer coordinates, as the HPatches homographies);
  * the OFFICIAL metric definitions of TRI-ML/KP2D evaluate_keypoint_net (kp2d/evaluation/detector_evaluation.py
    compute_repeatability with distance_thresh 3, descriptor_evaluation.py compute_homography and
    compute_matching_score) on the top-k points: repeatability and localization error, homography correctness
    C1/C3/C5 (mutual nearest neighbours with cv2.BFMatcher, cv2.findHomography RANSAC 3 px, maxIters 5000,
    mean error of the 4 image corners), matching score. Descriptor distance: L2 for SIFT (as the official code),
    Hamming for ORB's binary descriptors (as the SuperPoint evaluation does for ORB; L2 on bytes is meaningless).

The metric code is proven against the official outputs: `--check-fixture` runs it on the eval.metrics fixture
(20 pairs of keypoints, descriptors and homographies run through the official functions with OpenCV 5.0.0;
default path $KP2D_FIXTURES/eval.metrics.safetensors, else /work/shared/fixtures/...) and compares N1, N2,
cross-check match counts (exact), repeatability, localization error, matching score (1e-5), c1/c3/c5 and the
corner error (0.3 px) of every pair; it exits 1 on any difference. With OpenCV 5.0.0 all 20 pairs agree,
including the two the fixture flags as RANSAC-sensitive (same cv2.findHomography, same deterministic seed).
Fed our own network's detections (`kp2d-tui detect --out`), it also reproduces `kp2d-tui eval --json` pair by
pair (docs/training.md, "Reference detectors").

Where the official code is undefined we do what `kp2d-tui eval` does (README "Evaluating on HPatches"): a pair
with no repeated point has no localization error (left out of the mean; the table says how many; officially the
mean is NaN); no point at all after filtering gives repeatability 0 (officially -1); empty point sets or fewer
than 4 mutual matches give c1 = c3 = c5 = 0 (officially an exception). Top-k ties are broken by detection order
(stable sort); the official numpy argsort leaves them unspecified.

Output: per detector a table per split (all / i / v) like `kp2d-tui eval` prints; --json prints settings,
summaries and every pair's numbers instead.
"""
import argparse
import json
import os
import struct
import sys

import numpy as np

try:
    import cv2
except ImportError:
    sys.exit("error: OpenCV's Python package is missing; install it with `pip install opencv-python-headless`")

IMAGE_EXTENSIONS = ["ppm", "pgm", "png", "jpg", "jpeg"]  # looked up in this order, as HPatches.swift


# ---------------------------------------------------------------------------------------------------------------
# The official metrics. Points are float arrays (N,2) of (x, y) pixels, scores (N,), descriptors (N,D);
# H maps image-1 pixels to image-2 pixels; width/height is the evaluation size.

def warp(points, H):
    """Official warp_keypoints: [x', y', w'] = H [x, y, 1], divided by w' (float64)."""
    hom = np.concatenate([points, np.ones((points.shape[0], 1))], axis=1)
    warped = np.dot(hom, np.transpose(H))
    return warped[:, :2] / warped[:, 2:]


def inside(points, width, height):
    """Official keep_true_keypoints / filter_keypoints test: x in [0, W), y in [0, H)."""
    return (points[:, 0] >= 0) & (points[:, 0] < width) & (points[:, 1] >= 0) & (points[:, 1] < height)


def top_k(scores, k):
    """Indices of the k highest scores in ascending score order (official select_k_best: argsort, keep the
    last min(k, n)); ties keep detection order."""
    order = np.argsort(scores, kind="stable")
    return order[len(order) - min(k, len(order)):]


def repeatability(p1, s1, p2, s2, H, width, height, k, thresh=3.0):
    """Official compute_repeatability. Returns (N1, N2, repeatability, localization error or None)."""
    keep2 = inside(warp(p2, np.linalg.inv(H)), width, height)
    q2, t2 = p2[keep2], s2[keep2]
    w1 = warp(p1, H)
    keep1 = inside(w1, width, height)
    q1, t1 = w1[keep1], s1[keep1]
    q1, q2 = q1[top_k(t1, k)], q2[top_k(t2, k)]
    n1, n2 = len(q1), len(q2)
    if n1 + n2 == 0:
        return 0, 0, 0.0, None                      # official: -1, -1
    count, err = 0, 0.0
    if n1 and n2:
        d = np.linalg.norm(q1[:, None, :] - q2[None, :, :], axis=2)
        for mins in (d.min(axis=1), d.min(axis=0)):
            ok = mins <= thresh
            count += int(ok.sum())
            err += float(mins[ok].sum())
    return n1, n2, count / (n1 + n2), (err / count if count else None)   # official: 0/0 = NaN


def bf_match(d1, d2, norm, cross_check):
    """cv2.BFMatcher matches as (query index, train index) arrays; empty when a set is empty."""
    if len(d1) == 0 or len(d2) == 0:
        return np.zeros(0, int), np.zeros(0, int)
    ms = cv2.BFMatcher(norm, crossCheck=cross_check).match(d1, d2)
    return np.array([m.queryIdx for m in ms], int), np.array([m.trainIdx for m in ms], int)


def homography_correctness(p1, s1, d1, p2, s2, d2, H, width, height, k, norm):
    """Official compute_homography. Returns (c1, c3, c5, mean corner error or None, cross-check matches)."""
    keep1 = np.nonzero(inside(warp(p1, H), width, height))[0]
    keep2 = np.nonzero(inside(warp(p2, np.linalg.inv(H)), width, height))[0]
    i1 = keep1[top_k(s1[keep1], k)]
    i2 = keep2[top_k(s2[keep2], k)]
    q, t = bf_match(d1[i1], d2[i2], norm, cross_check=True)
    if len(q) < 4:
        return 0.0, 0.0, 0.0, None, len(q)
    est, _ = cv2.findHomography(p1[i1][q], p2[i2][t], cv2.RANSAC, 3, maxIters=5000)
    if est is None:
        return 0.0, 0.0, 0.0, None, len(q)
    corners = np.array([[0, 0], [0, height - 1], [width - 1, 0], [width - 1, height - 1]], float)
    err = float(np.mean(np.linalg.norm(warp(corners, H) - warp(corners, est), axis=1)))
    return float(err <= 1), float(err <= 3), float(err <= 5), err, len(q)


def matching_score(p1, s1, d1, p2, s2, d2, H, width, height, k, norm):
    """Official compute_matching_score: top-k without visibility filter, one-way nearest neighbours both ways,
    a match is visible if the matched point warped back lies in [0,W-1]x[0,H-1] and correct if within 3 px
    (strict); the mean of the two directions' correct/visible."""
    i1, i2 = top_k(s1, k), top_k(s2, k)
    a, b = p1[i1], p2[i2]
    limit = np.array([width - 1, height - 1])

    def direction(pa, da, pb, db, back):
        q, t = bf_match(da, db, norm, cross_check=False)
        if len(q) == 0:
            return 0.0
        w = warp(pb[t], back)
        vis = np.all((w >= 0) & (w <= limit), axis=-1)
        correct = np.linalg.norm(w - pa[q], axis=-1) < 3
        return np.sum(correct & vis) / max(np.sum(vis), 1.0)

    return (direction(a, d1[i1], b, d2[i2], np.linalg.inv(H)) + direction(b, d2[i2], a, d1[i1], H)) / 2


def evaluate_pair(kp1, kp2, H, width, height, k, norm):
    """All official metrics of one pair; kp = (points, scores, descriptors)."""
    (p1, s1, d1), (p2, s2, d2) = kp1, kp2
    n1, n2, rep, loc = repeatability(p1, s1, p2, s2, H, width, height, k)
    c1, c3, c5, corner, matches = homography_correctness(p1, s1, d1, p2, s2, d2, H, width, height, k, norm)
    ms = matching_score(p1, s1, d1, p2, s2, d2, H, width, height, k, norm)
    return dict(repeatability=rep, localization_error=loc, c1=c1, c3=c3, c5=c5, corner_error=corner,
                matching_score=float(ms), n1=n1, n2=n2, matches=matches)


# ---------------------------------------------------------------------------------------------------------------
# The fixture check.

def read_safetensors(path):
    """A minimal safetensors reader: {name: numpy array}, metadata dict."""
    with open(path, "rb") as f:
        n = struct.unpack("<Q", f.read(8))[0]
        header = json.loads(f.read(n))
        buf = f.read()
    dtypes = {"F32": "<f4", "I64": "<i8", "F64": "<f8"}
    meta = header.pop("__metadata__", {})
    out = {}
    for name, t in header.items():
        b, e = t["data_offsets"]
        out[name] = np.frombuffer(buf[b:e], dtype=dtypes[t["dtype"]]).reshape(t["shape"])
    return out, meta


def check_fixture(path):
    """Run the metric code on the official eval.metrics fixture and compare with its outputs."""
    t, meta = read_safetensors(path)
    config = json.loads(meta["kp2d_fixture"])["config"]
    width, height, k = config["W"], config["H"], config["keep_k_points"]
    failures, flagged_equal = [], True

    def close(a, e, tol=1e-5):
        return abs(a - e) <= tol + tol * abs(e)

    for i in range(config["num_pairs"]):
        p = f"in.p{i:02d}."
        prob, wprob = t[p + "prob"], t[p + "warped_prob"]
        r = evaluate_pair((prob[:, :2], prob[:, 2], t[p + "desc"]), (wprob[:, :2], wprob[:, 2], t[p + "warped_desc"]),
                          t[p + "homography"].astype(np.float64), width, height, k, cv2.NORM_L2)
        flagged = t["out.corner_error_near_threshold"][i] == 1
        loc = r["localization_error"] if r["localization_error"] is not None else float("nan")
        exact = [("N1", r["n1"], t["out.N1"][i]), ("N2", r["n2"], t["out.N2"][i]),
                 ("num_crosscheck_matches", r["matches"], t["out.num_crosscheck_matches"][i]),
                 ("homography_estimated", int(r["corner_error"] is not None), t["out.homography_estimated"][i])]
        rates = [("repeatability", r["repeatability"], t["out.repeatability"][i]),
                 ("localization_error", loc, t["out.localization_error"][i]),
                 ("matching_score", r["matching_score"], t["out.matching_score"][i])]
        ransac = [(c, r[c], t["out." + c][i]) for c in ("c1", "c3", "c5")]
        bad = [f"{n} {a} != {e}" for n, a, e in exact if a != e]
        bad += [f"{n} {a:.6f} != {e:.6f}" for n, a, e in rates if not close(a, float(e))]
        ransac_bad = [f"{n} {a} != {e}" for n, a, e in ransac if a != e]
        if r["corner_error"] is not None and t["out.homography_estimated"][i] == 1 \
                and abs(r["corner_error"] - t["out.corner_error"][i]) > 0.3:
            ransac_bad.append(f"corner_error {r['corner_error']:.3f} != {t['out.corner_error'][i]:.3f}")
        if flagged:
            flagged_equal &= not ransac_bad
        else:
            bad += ransac_bad
        print(f"pair {i:2d}: rep {r['repeatability']:.4f} loc {loc:.4f} c1/c3/c5 {r['c1']:.0f}/{r['c3']:.0f}/{r['c5']:.0f}"
              f" ms {r['matching_score']:.4f}{' (RANSAC-sensitive)' if flagged else ''}  "
              + ("ok" if not bad else "FAIL: " + "; ".join(bad)))
        failures += [f"pair {i}: {b}" for b in bad]
    print(f"{config['num_pairs'] - len({f.split(':')[0] for f in failures})}/{config['num_pairs']} pairs agree with "
          f"the official outputs; RANSAC-sensitive pairs {'also agree' if flagged_equal else 'differ (allowed)'} "
          f"(OpenCV {cv2.__version__}, fixture made with {config['ransac']['opencv_used']})")
    return not failures


# ---------------------------------------------------------------------------------------------------------------
# The HPatches-format folder.

class Problem(Exception):
    pass


def read_homography(path):
    """3 rows of 3 finite numbers (np.loadtxt-like; '#' comments, spaces/tabs/commas), not singular."""
    if not os.path.isfile(path):
        raise Problem(f"{path}: missing homography file")
    rows = []
    with open(path, encoding="utf-8", errors="replace") as f:
        for line in f:
            fields = line.split("#", 1)[0].replace(",", " ").split()
            if not fields:
                continue
            try:
                row = [float(x) for x in fields]
            except ValueError:
                raise Problem(f"{path}: malformed homography: line {len(rows) + 1} is not numbers")
            if not all(np.isfinite(row)):
                raise Problem(f"{path}: malformed homography: non-finite number (line {len(rows) + 1})")
            rows.append(row)
    if len(rows) != 3 or any(len(r) != 3 for r in rows):
        raise Problem(f"{path}: malformed homography: expected 3 rows of 3 numbers")
    H = np.array(rows, np.float64)
    if np.linalg.det(H) == 0:
        raise Problem(f"{path}: singular homography (determinant 0)")
    return H


def scan(root, split):
    """[(sequence, k, path1, pathk, H_1_k)] in sequence-name order, and the sequences left out (with why)."""
    if not os.path.isdir(root):
        sys.exit(f"error: {root}: no such folder; pass an HPatches-format folder (i_*/v_* sub-folders)")
    pairs, problems = [], []
    for name in sorted(os.listdir(root)):
        folder = os.path.join(root, name)
        if name.startswith(".") or not os.path.isdir(folder) or (split != "all" and not name.startswith(split)):
            continue

        def image(stem):
            for ext in IMAGE_EXTENSIONS:
                p = os.path.join(folder, f"{stem}.{ext}")
                if os.path.isfile(p):
                    return p
            raise Problem(f"{os.path.join(folder, stem + '.ppm')}: missing image (looked for "
                          + ", ".join(f"{stem}.{e}" for e in IMAGE_EXTENSIONS) + ")")
        try:
            first = image("1")
            seq = [(name, k, first, image(str(k)), read_homography(os.path.join(folder, f"H_1_{k}"))) for k in range(2, 7)]
            pairs += seq
        except Problem as p:
            problems.append(f"{p} (sequence {name} left out)")
    return pairs, problems


def load_pair(path1, path2, H, width, height):
    """Official PatchesDataset: cv2.imread colour, H rescaled to the evaluation size, cv2.resize; then gray."""
    imgs = []
    for p in (path1, path2):
        img = cv2.imread(p, cv2.IMREAD_COLOR)
        if img is None:
            raise Problem(f"{p}: unreadable image (OpenCV could not decode it); replace or remove the file")
        imgs.append(img)
    (h1, w1), (h2, w2) = imgs[0].shape[:2], imgs[1].shape[:2]
    H = np.diag([width / w2, height / h2, 1.0]) @ H @ np.diag([w1 / width, h1 / height, 1.0])
    grays = [cv2.cvtColor(cv2.resize(img, (width, height)), cv2.COLOR_BGR2GRAY) for img in imgs]
    return grays[0], grays[1], H


DETECTORS = {  # name -> (factory, descriptor norm)
    "orb": (lambda n: cv2.ORB_create(nfeatures=n), cv2.NORM_HAMMING),
    "sift": (lambda n: cv2.SIFT_create(nfeatures=n), cv2.NORM_L2),
}


def detect(detector, gray):
    """(points (N,2) float32, responses (N,), descriptors (N,D)) of one gray image."""
    kps, desc = detector.detectAndCompute(gray, None)
    if not kps or desc is None:
        return np.zeros((0, 2), np.float32), np.zeros(0, np.float32), np.zeros((0, detector.descriptorSize()),
                                                                                 np.uint8 if detector.descriptorType() == cv2.CV_8U else np.float32)
    return (np.array([kp.pt for kp in kps], np.float32), np.array([kp.response for kp in kps], np.float32), desc)


def summary(records):
    """Means over the pairs (localization error over the pairs where it is defined)."""
    n = max(len(records), 1)
    locs = [r["localization_error"] for r in records if r["localization_error"] is not None]
    s = {m: sum(r[m] for r in records) / n for m in ("repeatability", "c1", "c3", "c5", "matching_score")}
    s["localization_error"] = sum(locs) / len(locs) if locs else float("nan")
    s["pairs"] = len(records)
    s["pairs_without_repeated_points"] = len(records) - len(locs)
    return s


def table(name, root, args, splits, problems):
    lines = [f"{name.upper()} on {root}: {args.height}x{args.width} (HxW), top-{args.top_k}, "
             f"at most {args.max_features} features, OpenCV {cv2.__version__}",
             "split   Rep    LocErr  C1     C3     C5     MScore  pairs"]
    for split, s in splits.items():
        lines.append(f"{split:<6}  {s['repeatability']:.3f}  {s['localization_error']:6.3f}  {s['c1']:.3f}  "
                     f"{s['c3']:.3f}  {s['c5']:.3f}  {s['matching_score']:.3f}   {s['pairs']:5d}")
    if splits["all"]["pairs_without_repeated_points"]:
        lines.append(f"note: {splits['all']['pairs_without_repeated_points']} pairs had no repeated point; LocErr "
                     "averages the other pairs (the official mean would be NaN)")
    if problems:
        lines.append(f"{len(problems)} sequences or pairs left out (see warnings)")
    return "\n".join(lines)


def no_nan(x):
    """JSON has no NaN: write it as the string "nan", as `kp2d-tui eval --json` does."""
    if isinstance(x, dict):
        return {k: no_nan(v) for k, v in x.items()}
    if isinstance(x, list):
        return [no_nan(v) for v in x]
    if isinstance(x, (float, np.floating)):
        return "nan" if np.isnan(x) else float(x)
    if isinstance(x, np.integer):
        return int(x)
    return x


def parse_size(text):
    try:
        h, w = (int(x) for x in text.lower().split("x"))
        assert h > 0 and w > 0
        return h, w
    except (ValueError, AssertionError):
        sys.exit(f"error: --size {text}: expected HEIGHTxWIDTH such as 240x320")


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter, epilog=__doc__.split("\n\n", 1)[1])
    ap.add_argument("hpatches", nargs="?", help="HPatches-format folder (i_*/v_* sequences)")
    ap.add_argument("--detectors", default="orb,sift", help="comma-separated: orb, sift (default both)")
    ap.add_argument("--size", default="240x320", help="evaluation size HEIGHTxWIDTH (default 240x320)")
    ap.add_argument("--top-k", type=int, default=300, help="points per image used by the metrics (default 300)")
    ap.add_argument("--max-features", type=int, default=1500, help="nfeatures of the detectors (default 1500)")
    ap.add_argument("--split", default="all", choices=["all", "i", "v"], help="sequences to evaluate")
    ap.add_argument("--json", action="store_true", help="print settings, summaries and every pair as JSON")
    ap.add_argument("--check-fixture", nargs="?", const="", metavar="FILE",
                    help="check the metric code against the official eval.metrics fixture and exit")
    args = ap.parse_args()

    if args.check_fixture is not None:
        path = args.check_fixture or os.path.join(os.environ.get("KP2D_FIXTURES", "/work/shared/fixtures"),
                                                  "eval.metrics.safetensors")
        if not os.path.isfile(path):
            sys.exit(f"error: {path}: no such fixture; pass the eval.metrics.safetensors path or set KP2D_FIXTURES")
        sys.exit(0 if check_fixture(path) else 1)
    if not args.hpatches:
        ap.error("pass an HPatches-format folder (or --check-fixture)")
    args.height, args.width = parse_size(args.size)
    names = [d.strip().lower() for d in args.detectors.split(",") if d.strip()]
    if not names or any(d not in DETECTORS for d in names):
        sys.exit(f"error: --detectors {args.detectors}: choose from {', '.join(DETECTORS)}")
    if args.top_k <= 0 or args.max_features <= 0:
        sys.exit("error: --top-k and --max-features must be positive")

    pairs, problems = scan(args.hpatches, args.split)
    for p in problems:
        print(f"warning: {p}", file=sys.stderr)
    records = {d: [] for d in names}
    for seq, k, path1, path2, H in pairs:
        try:
            g1, g2, Hs = load_pair(path1, path2, H, args.width, args.height)
        except Problem as p:
            problems.append(f"{p} (pair {seq} 1-{k} left out)")
            print(f"warning: {problems[-1]}", file=sys.stderr)
            continue
        for d in names:
            make, norm = DETECTORS[d]
            det = make(args.max_features)
            r = evaluate_pair(detect(det, g1), detect(det, g2), Hs, args.width, args.height, args.top_k, norm)
            records[d].append(dict(sequence=seq, index=k, **r))
    if not any(records.values()):
        sys.exit(f"error: {args.hpatches}: no usable {'' if args.split == 'all' else args.split + '_ '}sequences; "
                 "expected folders i_*/v_* with 1.ppm..6.ppm and H_1_2..H_1_6")

    report = {"hpatches": args.hpatches, "opencv": cv2.__version__, "problems": problems,
              "settings": {"height": args.height, "width": args.width, "top_k": args.top_k,
                           "max_features": args.max_features, "split": args.split}, "detectors": {}}
    for d in names:
        splits = {"all": summary(records[d])}
        for s in ("i", "v"):
            sub = [r for r in records[d] if r["sequence"].startswith(s)]
            if sub:
                splits[s] = summary(sub)
        report["detectors"][d] = dict(splits, pairs=records[d])
        if not args.json:
            print(table(d, args.hpatches, args, splits, problems))
    if args.json:
        print(json.dumps(no_nan(report), indent=1))


if __name__ == "__main__":
    main()
