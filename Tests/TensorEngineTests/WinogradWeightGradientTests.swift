import TestSupport
import XCTest
@testable import TensorEngine

/// Winograd weight gradient (WinogradWeightGradientKernels), 2x2 and 4x4 tiles, against the naive twin: odd and even
/// sizes (partial tiles at the bottom and right), rows of 8-tile SIMD blocks with tails, chunks that end mid-row, 1 and
/// 2 workers, more workers than items, and dW ADDED into a pre-filled gradient; dx alongside stays right.
final class WinogradWeightGradientTests: XCTestCase {
    private var saved = (enabled: true, minChannels: 32, chunkFloats: 1 << 20, workers: 1, largeTileMinimum: 64)

    override func setUp() {
        saved = (WinogradWeightGradientKernels.enabled, WinogradWeightGradientKernels.minChannels,
                 WinogradWeightGradientKernels.chunkFloats, ConvKernels.workers, WinogradWeightGradientKernels.largeTileMinimum)
        WinogradWeightGradientKernels.enabled = true
        WinogradWeightGradientKernels.minChannels = 1
    }

    override func tearDown() {
        (WinogradWeightGradientKernels.enabled, WinogradWeightGradientKernels.minChannels,
         WinogradWeightGradientKernels.chunkFloats, ConvKernels.workers, WinogradWeightGradientKernels.largeTileMinimum) = saved
    }

    static let shapes = [
        Conv2dShape(n: 2, cin: 3, h: 9, w: 11, cout: 4, kh: 3, kw: 3, pad: 1),      // odd: partial last tile row and column
        Conv2dShape(n: 1, cin: 5, h: 1, w: 1, cout: 2, kh: 3, kw: 3, pad: 1),
        Conv2dShape(n: 2, cin: 16, h: 12, w: 10, cout: 24, kh: 3, kw: 3, pad: 1),
        Conv2dShape(n: 1, cin: 64, h: 7, w: 8, cout: 70, kh: 3, kw: 3, pad: 1),
        Conv2dShape(n: 2, cin: 6, h: 13, w: 40, cout: 5, kh: 3, kw: 3, pad: 1),     // 8-tile blocks + a tail of 4
        Conv2dShape(n: 3, cin: 4, h: 16, w: 37, cout: 3, kh: 3, kw: 3, pad: 1),     // odd width: block, then partial tiles
        Conv2dShape(n: 1, cin: 8, h: 10, w: 34, cout: 9, kh: 3, kw: 3, pad: 1),     // 17 tiles a row: 8 + 8 + 1
    ]

    /// Every shape through ConvKernels.backward (dW by the Winograd kernel with the tiles `tiles(s)` picks) and dW
    /// alone, against the naive twin, for several chunk sizes and worker counts.
    private func checkAgainstNaiveTwin(_ shapes: [Conv2dShape], tiles: WinogradWeightGradientKernels.Tiles,
                                       chunkFloats: Int, file: StaticString = #filePath, line: UInt = #line) {
        for (i, s) in shapes.enumerated() {
            XCTAssertTrue(WinogradWeightGradientKernels.applies(s), "\(s)", file: file, line: line)
            XCTAssertEqual(WinogradWeightGradientKernels.tiles(s), tiles, "\(s)", file: file, line: line)
            for (chunk, workers) in [(1 << 20, saved.workers), (chunkFloats, 2), (1, 2), (1, 1), (1 << 20, 3)] {
                WinogradWeightGradientKernels.chunkFloats = chunk; ConvKernels.workers = workers
                let c = ConvBackwardCase(s, seed: UInt64(300 + i))
                let (x, w, dy, dxF, dwF, dxN, dwN) = (c.x, c.w, c.dy, c.dxFast, c.dwFast, c.dxNaive, c.dwNaive)
                XCTAssertLessThan(relativeMaxError(dwF.array, dwN.array), 1e-5, "dw adds, \(s) chunk \(chunk) workers \(workers)",
                                  file: file, line: line)
                XCTAssertLessThan(relativeMaxError(dxF.array, dxN.array), 1e-5, "dx beside it, \(s)", file: file, line: line)
                // dW alone, into zeros: the gradient itself (not hidden by the pre-filled values).
                let dwOnly = Tensor(shape: w.shape), dwRef = Tensor(shape: w.shape)
                WinogradWeightGradientKernels.weightGradient(dwOnly.data, dy.data, x.data, s)
                ConvKernels.backwardNaive(nil, dwRef.data, nil, dy.data, x.data, w.data, s)
                XCTAssertLessThan(relativeMaxError(dwOnly.array, dwRef.array), 1e-5, "dw alone \(s) chunk \(chunk)",
                                  file: file, line: line)
            }
        }
    }

    func testWeightGradientAddsAndMatchesNaiveTwin() {
        WinogradWeightGradientKernels.largeTileMinimum = Int.max   // 2x2 tiles everywhere
        checkAgainstNaiveTwin(Self.shapes, tiles: .two, chunkFloats: 16 * 70 * 8)
    }

