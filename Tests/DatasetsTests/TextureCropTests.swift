import XCTest
import Datasets
import TensorEngine

final class TextureCropTests: XCTestCase {
    /// 600x400 RGB: the left half flat gray, the right half a checkerboard of 24-px squares (still 2-4 px squares
    /// after the box resampling to 48x32 that the tests use).
    func halfTextured() -> Image {
        let w = 600, h = 400
        var img = Image(width: w, height: h, channels: 3)
        for c in 0..<3 { for y in 0..<h { for x in 0..<w {
            img.pixels[(c * h + y) * w + x] = x < w / 2 ? 0.5 : (((x / 24) + (y / 24)) % 2 == 0 ? 0.1 : 0.9)
        } } }
        return img
    }

    func testSharesOfFlatAndTexturedWindows() {
        let lum = TextureCrop.LuminanceSums(halfTextured())
        XCTAssertEqual(TextureCrop.texturedShare(lum, x: 0, y: 0, width: 300, height: 200, outWidth: 48, outHeight: 32), 0)
        XCTAssertEqual(TextureCrop.texturedShare(lum, x: 300, y: 100, width: 300, height: 200, outWidth: 48, outHeight: 32), 1)
        // Straddling the edge: the cells on the textured side count (3 of 6 columns), and the one whose last difference crosses the edge.
        let half = TextureCrop.texturedShare(lum, x: 150, y: 0, width: 300, height: 200, outWidth: 48, outHeight: 32)
        XCTAssertGreaterThanOrEqual(half, 0.5); XCTAssertLessThanOrEqual(half, 4.0 / 6)   // 3 of 6 cell columns, + the edge cell
    }

    func testTheChoiceIsTheMostTexturedCandidateAndDeterministicPerSeed() {
        let photo = halfTextured()
        var chosenRight = 0
        for seed in UInt64(0)..<20 {
            var a = SeededRandom(seed: seed), b = SeededRandom(seed: seed)
            let ca = TextureCrop.choose(photo, aspect: 1.5, minScale: 0.5, candidates: 4, outWidth: 48, outHeight: 32, rng: &a)
            let cb = TextureCrop.choose(photo, aspect: 1.5, minScale: 0.5, candidates: 4, outWidth: 48, outHeight: 32, rng: &b)
            XCTAssertEqual(ca.best, cb.best); XCTAssertEqual(ca.windows, cb.windows); XCTAssertEqual(ca.shares, cb.shares)
            XCTAssertEqual(a.next(), b.next())                   // the generator advanced the same way
            XCTAssertEqual(ca.shares[ca.best], ca.shares.max()!)
            XCTAssertEqual(ca.shares.firstIndex(of: ca.shares.max()!), ca.best)   // first on ties
            // The candidates are the plain random windows, in order.
            var r = SeededRandom(seed: seed)
            XCTAssertEqual(ca.windows, (0..<4).map { _ in PairAugmenter.randomWindow(photo, aspect: 1.5, minScale: 0.5, rng: &r) })
            let w = ca.windows[ca.best]
            if w.x + w.width / 2 >= 300 { chosenRight += 1 }
        }
        XCTAssertGreaterThanOrEqual(chosenRight, 16)   // 1 - (1/2)^4 of the seeds expected
        // Plain random crops are centred on the right half about half of the time.
        var r = SeededRandom(seed: 1), plainRight = 0
        for _ in 0..<200 {
            let w = PairAugmenter.randomWindow(photo, aspect: 1.5, minScale: 0.5, rng: &r)
            if w.x + w.width / 2 >= 300 { plainRight += 1 }
        }
        XCTAssertLessThan(plainRight, 150)
    }

    func testMakePairWithTextureCropsIsDeterministicAndOffByDefault() {
        var c = AugmentationConfig(height: 32, width: 48)
        XCTAssertNil(c.cropTextureCandidates)
        let photo = halfTextured()
        c.cropTextureCandidates = 6
        var r1 = SeededRandom(seed: 11), r2 = SeededRandom(seed: 11)
        let p1 = PairAugmenter.makePair(from: photo, config: c, rng: &r1)
        let p2 = PairAugmenter.makePair(from: photo, config: c, rng: &r2)
        XCTAssertEqual(p1.image, p2.image); XCTAssertEqual(p1.imageAug, p2.imageAug)
        XCTAssertEqual([p1.image.width, p1.image.height], [48, 32])
        // K = 1 is a plain random crop at the default scale range.
        var one = AugmentationConfig(height: 32, width: 48); one.cropTextureCandidates = 1
        var plain = AugmentationConfig(height: 32, width: 48); plain.cropMinScale = TextureCrop.defaultMinScale
        var r3 = SeededRandom(seed: 4), r4 = SeededRandom(seed: 4)
        XCTAssertEqual(PairAugmenter.makePair(from: photo, config: one, rng: &r3).image,
                       PairAugmenter.makePair(from: photo, config: plain, rng: &r4).image)
        // The option is part of the config a checkpoint stores, and old configs (without it) still decode.
        let data = try! JSONEncoder().encode(c)
        XCTAssertEqual(try! JSONDecoder().decode(AugmentationConfig.self, from: data).cropTextureCandidates, 6)
        var old = try! JSONSerialization.jsonObject(with: data) as! [String: Any]
        old.removeValue(forKey: "cropTextureCandidates")
        let oldData = try! JSONSerialization.data(withJSONObject: old)
        XCTAssertNil(try! JSONDecoder().decode(AugmentationConfig.self, from: oldData).cropTextureCandidates)
    }
}
