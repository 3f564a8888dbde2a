import Datasets
import XCTest

final class ImageResizeTests: XCTestCase {
    func testDownscaleByTwoAveragesPairs() {
        // Half-pixel centres: output pixel x samples source x*2 + 0.5, the mean of a 2x2 block.
        let img = Image(width: 4, height: 2, channels: 1, pixels: [0, 2, 4, 6, 8, 10, 12, 14])
        let r = img.resizedBilinear(width: 2, height: 1)
        XCTAssertEqual(r.pixels, [5, 9])
    }

    func testUpscaleMatchesOpenCVInterLinear() {
        // cv2.resize(np.float32([[0, 10]]), (4, 1), interpolation=INTER_LINEAR) == [0, 2.5, 7.5, 10]
        let img = Image(width: 2, height: 1, channels: 1, pixels: [0, 10])
        XCTAssertEqual(img.resizedBilinear(width: 4, height: 1).pixels, [0, 2.5, 7.5, 10])
    }

    func testChannelsStayPlanarAndIdentityIsExact() {
        let img = Image(width: 2, height: 2, channels: 3, pixels: (0..<12).map(Float.init))
        XCTAssertEqual(img.resizedBilinear(width: 2, height: 2), img)
        let up = img.resizedBilinear(width: 4, height: 4)
        XCTAssertEqual(up.channels, 3)
        XCTAssertEqual(up.at(2, 0, 0), 8)      // channel 2 starts at value 8 (top-left stays)
        XCTAssertEqual(up.at(2, 3, 3), 11)     // and ends at 11 (bottom-right stays)
    }

    func testGrayAndRGBConversions() {
        let gray = Image(width: 1, height: 1, channels: 1, pixels: [0.5])
        XCTAssertEqual(gray.asRGB().pixels, [0.5, 0.5, 0.5])
        let rgb = Image(width: 1, height: 1, channels: 3, pixels: [1, 0, 0])
        XCTAssertEqual(rgb.asGray().pixels[0], 0.299, accuracy: 1e-6)
    }
}