    /// The 4x4-tile variant F(3x3, 4x4) on the same shapes and on some with rows of 8-tile vector groups.
    func testLargeTileWeightGradientAddsAndMatchesNaiveTwin() {
        WinogradWeightGradientKernels.largeTileMinimum = 1   // 4x4 tiles everywhere
        checkAgainstNaiveTwin(Self.shapes + [
            Conv2dShape(n: 2, cin: 5, h: 13, w: 70, cout: 6, kh: 3, kw: 3, pad: 1),    // 16 vector tiles + 2, last row partial
            Conv2dShape(n: 1, cin: 9, h: 16, w: 64, cout: 11, kh: 3, kw: 3, pad: 1),   // whole tiles only
            Conv2dShape(n: 1, cin: 64, h: 12, w: 36, cout: 40, kh: 3, kw: 3, pad: 1),  // 9 tiles a row: 8 + 1
        ], tiles: .four, chunkFloats: 36 * 64 * 8)
    }

    func testLargeTilesWhereThereAreManyTiles() {
        let many = Conv2dShape(n: 1, cin: 64, h: 60, w: 80, cout: 64, kh: 3, kw: 3, pad: 1)   // 300 4x4 tiles
        let few = Conv2dShape(n: 1, cin: 256, h: 20, w: 24, cout: 256, kh: 3, kw: 3, pad: 1)  // 30
        XCTAssertEqual(WinogradWeightGradientKernels.tiles(many), .four)
        XCTAssertEqual(WinogradWeightGradientKernels.tiles(few), .two)
        WinogradWeightGradientKernels.usesLargeTiles = false
        defer { WinogradWeightGradientKernels.usesLargeTiles = true }
        XCTAssertEqual(WinogradWeightGradientKernels.tiles(many), .two)
    }

    func testResultDoesNotDependOnTiming() {
        let s = Conv2dShape(n: 3, cin: 8, h: 20, w: 36, cout: 12, kh: 3, kw: 3, pad: 1)
        WinogradWeightGradientKernels.chunkFloats = 16 * 12 * 24   // several items per worker
        ConvKernels.workers = 2
        var rnd = TestRandom(77)
        let x = rnd.tensor([s.n, s.cin, s.h, s.w]), dy = rnd.tensor([s.n, s.cout, s.ho, s.wo])
        let first = Tensor(shape: [s.cout, s.cin, 3, 3])
        WinogradWeightGradientKernels.weightGradient(first.data, dy.data, x.data, s)
        for _ in 0..<5 {
            let again = Tensor(shape: first.shape)
            WinogradWeightGradientKernels.weightGradient(again.data, dy.data, x.data, s)
            XCTAssertEqual(again.array, first.array)
        }
    }

    func testChunkingGivesEveryWorkerAnItem() {
        let s = Conv2dShape(n: 1, cin: 256, h: 30, w: 40, cout: 256, kh: 3, kw: 3, pad: 1)
        WinogradWeightGradientKernels.chunkFloats = 1 << 20
        let (perChunk, chunks) = WinogradWeightGradientKernels.chunking(s, workers: 2)
        XCTAssertGreaterThanOrEqual(chunks, 2)
        XCTAssertGreaterThanOrEqual(perChunk * chunks, 15 * 20)
        XCTAssertLessThan(perChunk * (chunks - 1), 15 * 20)
    }

    func testUsedOnlyForWide3x3Pad1() {
        WinogradWeightGradientKernels.minChannels = saved.minChannels   // the default: KeyPointNet's 3x3 layers but conv1a
        XCTAssertEqual(saved.minChannels, 32)
        XCTAssertTrue(WinogradWeightGradientKernels.applies(Conv2dShape(n: 1, cin: 64, h: 8, w: 8, cout: 64, kh: 3, kw: 3, pad: 1)))
        XCTAssertTrue(WinogradWeightGradientKernels.applies(Conv2dShape(n: 1, cin: 32, h: 8, w: 8, cout: 32, kh: 3, kw: 3, pad: 1)))
        XCTAssertTrue(WinogradWeightGradientKernels.applies(Conv2dShape(n: 1, cin: 32, h: 8, w: 8, cout: 64, kh: 3, kw: 3, pad: 1)))
        XCTAssertFalse(WinogradWeightGradientKernels.applies(Conv2dShape(n: 1, cin: 3, h: 8, w: 8, cout: 32, kh: 3, kw: 3, pad: 1)))
        XCTAssertFalse(WinogradWeightGradientKernels.applies(Conv2dShape(n: 1, cin: 64, h: 8, w: 8, cout: 64, kh: 3, kw: 3, pad: 0)))
        XCTAssertFalse(WinogradWeightGradientKernels.applies(Conv2dShape(n: 1, cin: 64, h: 8, w: 8, cout: 64, kh: 1, kw: 1, pad: 0)))
        WinogradWeightGradientKernels.enabled = false
        XCTAssertFalse(WinogradWeightGradientKernels.applies(Conv2dShape(n: 1, cin: 64, h: 8, w: 8, cout: 64, kh: 3, kw: 3, pad: 1)))
    }
}
