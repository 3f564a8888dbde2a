import XCTest
import Datasets
import TensorEngine

final class ImageOpsTests: XCTestCase {
    func testResizeKeepsConstantsAndAveragesWhenShrinking() {
        let flat = Image(width: 64, height: 48, channels: 3, pixels: [Float](repeating: 0.3, count: 64 * 48 * 3))
        let r = AntialiasResize.resize(flat, width: 20, height: 15)
        XCTAssertEqual(r.width, 20); XCTAssertEqual(r.height, 15)
        for v in r.pixels { XCTAssertEqual(v, 0.3, accuracy: 1e-5) }
        var checker = Image(width: 64, height: 64, channels: 1)
        for y in 0..<64 { for x in 0..<64 { checker.pixels[y * 64 + x] = (x + y) % 2 == 0 ? 1 : 0 } }
        let small = AntialiasResize.resize(checker, width: 16, height: 16)
        for y in 2..<14 { for x in 2..<14 { XCTAssertEqual(small.at(0, y, x), 0.5, accuracy: 0.05) } }
        let up = AntialiasResize.resize(smoothImage(width: 20, height: 10), width: 40, height: 20)
        XCTAssertEqual(up.width, 40)
    }

    func testFlipsAreInvolutionsAndIdentityAffineIsExact() {
        let img = smoothImage(width: 33, height: 21)
        XCTAssertEqual(SpatialAugmentation.flipHorizontal(SpatialAugmentation.flipHorizontal(img)), img)
        XCTAssertEqual(SpatialAugmentation.flipVertical(SpatialAugmentation.flipVertical(img)), img)
        XCTAssertEqual(SpatialAugmentation.flipHorizontal(img).at(1, 3, 0), img.at(1, 3, 32))
        XCTAssertEqual(SpatialAugmentation.affine(img, angle: 0, translation: (0, 0), scale: 1), img)
        let shifted = SpatialAugmentation.affine(img, angle: 0, translation: (3, 0), scale: 1)
        XCTAssertEqual(shifted.at(0, 5, 10), img.at(0, 5, 7))
        XCTAssertEqual(shifted.at(0, 5, 1), 0, "zero fill")
        let rotated = SpatialAugmentation.affine(img, angle: .pi / 2, translation: (0, 0), scale: 1)
        XCTAssertNotEqual(rotated, img)
    }

    func testPhotometricIdentityWhenDisabledAndGrayIsGray() {
        let img = smoothImage(width: 24, height: 16)
        var c = PhotometricConfig(); c.noiseProbability = 0; c.blurKernels = [0]; c.colorJitter = false
        var rng = SeededRandom(seed: 1)
        let same = PhotometricAugmentation.apply(img, order: [0, 1, 2], gray: false, config: c, rng: &rng)
        for (a, b) in zip(same.pixels, img.pixels) { XCTAssertEqual(a, b, accuracy: 1.0 / 255 + 1e-6) }
        let swapped = PhotometricAugmentation.apply(img, order: [2, 1, 0], gray: false, config: c, rng: &rng)
        XCTAssertEqual(swapped.at(0, 3, 4), img.at(2, 3, 4), accuracy: 1.0 / 255 + 1e-6)
        XCTAssertFalse(PhotometricConfig.official.colorJitter, "the official code applies a no-op ColorJitter()")
        var full = PhotometricConfig.official; full.noiseProbability = 1; full.blurKernels = [5]; full.colorJitter = true
        let gray = PhotometricAugmentation.apply(img, order: [0, 1, 2], gray: true, config: full, rng: &rng)
        for i in 0..<(24 * 16) {
            XCTAssertEqual(gray.pixels[i], gray.pixels[24 * 16 + i]); XCTAssertEqual(gray.pixels[i], gray.pixels[2 * 24 * 16 + i])
        }
        XCTAssertTrue(gray.pixels.allSatisfy { $0 >= 0 && $0 <= 1 })
        // Jitter alone changes a colour image but keeps it in range.
        var jitterOnly = c; jitterOnly.colorJitter = true
        let jittered = PhotometricAugmentation.apply(img, order: [0, 1, 2], gray: false, config: jitterOnly, rng: &rng)
        XCTAssertGreaterThan(zip(jittered.pixels, img.pixels).map { abs($0 - $1) }.max()!, 0.02)
        XCTAssertTrue(jittered.pixels.allSatisfy { $0 >= 0 && $0 <= 1 })
        // Blur smooths: a 5-tap blur lowers the total variation of a noisy image.
        var noisy = img
        var r2 = SeededRandom(seed: 5)
        for i in 0..<noisy.pixels.count { noisy.pixels[i] = Float(r2.uniform()) }
        var blurOnly = c; blurOnly.blurKernels = [5]
        let blurred = PhotometricAugmentation.apply(noisy, order: [0, 1, 2], gray: false, config: blurOnly, rng: &rng)
        func tv(_ im: Image) -> Float { (1..<im.pixels.count).reduce(0) { $0 + abs(im.pixels[$1] - im.pixels[$1 - 1]) } }
        XCTAssertLessThan(tv(blurred), tv(noisy) * 0.6)
    }

    func testPairIsReproducibleAndConsistentWithItsHomography() {
        var cfg = AugmentationConfig(height: 64, width: 96)
        cfg.photometric.enabled = false
        let decoded = smoothImage(width: 150, height: 100)
        var a = SeededRandom(seed: 9), b = SeededRandom(seed: 9)
        let p = PairAugmenter.makePair(from: decoded, config: cfg, rng: &a)
        let q = PairAugmenter.makePair(from: decoded, config: cfg, rng: &b)
        XCTAssertEqual(p.image, q.image); XCTAssertEqual(p.imageAug, q.imageAug); XCTAssertEqual(p.homography, q.homography)
        XCTAssertEqual(p.image.width, 96); XCTAssertEqual(p.image.height, 64); XCTAssertEqual(p.image.channels, 3)
        XCTAssertEqual(HomographyWarp.warp(p.image, homography: p.homography), p.imageAug)
    }
}
