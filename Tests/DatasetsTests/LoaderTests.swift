import XCTest
import Foundation
import Datasets
import TensorEngine

/// Collects warnings from the loader thread.
final class WarningBox: @unchecked Sendable {
    private let lock = NSLock()
    private var items: [String] = []
    func add(_ s: String) { lock.lock(); items.append(s); lock.unlock() }
    var all: [String] { lock.lock(); defer { lock.unlock() }; return items }
}

/// A decoder that makes an image from the file name: "bad*" throws, "tiny*" is 8x8, else a pattern.
let fakeDecoder: BatchLoader.Decoder = { path in
    let name = (path as NSString).lastPathComponent
    if name.hasPrefix("bad") { throw ImageIOError.unreadable(path: path, reason: "not an image") }
    if name.hasPrefix("tiny") { return Image(width: 8, height: 8, channels: 3) }
    return smoothImage(width: 80, height: 60, phase: Double(name.count) + Double(name.unicodeScalars.first!.value))
}

final class LoaderTests: XCTestCase {
    func testFolderScanIsRecursiveSortedAndFiltersExtensions() throws {
        let dir = try makeTempDir()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try FileManager.default.createDirectory(atPath: dir + "/sub/deeper", withIntermediateDirectories: true)
        for f in ["b.png", "a.JPG", "sub/c.jpeg", "sub/deeper/d.ppm", "notes.txt", ".hidden.png", "sub/e.pgm"] {
            FileManager.default.createFile(atPath: dir + "/" + f, contents: Data([1, 2, 3]))
        }
        let folder = try ImageFolder(root: dir)
        XCTAssertEqual(folder.paths.map { String($0.dropFirst(dir.count + 1)) }.sorted(),
                       ["a.JPG", "b.png", "sub/c.jpeg", "sub/deeper/d.ppm", "sub/e.pgm"])
        XCTAssertEqual(folder.paths, folder.paths.sorted())
    }

    func testEmptyAndMissingFoldersAreClearErrors() throws {
        let dir = try makeTempDir()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        FileManager.default.createFile(atPath: dir + "/readme.txt", contents: Data())
        XCTAssertThrowsError(try ImageFolder(root: dir)) { e in
            XCTAssertEqual(e as? DatasetError, .empty(path: dir))
            XCTAssertTrue("\(e)".contains("no PNG, JPEG or PPM images"))
        }
        XCTAssertThrowsError(try ImageFolder(root: dir + "/nope")) { XCTAssertEqual($0 as? DatasetError, .notFound(path: dir + "/nope")) }
        XCTAssertThrowsError(try ImageFolder(root: dir + "/readme.txt")) { XCTAssertEqual($0 as? DatasetError, .notAFolder(path: dir + "/readme.txt")) }
    }

    private func loader(_ names: [String], batch: Int = 2, seed: UInt64 = 5, start: Int = 0, warnings: WarningBox = WarningBox()) throws -> BatchLoader {
        let folder = try ImageFolder(root: "/fake", paths: names.map { "/fake/" + $0 })
        var aug = AugmentationConfig(height: 32, width: 48)
        aug.photometric.noiseProbability = 0.5
        return BatchLoader(folder: folder, augmentation: aug, batchSize: batch, seed: seed, startStep: start,
                           decode: fakeDecoder, warn: { warnings.add($0) })
    }

    func testBatchesHaveTheRightShapesAndRange() throws {
        let l = try loader(["a.png", "b.png", "c.png", "d.png", "e.png"])
        XCTAssertEqual(l.stepsPerEpoch, 2)
        let b = try l.next()
        XCTAssertEqual(b.image.shape, [2, 3, 32, 48]); XCTAssertEqual(b.imageAug.shape, [2, 3, 32, 48])
        XCTAssertEqual(b.homography.shape, [2, 3, 3])
        XCTAssertTrue(b.image.array.allSatisfy { $0 >= 0 && $0 <= 1 })
        XCTAssertEqual(b.homography[1, 2, 2], 1)
        XCTAssertEqual(Float(b.homographies[1].m[1]), b.homography[1, 0, 1])
        XCTAssertEqual(b.step, 0); XCTAssertEqual(b.epoch, 0)
        let b2 = try l.next(), b3 = try l.next()
        XCTAssertEqual(b2.step, 1); XCTAssertEqual(b3.epoch, 1)
        // Within an epoch no file repeats.
        XCTAssertEqual(Set(b.paths + b2.paths).count, 4)
        l.stop()
    }

    func testReproducibleFromTheSeedAndResumableAtAnyStep() throws {
        let names = (0..<7).map { "img\($0).png" }
        let a = try loader(names, seed: 21), b = try loader(names, seed: 21), c = try loader(names, seed: 22)
        let resumed = try loader(names, seed: 21, start: 4)
        var seqA: [TrainingBatch] = []
        for _ in 0..<6 { seqA.append(try a.next()) }
        for i in 0..<6 {
            let x = try b.next()
            XCTAssertEqual(x.image.array, seqA[i].image.array); XCTAssertEqual(x.imageAug.array, seqA[i].imageAug.array)
            XCTAssertEqual(x.paths, seqA[i].paths)
        }
        XCTAssertNotEqual(try c.next().image.array, seqA[0].image.array)
        let r = try resumed.next()
        XCTAssertEqual(r.step, 4)
        XCTAssertEqual(r.image.array, seqA[4].image.array); XCTAssertEqual(r.homographies, seqA[4].homographies)
        for l in [a, b, c, resumed] { l.stop() }
    }

