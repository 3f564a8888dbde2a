import Foundation
import Geometry
import TensorEngine

// Training batches made ahead of the trainer on a background thread (bounded queue), so a step never
// waits on decoding. The batch for global step s is a pure function of (seed, s): epoch e = s / steps
// per epoch visits the files in a seeded shuffle of epoch e, and each pair's augmentation uses a
// generator seeded from (seed, s, slot). A resumed run therefore sees exactly the batches it would have.
// Like the official DataLoader (drop_last=True) an epoch has count / B steps; a folder with fewer than
// B images makes one step per epoch that repeats images.
// Data-parallel runs (N ranks): like PyTorch's DistributedSampler, each epoch's shuffled order is padded
// (repeating its start) to a multiple of N and rank r takes positions r, r+N, r+2N, ...: disjoint shards
// of ceil(count/N) images, steps per epoch = ceil(count/N) / B. The batch of (seed, step, rank, N) is a
// pure function of them; N = 1 is exactly the single-process stream.

public struct TrainingBatch: @unchecked Sendable {
    public let step: Int
    public let epoch: Int
    /// (B,3,H,W) target images in [0,1].
    public let image: Tensor
    /// (B,3,H,W) source images in [0,1].
    public let imageAug: Tensor
    /// (B,3,3) float32, normalised source -> target.
    public let homography: Tensor
    /// The same homographies in Double.
    public let homographies: [Homography]
    public let paths: [String]
    /// Batch element 0 as images (for previews).
    public let first: TrainingPair
}

public final class BatchLoader: @unchecked Sendable {
    public typealias Decoder = @Sendable (String) throws -> Image
    public static let minimumSide = 16

    public let folder: ImageFolder
    public let augmentation: AugmentationConfig
    public let batchSize: Int
    public let seed: UInt64
    /// This process's shard: rank `rank` of `ranks` (0 of 1 in a single-process run).
    public let rank: Int
    public let ranks: Int
    /// Images in this rank's share of an epoch (DistributedSampler's num_samples).
    public var shardCount: Int { (folder.count + ranks - 1) / ranks }
    public var stepsPerEpoch: Int { max(1, shardCount / batchSize) }

    private let decode: Decoder
    private let warn: @Sendable (String) -> Void
    private let capacity: Int
    private let cond = NSCondition()
    private var queue: [TrainingBatch] = []
    private var failure: Error?
    private var stopped = false
    private var nextStep: Int
    private var thread: Thread?
    private var badPaths = Set<String>()   // loader thread only
    private var orderCache: (epoch: Int, order: [Int])?
    /// Photos at the training size, by path (loader thread only), when the augmentation uses whole photos
    /// (`PairAugmenter.usesWholePhoto`): decoding and resizing them again at every use was ~5% of the CPU samples of
    /// `fast` training on the bundled 8 photos. Filled up to `trainingSizeCacheBytes`; photos beyond it are decoded
    /// each time.
    private var trainingSizeCache: [String: Image] = [:]
    private var trainingSizeCacheUsed = 0
    static let trainingSizeCacheBytes = 512 << 20

    /// `warn` is called (on the loader thread) once per unreadable or tiny file.
    public init(folder: ImageFolder, augmentation: AugmentationConfig, batchSize: Int, seed: UInt64,
                startStep: Int = 0, prefetch: Int = 3, rank: Int = 0, ranks: Int = 1,
                decode: @escaping Decoder = { try ImageIO.load($0) },
                warn: @escaping @Sendable (String) -> Void = { FileHandle.standardError.write(Data(("warning: " + $0 + "\n").utf8)) }) {
        precondition(batchSize >= 1, "batch size must be at least 1")
        precondition(ranks >= 1 && rank >= 0 && rank < ranks, "rank \(rank) of \(ranks)")
        self.rank = rank; self.ranks = ranks
        self.folder = folder; self.augmentation = augmentation; self.batchSize = batchSize; self.seed = seed
        self.decode = decode; self.warn = warn; self.capacity = max(1, prefetch); self.nextStep = startStep
    }

    deinit { stop() }

    /// Start the background thread (idempotent).
    public func start() {
        cond.lock(); defer { cond.unlock() }
        guard thread == nil else { return }
        thread = NamedThread.start("kp2d.loader", stackSize: 8 << 20) { [weak self] in self?.run() }
    }

    /// The next batch in step order, waiting for it if needed. Throws if the data cannot be read.
    public func next() throws -> TrainingBatch {
        start()
        cond.lock(); defer { cond.unlock() }
        while queue.isEmpty && failure == nil && !stopped { cond.wait() }
        if !queue.isEmpty {
            let b = queue.removeFirst()
            cond.broadcast()
            return b
        }
        if let f = failure { throw f }
        throw CancellationError()
    }

    /// Number of batches ready.
    public var ready: Int { cond.lock(); defer { cond.unlock() }; return queue.count }

    public func stop() {
        cond.lock(); stopped = true; cond.broadcast(); cond.unlock()
    }

