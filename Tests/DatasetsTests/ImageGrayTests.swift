import Datasets
import XCTest

final class ImageGrayTests: XCTestCase {
    func testLuminanceWeightsAndGrayUnchanged() {
        let rgb = Image(width: 2, height: 1, channels: 3, pixels: [1, 0,  0, 1,  0, 1])
        let g = rgb.asGray()
        XCTAssertEqual(g.channels, 1)
        XCTAssertEqual(g.pixels[0], 0.299, accuracy: 1e-6)
        XCTAssertEqual(g.pixels[1], 0.587 + 0.114, accuracy: 1e-6)
        XCTAssertEqual(g.asGray(), g)
    }
}
