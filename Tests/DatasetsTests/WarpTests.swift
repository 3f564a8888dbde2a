import TestSupport
import XCTest
import Datasets
import TensorEngine
import Geometry

final class WarpTests: XCTestCase {
    /// grid_sample(bilinear, zeros, align_corners=True) on the op fixture's input and grid.
    func testBilinearSampleMatchesGridSampleFixture() throws {
        let path = try requireFixture("op.grid_sample_bilinear")
        let f = try SafeTensors.read(path)
        let input = try f.require("in.input"), grid = try f.require("in.grid").floats, out = try f.require("out.y").floats
        let (n, c, h, w) = (input.shape[0], input.shape[1], input.shape[2], input.shape[3])
        let gh = 6, gw = 7
        let values = input.floats
        var v = [Float](repeating: 0, count: c)
        for b in 0..<n {
            let img = Array(values[(b * c * h * w)..<((b + 1) * c * h * w)])
            img.withUnsafeBufferPointer { src in
                for i in 0..<gh { for j in 0..<gw {
                    let g = ((b * gh + i) * gw + j) * 2
                    HomographyWarp.sample(src, width: w, height: h, channels: c, xn: Double(grid[g]), yn: Double(grid[g + 1]), into: &v)
                    for ch in 0..<c {
                        XCTAssertEqual(v[ch], out[((b * c + ch) * gh + i) * gw + j], accuracy: 1e-5)
                    }
                } }
            }
        }
    }

    func testIdentityWarpIsExact() {
        let img = smoothImage(width: 40, height: 30)
        XCTAssertEqual(HomographyWarp.warp(img, homography: .identity), img)
    }

    /// source = warp(target, H): each source pixel holds the target's value at H(p). Warping the source
    /// back by H^-1 reproduces the target wherever the target point came from inside the source frame.
    func testWarpThenSampleBackIsConsistent() throws {
        let (w, h) = (96, 64)
        let target = smoothImage(width: w, height: h)
        var rng = SeededRandom(seed: 11)
        let hm = HomographySampler.sample(height: h, width: w, rng: &rng)
        let source = HomographyWarp.warp(target, homography: hm)
        // Direct check at pixel centres: source(p) == bilinear(target, H p).
        var v = [Float](repeating: 0, count: 3)
        target.pixels.withUnsafeBufferPointer { src in
            for (x, y) in [(0, 0), (10, 20), (95, 63), (50, 31)] {
                let xn = Double(x) / (Double(w - 1) / 2) - 1, yn = Double(y) / (Double(h - 1) / 2) - 1
                let p = hm.apply(Point2(xn, yn))
                HomographyWarp.sample(src, width: w, height: h, channels: 3, xn: p.x, yn: p.y, into: &v)
                for c in 0..<3 { XCTAssertEqual(source.at(c, y, x), v[c], accuracy: 1e-6) }
            }
        }
        // The round trip: back = warp(source, H^-1) ~ target on pixels whose preimage is inside the source.
        let inv = try XCTUnwrap(hm.inverse())
        let back = HomographyWarp.warp(source, homography: inv)
        var checked = 0, maxErr: Float = 0
        for y in 0..<h { for x in 0..<w {
            let xn = Double(x) / (Double(w - 1) / 2) - 1, yn = Double(y) / (Double(h - 1) / 2) - 1
            let q = inv.apply(Point2(xn, yn))
            guard abs(q.x) < 0.97, abs(q.y) < 0.97 else { continue }
            checked += 1
            for c in 0..<3 { maxErr = max(maxErr, abs(back.at(c, y, x) - target.at(c, y, x))) }
        } }
        XCTAssertGreaterThan(checked, w * h / 5)
        XCTAssertLessThan(maxErr, 0.06, "two bilinear resamplings of a smooth image stay close")
        // Pixels whose preimage is outside the source are zero in the source (zeros padding).
        let far = HomographyWarp.warp(target, homography: Homography([1, 0, 3, 0, 1, 0, 0, 0, 1]))
        XCTAssertEqual(far.pixels.max(), 0)
    }
}

final class SyntheticPairsTests: XCTestCase {
    /// Each source image is the target bilinearly sampled at H applied to the source pixel's normalised position.
    func testSourceIsAWarpOfTheTarget() {
        var rng = SeededRandom(seed: 4)
        let (image, aug, hom) = SyntheticPairs.batch(2, height: 64, width: 96, rng: &rng)
        XCTAssertEqual(image.shape, [2, 3, 64, 96])
        XCTAssertEqual(aug.shape, image.shape)
        XCTAssertEqual(hom.shape, [2, 3, 3])
        XCTAssertTrue(image.array.allSatisfy { $0 >= 0 && $0 <= 1 })
        for b in 0..<2 {
            let sx: Float = 48, sy: Float = 32
            let xn = sx / (95 / 2) - 1, yn = sy / (63 / 2) - 1
            let w = hom[b, 2, 0] * xn + hom[b, 2, 1] * yn + hom[b, 2, 2]
            let u = (hom[b, 0, 0] * xn + hom[b, 0, 1] * yn + hom[b, 0, 2]) / w
            let v = (hom[b, 1, 0] * xn + hom[b, 1, 1] * yn + hom[b, 1, 2]) / w
            let x = (u + 1) * 95 / 2, y = (v + 1) * 63 / 2
            let (x0, y0) = (Int(x.rounded(.down)), Int(y.rounded(.down)))
            let (fx, fy) = (x - Float(x0), y - Float(y0))
            var expected: Float = 0
            for (dy, wy) in [(0, 1 - fy), (1, fy)] {
                for (dx, wx) in [(0, 1 - fx), (1, fx)] {
                    let (yy, xx) = (y0 + dy, x0 + dx)
                    if yy >= 0 && yy < 64 && xx >= 0 && xx < 96 { expected += wx * wy * image[b, 0, yy, xx] }
                }
            }
            XCTAssertEqual(aug[b, 0, 32, 48], expected, accuracy: 1e-4)
        }
    }
}