    private func run() {
        while true {
            cond.lock()
            while queue.count >= capacity && !stopped { cond.wait() }
            if stopped || failure != nil { cond.unlock(); return }
            let step = nextStep
            cond.unlock()
            do {
                let batch = try makeBatch(step: step)
                cond.lock()
                queue.append(batch); nextStep += 1
                cond.broadcast(); cond.unlock()
            } catch {
                cond.lock(); failure = error; cond.broadcast(); cond.unlock()
                return
            }
        }
    }

    // MARK: deterministic batch construction

    static func mix(_ a: UInt64, _ b: UInt64) -> UInt64 {
        var r = SeededRandom(seed: a ^ (b &* 0x9E37_79B9_7F4A_7C15 &+ 0x632B_E59B_D9B4_E019))
        return r.next()
    }

    /// The file order of an epoch (seeded Fisher-Yates).
    public func order(epoch: Int) -> [Int] {
        if let c = orderCache, c.epoch == epoch { return c.order }
        var rng = SeededRandom(seed: BatchLoader.mix(seed, 0x0E90_C000_0000_0000 | UInt64(epoch)))
        var o = Array(0..<folder.count)
        for i in stride(from: o.count - 1, to: 0, by: -1) { o.swapAt(i, rng.int(i + 1)) }
        orderCache = (epoch, o)
        return o
    }

    /// This rank's share of an epoch's order (DistributedSampler: pad to a multiple of N, every N-th).
    public func shard(epoch: Int) -> [Int] {
        let full = order(epoch: epoch)
        guard ranks > 1, !full.isEmpty else { return full }
        let total = shardCount * ranks
        return stride(from: rank, to: total, by: ranks).map { full[$0 % full.count] }
    }

    /// The photo at position `k` of the epoch order at the training size (`PairAugmenter.trainingSizePhoto`, whose
    /// crop draws, if any, come from `rng`), moving on to the next position past unreadable or tiny files (each
    /// reported once). With whole photos the result is kept in `trainingSizeCache` and reused.
    private func photoAt(_ k: Int, order: [Int], rng: inout SeededRandom) throws -> (String, Image) {
        let n = order.count
        let keep = PairAugmenter.usesWholePhoto(augmentation)
        for j in 0..<n {
            let path = folder.paths[order[(k + j) % n]]
            if badPaths.contains(path) { continue }
            if keep, let kept = trainingSizeCache[path] { return (path, kept) }
            do {
                let img = try decode(path)
                guard img.width >= BatchLoader.minimumSide, img.height >= BatchLoader.minimumSide else {
                    badPaths.insert(path)
                    warn("\(path): \(img.width)x\(img.height) is smaller than \(BatchLoader.minimumSide) px, skipped")
                    continue
                }
                guard img.channels == 1 || img.channels == 3 else {
                    badPaths.insert(path)
                    warn("\(path): \(img.channels) channels, skipped")
                    continue
                }
                let photo = PairAugmenter.trainingSizePhoto(img, config: augmentation, rng: &rng)
                let bytes = photo.pixels.count * MemoryLayout<Float>.stride
                if keep, trainingSizeCacheUsed + bytes <= BatchLoader.trainingSizeCacheBytes {
                    trainingSizeCache[path] = photo
                    trainingSizeCacheUsed += bytes
                }
                return (path, photo)
            } catch {
                badPaths.insert(path)
                warn("\(error), skipped")
            }
        }
        throw DatasetError.noReadableImages(path: folder.root, tried: n)
    }

    /// The batch of a global step. Called by the loader thread; call it directly only on a loader that was
    /// never started (it is not safe alongside the thread).
    public func makeBatch(step: Int) throws -> TrainingBatch {
        let epoch = step / stepsPerEpoch, position = step % stepsPerEpoch
        let order = shard(epoch: epoch)
        let h = augmentation.height, w = augmentation.width, plane = 3 * h * w
        let image = Tensor(shape: [batchSize, 3, h, w]), imageAug = Tensor(shape: [batchSize, 3, h, w])
        let hom = Tensor(shape: [batchSize, 3, 3])
        var homs: [Homography] = [], paths: [String] = [], first: TrainingPair?
        for slot in 0..<batchSize {
            // Slot within the global batch, so ranks draw different augmentations (rank 0 = single process).
            let globalSlot = rank * batchSize + slot
            var rng = SeededRandom(seed: BatchLoader.mix(BatchLoader.mix(seed, UInt64(step)), UInt64(globalSlot)))
            let (path, photo) = try photoAt(position * batchSize + slot, order: order, rng: &rng)
            let pair = PairAugmenter.makePair(fromTrainingSize: photo, config: augmentation, rng: &rng)
            pair.image.pixels.withUnsafeBufferPointer { image.data.advanced(by: slot * plane).update(from: $0.baseAddress!, count: plane) }
            pair.imageAug.pixels.withUnsafeBufferPointer { imageAug.data.advanced(by: slot * plane).update(from: $0.baseAddress!, count: plane) }
            for i in 0..<9 { hom.data[slot * 9 + i] = Float(pair.homography.m[i]) }
            homs.append(pair.homography); paths.append(path)
            if slot == 0 { first = pair }
        }
        return TrainingBatch(step: step, epoch: epoch, image: image, imageAug: imageAug, homography: hom,
                             homographies: homs, paths: paths, first: first!)
    }
}