    /// With whole photos the loader keeps each photo at the training size and decodes every file once; with crops
    /// (a draw per pair) it decodes every time. The batches are the same as a cold loader's (the resumed loader
    /// above starts with nothing kept).
    func testWholePhotosAreDecodedOnceAndCropsEveryTime() throws {
        let names = (0..<4).map { "img\($0).png" }
        let folder = try ImageFolder(root: "/fake", paths: names.map { "/fake/" + $0 })
        for crops in [false, true] {
            let counts = WarningBox()
            var aug = AugmentationConfig(height: 32, width: 48)
            if crops { aug.cropMinScale = 0.5 }
            let l = BatchLoader(folder: folder, augmentation: aug, batchSize: 2, seed: 3,
                                decode: { counts.add($0); return try fakeDecoder($0) })
            var batches: [TrainingBatch] = []
            for step in 0..<6 { batches.append(try l.makeBatch(step: step)) }
            XCTAssertEqual(counts.all.count, crops ? 12 : 4, crops ? "crops: one decode per pair" : "whole photos: one decode per file")
            let cold = BatchLoader(folder: folder, augmentation: aug, batchSize: 2, seed: 3, startStep: 5, decode: fakeDecoder)
            let b = try cold.makeBatch(step: 5)
            XCTAssertEqual(b.image.array, batches[5].image.array)
            XCTAssertEqual(b.imageAug.array, batches[5].imageAug.array)
        }
    }

    func testUnreadableAndTinyImagesAreSkippedWithOneWarningEach() throws {
        let box = WarningBox()
        let l = try loader(["bad1.png", "good1.png", "tiny1.png", "good2.png", "bad2.jpg", "good3.png"], batch: 2, warnings: box)
        var used = Set<String>()
        for _ in 0..<12 { used.formUnion(try l.next().paths) }
        l.stop()
        XCTAssertEqual(used, ["/fake/good1.png", "/fake/good2.png", "/fake/good3.png"])
        let w = box.all
        XCTAssertEqual(w.count, 3, "one warning per bad file: \(w)")
        XCTAssertEqual(w.filter { $0.contains("bad1.png") }.count, 1)
        XCTAssertEqual(w.filter { $0.contains("tiny1.png") && $0.contains("smaller") }.count, 1)
    }

    func testAllUnreadableIsAClearError() throws {
        let l = try loader(["bad1.png", "tiny.png"], batch: 1)
        XCTAssertThrowsError(try l.next()) { e in
            XCTAssertEqual(e as? DatasetError, .noReadableImages(path: "/fake", tried: 2))
            XCTAssertTrue("\(e)".contains("could be decoded"))
        }
        l.stop()
    }

    func testFewerImagesThanTheBatchRepeatImages() throws {
        let l = try loader(["one.png"], batch: 3)
        XCTAssertEqual(l.stepsPerEpoch, 1)
        let b = try l.next()
        XCTAssertEqual(b.paths, ["/fake/one.png", "/fake/one.png", "/fake/one.png"])
        XCTAssertNotEqual(b.homographies[0], b.homographies[1], "each slot gets its own augmentation")
        l.stop()
    }
}

final class LoaderFileTests: XCTestCase {
    /// The real decoder on files: a corrupt PNG and a 10x10 image are skipped with one warning each.
    func testRealFilesCorruptAndTinyAreSkipped() throws {
        let dir = try makeTempDir()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try ImageIO.savePNG(smoothImage(width: 64, height: 48), to: dir + "/good.png")
        try ImageIO.savePPM(smoothImage(width: 40, height: 40, phase: 1), to: dir + "/good2.ppm")
        try ImageIO.savePNG(smoothImage(width: 10, height: 10), to: dir + "/tiny.png")
        FileManager.default.createFile(atPath: dir + "/broken.jpg", contents: Data("not a jpeg".utf8))
        let box = WarningBox()
        let l = BatchLoader(folder: try ImageFolder(root: dir), augmentation: AugmentationConfig(height: 32, width: 48),
                            batchSize: 2, seed: 1, warn: { box.add($0) })
        var used = Set<String>()
        for _ in 0..<6 { used.formUnion(try l.next().paths.map { ($0 as NSString).lastPathComponent }) }
        l.stop()
        XCTAssertEqual(used, ["good.png", "good2.ppm"])
        XCTAssertEqual(box.all.count, 2, "\(box.all)")
        XCTAssertEqual(box.all.filter { $0.contains("broken.jpg") }.count, 1)
        XCTAssertEqual(box.all.filter { $0.contains("tiny.png") }.count, 1)
    }
}
