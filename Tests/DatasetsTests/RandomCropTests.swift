import XCTest
import Datasets
import TensorEngine

final class RandomCropTests: XCTestCase {
    /// A photo whose pixel value encodes its position, so a crop's origin can be read back.
    func positional(_ w: Int, _ h: Int) -> Image {
        var img = Image(width: w, height: h, channels: 1)
        for y in 0..<h { for x in 0..<w { img.pixels[y * w + x] = Float(y * w + x) } }
        return img
    }

    func testCropsKeepTheAspectRatioTheScaleRangeAndStayInside() {
        let photo = positional(640, 427)
        var rng = SeededRandom(seed: 5)
        var sides = [Int]()
        for _ in 0..<200 {
            let c = PairAugmenter.randomCrop(photo, aspect: 192.0 / 128.0, minScale: 0.5, rng: &rng)
            // Largest 3:2 crop of 640x427 is 640x427 (427 * 1.5 = 640.5 -> width 640); side in [0.5, 1] of it.
            XCTAssertGreaterThanOrEqual(c.width, 320); XCTAssertLessThanOrEqual(c.width, 640)
            XCTAssertEqual(Double(c.width) / Double(c.height), 1.5, accuracy: 0.02)
            // The crop is a contiguous window of the photo: rows and columns step as in the photo.
            let x0 = Int(c.pixels[0]) % 640, y0 = Int(c.pixels[0]) / 640
            XCTAssertLessThanOrEqual(x0 + c.width, 640); XCTAssertLessThanOrEqual(y0 + c.height, 427)
            XCTAssertEqual(c.pixels[c.width * (c.height - 1) + c.width - 1], Float((y0 + c.height - 1) * 640 + x0 + c.width - 1))
            sides.append(c.width)
        }
        XCTAssertLessThan(sides.min()!, 360); XCTAssertGreaterThan(sides.max()!, 600)
        // Same seed, same crops; minScale 1 is the largest crop, centred only by chance.
        var a = SeededRandom(seed: 9), b = SeededRandom(seed: 9)
        XCTAssertEqual(PairAugmenter.randomCrop(photo, aspect: 1.5, minScale: 0.3, rng: &a),
                       PairAugmenter.randomCrop(photo, aspect: 1.5, minScale: 0.3, rng: &b))
        let full = PairAugmenter.randomCrop(positional(300, 200), aspect: 1.5, minScale: 1, rng: &a)
        XCTAssertEqual([full.width, full.height], [300, 200])
    }

    func testCropsAreOffByDefaultAndKeepTheTrainingSize() {
        var c = AugmentationConfig(height: 32, width: 48)
        XCTAssertNil(c.cropMinScale)
        let photo = positional(120, 80)
        var r1 = SeededRandom(seed: 3), r2 = SeededRandom(seed: 3)
        let p1 = PairAugmenter.makePair(from: photo, config: c, rng: &r1)
        c.cropMinScale = 0.5
        let p2 = PairAugmenter.makePair(from: photo, config: c, rng: &r2)
        XCTAssertEqual(p2.image.width, 48); XCTAssertEqual(p2.image.height, 32)
        XCTAssertNotEqual(p1.image, p2.image)
    }
}
