import Datasets
import Distributed
import Foundation
import KP2D
@testable import TensorEngine
import Training
import XCTest

/// The single-process parts of data-parallel training: shards, control records, thread split.
final class ShardTests: XCTestCase {
    private func loader(count: Int, batch: Int, rank: Int, ranks: Int, seed: UInt64 = 3) throws -> BatchLoader {
        let folder = try ImageFolder(root: "/fake", paths: (0..<count).map { "/fake/img\($0).png" })
        return BatchLoader(folder: folder, augmentation: AugmentationConfig(height: 32, width: 48), batchSize: batch, seed: seed,
                           rank: rank, ranks: ranks, decode: { _ in Image(width: 40, height: 40, channels: 3) })
    }

    func testShardsAreDisjointAndCoverTheEpochLikeDistributedSampler() throws {
        for (count, ranks) in [(8, 2), (7, 2), (10, 3), (5, 4)] {
            let loaders = try (0..<ranks).map { try loader(count: count, batch: 1, rank: $0, ranks: ranks) }
            let perRank = (count + ranks - 1) / ranks
            for epoch in 0..<3 {
                let full = loaders[0].order(epoch: epoch)
                let shards = loaders.map { $0.shard(epoch: epoch) }
                for s in shards { XCTAssertEqual(s.count, perRank) }
                // Interleaved: position k of rank r is position k*N + r of the padded epoch order.
                for r in 0..<ranks { for k in 0..<perRank { XCTAssertEqual(shards[r][k], full[(k * ranks + r) % count]) } }
                // Every image is used; only the padding (total - count) repeats.
                XCTAssertEqual(Set(shards.flatMap { $0 }).count, count)
                if count % ranks == 0 { XCTAssertEqual(shards.flatMap { $0 }.count, Set(shards.flatMap { $0 }).count) }
            }
            XCTAssertEqual(loaders[0].stepsPerEpoch, max(1, perRank))
        }
    }

    func testOneRankIsTheSingleProcessStream() throws {
        let folder = try ImageFolder(root: "/fake", paths: (0..<5).map { "/fake/img\($0).png" })
        let plain = BatchLoader(folder: folder, augmentation: AugmentationConfig(height: 32, width: 48), batchSize: 2, seed: 9,
                                decode: { _ in Image(width: 40, height: 40, channels: 3) })
        let one = try loader(count: 5, batch: 2, rank: 0, ranks: 1, seed: 9)
        for step in 0..<5 {
            let a = try plain.makeBatch(step: step), b = try one.makeBatch(step: step)
            XCTAssertEqual(a.paths, b.paths); XCTAssertEqual(a.image.array, b.image.array); XCTAssertEqual(a.homography.array, b.homography.array)
        }
    }

    func testRanksDrawDifferentAugmentationsAndTheBatchIsAPureFunction() throws {
        // Same image everywhere: the pairs still differ between ranks (different global slots).
        let r0 = try loader(count: 4, batch: 1, rank: 0, ranks: 2), r1 = try loader(count: 4, batch: 1, rank: 1, ranks: 2)
        XCTAssertNotEqual(try r0.makeBatch(step: 3).homography.array, try r1.makeBatch(step: 3).homography.array)
        let again = try loader(count: 4, batch: 1, rank: 1, ranks: 2)
        XCTAssertEqual(try r1.makeBatch(step: 5).imageAug.array, try again.makeBatch(step: 5).imageAug.array)
    }

    func testStepControlRoundTripsBitForBit() {
        let c = StepControl(action: .train, step: 123_456_789_012, lossWeights: LossWeights(alpha: 0.1, beta: 2, lambda: .leastNonzeroMagnitude, gamma: 3.5),
                            baseLearningRate: 1e-3)
        XCTAssertEqual(StepControl(decoding: c.encoded()), c)
        XCTAssertEqual(StepControl(decoding: StepControl(action: .quit, step: 0, lossWeights: .official, baseLearningRate: 2).encoded())?.action, .quit)
        var bad = c.encoded(); bad[0] = 9
        XCTAssertNil(StepControl(decoding: bad))
        XCTAssertNil(StepControl(decoding: [1, 2, 3]))
    }

    func testLauncherDetectionAndThreadSplit() {
        XCTAssertFalse(Launcher.isActive([:]))
        XCTAssertTrue(Launcher.isActive(["OMPI_COMM_WORLD_SIZE": "2"]))
        XCTAssertTrue(Launcher.isActive(["PMI_SIZE": "4"]))
        XCTAssertEqual(KernelParallel.threadCount([:], cores: 2), 2)
        XCTAssertEqual(KernelParallel.threadCount(["OMPI_COMM_WORLD_LOCAL_SIZE": "2"], cores: 2), 1)
        XCTAssertEqual(KernelParallel.threadCount(["OMPI_COMM_WORLD_LOCAL_SIZE": "3"], cores: 8), 2)
        XCTAssertEqual(KernelParallel.threadCount(["OMPI_COMM_WORLD_LOCAL_SIZE": "2", "KP2D_THREADS": "4"], cores: 2), 4)
    }
}
