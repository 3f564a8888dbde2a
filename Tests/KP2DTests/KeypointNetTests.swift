import Foundation
import NN
import TensorEngine
import XCTest
@testable import KP2D

final class KeypointNetTests: XCTestCase {
    private func makeNet(_ config: KeypointNetConfig = .reduced, seed: UInt64 = 1) -> KeypointNet {
        var rng = SeededRandom(seed: seed)
        return KeypointNet(config: config, rng: &rng)
    }

    private func tempPath(_ name: String) -> String {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("kp2d-kpn-tests-\(getpid())")
        try? FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        return dir.appendingPathComponent(name).path
    }

    // MARK: structure

    func testPaperStateDictMatchesOfficialKeysOrderAndSize() {
        let net = makeNet(.paper)
        let keys = net.stateEntries().map { $0.key }
        XCTAssertEqual(keys.count, 84)   // fixtures README 3.4: 84 state_dict entries
        XCTAssertEqual(Array(keys.prefix(6)), ["conv1a.0.weight", "conv1a.1.weight", "conv1a.1.bias",
                                               "conv1a.1.running_mean", "conv1a.1.running_var", "conv1a.1.num_batches_tracked"])
        XCTAssertEqual(Array(keys.suffix(2)), ["convFbb.weight", "convFbb.bias"])
        let order = keys.map { String($0.split(separator: ".")[0]) }.reduce(into: [String]()) { if $0.last != $1 { $0.append($1) } }
        XCTAssertEqual(order, ["conv1a", "conv1b", "conv2a", "conv2b", "conv3a", "conv3b", "conv4a", "conv4b",
                               "convDa", "convDb", "convPa", "convPb", "convFa", "convFb", "convFaa", "convFbb"])
        XCTAssertEqual(net.parameterCount, 5_312_227)   // n_parameters of the official class (full_eval config)
        XCTAssertEqual(net.stateEntries().filter { if case .counter = $0.kind { return true }; return false }.count, 13)
        let shapes = Dictionary(uniqueKeysWithValues: net.stateEntries().map { ($0.key, $0.tensor.shape) })
        XCTAssertEqual(shapes["convFb.0.weight"], [512, 256, 3, 3])
        XCTAssertEqual(shapes["convFaa.0.weight"], [256, 256, 3, 3])
        XCTAssertEqual(shapes["convFbb.weight"], [256, 256, 3, 3])
        XCTAssertEqual(shapes["convDb.weight"], [1, 256, 3, 3])
        XCTAssertEqual(shapes["convPb.bias"], [2])
        XCTAssertNil(shapes["conv1a.0.bias"])
    }

    func testConfigValidationAndPresets() {
        XCTAssertNil(KeypointNetConfig.paper.problem)
        XCTAssertNil(KeypointNetConfig.reduced.problem)
        XCTAssertNil(KeypointNetConfig.half.problem)
        XCTAssertEqual(KeypointNetConfig.preset(named: "REDUCED"), .reduced)
        XCTAssertNil(KeypointNetConfig.preset(named: "tiny"))
        var c = KeypointNetConfig.reduced
        c.c5 = 32
        XCTAssertNotNil(c.problem)
        c = .reduced
        c.d1 = 100
        XCTAssertNotNil(c.problem)
        c.doUpsample = false
        XCTAssertNil(c.problem)   // without the pixel shuffle d1 is free (convFb is unused)
        var rng = SeededRandom(seed: 0)
        XCTAssertThrowsError(try KeypointNet.make(config: KeypointNetConfig(c1: 8, c2: 8, c3: 8, c4: 8, c5: 8, d1: 8, descriptorDim: 8), rng: &rng)) { e in
            XCTAssertTrue("\(e)".contains("d1/4 + c3"), "\(e)")
        }
        let data = try! JSONEncoder().encode(KeypointNetConfig.half)
        XCTAssertEqual(try JSONDecoder().decode(KeypointNetConfig.self, from: data), .half)
    }

    func testNormalizeIsOfficialColorNormalisation() {
        let t = Tensor(shape: [1, 1, 1, 3], values: [0, 0.5, 1])
        XCTAssertEqual(KeypointNet.normalize(t).array, [-0.1125, 0, 0.1125])
        // Gray (official to_gray_normalized): normalise, then average the channels.
        let rgb = Tensor(shape: [1, 3, 1, 2], values: [0, 1,  0.5, 1,  1, 1])
        let gray = KeypointNet.normalizeGray(rgb)
        XCTAssertEqual(gray.shape, [1, 1, 1, 2])
        XCTAssertEqual(gray[0, 0, 0, 0], 0, accuracy: 1e-7)
        XCTAssertEqual(gray[0, 0, 0, 1], 0.1125, accuracy: 1e-7)
    }

    // MARK: weights files

    func testWeightsRoundTripInfersWidths() throws {
        var config = KeypointNetConfig.reduced
        config.withDrop = false
        let net = makeNet(config, seed: 5)
        net.conv2b.norm.numBatchesTracked.data[0] = 7
        net.convFb.norm.runningVar.data[3] = 2.5
        let path = tempPath("reduced.safetensors")
        try KeypointNetWeights.save(net, to: path)
        let file = try SafeTensors.read(path)
        XCTAssertEqual(file.names.first, "conv1a.0.weight")     // PyTorch order on disk
        XCTAssertEqual(file.tensors["conv2b.1.num_batches_tracked"], .i64(shape: [], values: [7]))
        let loaded = try KeypointNetWeights.load(path)
        XCTAssertEqual(loaded.config, config)   // widths from shapes, flags from metadata
        for (a, b) in zip(net.stateEntries(), loaded.stateEntries()) {
            XCTAssertEqual(a.key, b.key)
            XCTAssertEqual(a.tensor.array, b.tensor.array, a.key)
        }
    }

    func testEqualWeightsGiveByteEqualFiles() throws {
        // The config metadata is JSON with sorted keys: a dictionary's order would change from process to process.
        let json = try XCTUnwrap(KeypointNetWeights.configMetadata(.reduced)[KeypointNetWeights.configMetadataKey])
        let keys = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(json.utf8)) as? [String: Any]).keys
        XCTAssertGreaterThan(keys.count, 5)
        let positions = keys.sorted().map { json.range(of: "\"\($0)\":")!.lowerBound }
        XCTAssertEqual(positions, positions.sorted(), json)
        let net = makeNet(.reduced, seed: 3)
        let a = tempPath("a.safetensors"), b = tempPath("b.safetensors")
        try KeypointNetWeights.save(net, to: a)
        try KeypointNetWeights.save(net, to: b)
        XCTAssertEqual(try Data(contentsOf: URL(fileURLWithPath: a)), try Data(contentsOf: URL(fileURLWithPath: b)))
    }

    func testWeightsWithoutMetadataAndWithPrefix() throws {
        let net = makeNet(.half, seed: 9)
        // A whole KeypointNetwithIOLoss-style state dict: keypoint_net.* plus io_net.* (ignored), no metadata.
        var entries = net.stateDict(prefix: "keypoint_net.")
        entries.append(("io_net.p_in.0.weight", .f32(shape: [2, 5, 1, 1], values: [Float](repeating: 1, count: 10))))
        let path = tempPath("prefixed.safetensors")
        try SafeTensors.write(entries, to: path)
        let loaded = try KeypointNetWeights.load(path)
        XCTAssertEqual(loaded.config.widths, KeypointNetConfig.half.widths)
        XCTAssertEqual(loaded.convFbb.weight.value.array, net.convFbb.weight.value.array)
    }

    func testWeightsErrorsNameTheFileAndProblem() throws {
        let net = makeNet(.reduced)
        // Missing tensor.
        var entries = net.stateDict().filter { $0.0 != "convPb.bias" }
        var path = tempPath("missing.safetensors")
        try SafeTensors.write(entries, to: path)
        XCTAssertThrowsError(try KeypointNetWeights.load(path)) { e in
            XCTAssertTrue("\(e)".contains(path) && "\(e)".contains("convPb.bias"), "\(e)")
        }
        // A shape that does not fit the inferred widths.
        entries = net.stateDict().map { k, v in
            k == "convFaa.0.weight" ? (k, .f32(shape: [64, 32, 3, 3], values: [Float](repeating: 0, count: 64 * 32 * 9))) : (k, v)
        }
        path = tempPath("badshape.safetensors")
        try SafeTensors.write(entries, to: path)
        XCTAssertThrowsError(try KeypointNetWeights.load(path)) { e in
            XCTAssertTrue("\(e)".contains("convFaa.0.weight"), "\(e)")
        }
        // Widths that break the architecture.
        entries = net.stateDict().map { k, v in
            k == "conv3a.0.weight" ? (k, .f32(shape: [40, 16, 3, 3], values: [Float](repeating: 0, count: 40 * 16 * 9))) : (k, v)
        }
        path = tempPath("badwidths.safetensors")
        try SafeTensors.write(entries, to: path)
        XCTAssertThrowsError(try KeypointNetWeights.load(path)) { e in
            XCTAssertTrue("\(e)".contains("d1/4 + c3"), "\(e)")
        }
        // Not a KeypointNet at all.
        path = tempPath("other.safetensors")
        try SafeTensors.write([("weight", .f32(shape: [2], values: [1, 2]))], to: path)
        XCTAssertThrowsError(try KeypointNetWeights.load(path)) { e in
            XCTAssertTrue("\(e)".contains("not KeypointNet weights"), "\(e)")
        }
    }

    // MARK: head ops

    func testCellCoordinatesForwardClampAndGradient() {
        // 1 image, 2x3 cells -> 16x24 pixels. Offsets chosen to hit both clamps.
        let shift = Variable(Tensor(shape: [1, 2, 2, 3], values: [
            -1, 0.5, 1,   0, -0.25, 1,      // x offsets
            -1, 0, 0.5,   1, 0.75, -0.5,    // y offsets
        ]), requiresGrad: true)
        let g = Graph()
        let c = g.cellCoordinates(shift, imageHeight: 16, imageWidth: 24, crossRatio: 2)
        // x = j*8 + 3.5 + 7*s, clamped to [0, 23]; y = i*8 + 3.5 + 7*s, clamped to [0, 15]
        XCTAssertEqual(c.value.array, [0, 15, 23,   3.5, 9.75, 23,
                                       0, 3.5, 7,   15, 15, 8])
        g.backward(c, seed: Tensor(shape: c.shape, repeating: 1))
        // Gradient 7 where the clamp did not bite (bounds inclusive), else 0.
        XCTAssertEqual(shift.grad!.array, [0, 7, 0,   7, 7, 0,
                                           0, 7, 7,   0, 0, 7])
    }

    func testCellCoordinatesWithoutCrossStaysInCell() {
        let shift = Variable(Tensor(shape: [1, 2, 1, 2], values: [1, -1, -1, 1]))
        let c = Graph(recording: false).cellCoordinates(shift, imageHeight: 8, imageWidth: 16, crossRatio: 1)
        XCTAssertEqual(c.value.array, [7, 8, 0, 7])
    }

    func testBorderMaskedZeroesRingAndGradient() {
        let x = Variable(Tensor(shape: [1, 1, 3, 4], values: (1...12).map(Float.init)), requiresGrad: true)
        let g = Graph()
        let y = g.borderMasked(x)
        XCTAssertEqual(y.value.array, [0, 0, 0, 0,  0, 6, 7, 0,  0, 0, 0, 0])
        g.backward(y, seed: Tensor(shape: y.shape, repeating: 2))
        XCTAssertEqual(x.grad!.array, [0, 0, 0, 0,  0, 2, 2, 0,  0, 0, 0, 0])
    }

    func testPixelsToGridNormalisesAndMovesChannelsLast() {
        // W = 9, H = 5: x/4 - 1, y/2 - 1
        let coord = Variable(Tensor(shape: [1, 2, 1, 2], values: [0, 8, 4, 2]), requiresGrad: true)
        let g = Graph()
        let grid = g.pixelsToGrid(coord, imageHeight: 5, imageWidth: 9)
        XCTAssertEqual(grid.shape, [1, 1, 2, 2])
        XCTAssertEqual(grid.value.array, [-1, 1, 1, 0])
        g.backward(grid, seed: Tensor(shape: grid.shape, values: [1, 2, 3, 4]))
        XCTAssertEqual(coord.grad!.array, [0.25, 0.75, 1, 2])
    }
}

final class KeypointExtractionTests: XCTestCase {
    func testKeepsPositiveScoresSortedThenTopK() {
        // 1 image, 3x4 cells, 2-d descriptors; border cells have score 0 as the network makes them.
        let score = Tensor(shape: [1, 1, 3, 4], values: [0, 0, 0, 0,  0, 0.7, 0.9, 0,  0, 0, 0, 0])
        var coordValues = [Float](repeating: 0, count: 24)
        for p in 0..<12 { coordValues[p] = Float(p); coordValues[12 + p] = Float(100 + p) }
        let coord = Tensor(shape: [1, 2, 3, 4], values: coordValues)
        var featValues = [Float](repeating: 0, count: 24)
        for p in 0..<12 { featValues[p] = Float(p) / 10; featValues[12 + p] = -Float(p) }
        let out = KeypointNetOutput(score: Variable(score), coord: Variable(coord),
                                    feat: Variable(Tensor(shape: [1, 2, 3, 4], values: featValues)))
        let raster = KeypointSet.extract(out)
        XCTAssertEqual(raster.keypoints, [Keypoint(x: 5, y: 105, score: 0.7), Keypoint(x: 6, y: 106, score: 0.9)])
        let all = raster.sortedByScore()
        XCTAssertEqual(all.keypoints, [Keypoint(x: 6, y: 106, score: 0.9), Keypoint(x: 5, y: 105, score: 0.7)])
        XCTAssertEqual(all.descriptors, [0.6, -6, 0.5, -5])
        let one = raster.sortedByScore(limit: 1)
        XCTAssertEqual(one.keypoints.count, 1)
        XCTAssertEqual(Array(one.descriptor(0)), [0.6, -6])
    }
}

/// Forward passes of small networks (no fixtures): shapes, flags and invariants of the official class.
final class KeypointNetForwardTests: XCTestCase {
    private func image(_ b: Int, _ c: Int, _ h: Int, _ w: Int, seed: UInt64 = 3) -> Tensor {
        var rng = SeededRandom(seed: seed)
        let t = Tensor(shape: [b, c, h, w])
        for i in 0..<t.count { t.data[i] = Float(rng.uniform()) }
        return KeypointNet.normalize(t)
    }

    func testEvalOutputsShapesRingUnitDescriptorsAndCoordsInImage() {
        var rng = SeededRandom(seed: 2)
        let net = KeypointNet(config: .reduced, rng: &rng)
        let out = net.infer(image(2, 3, 32, 48))
        XCTAssertEqual(out.score.shape, [2, 1, 4, 6])
        XCTAssertEqual(out.coord.shape, [2, 2, 4, 6])
        XCTAssertEqual(out.feat.shape, [2, 64, 4, 6])
        let s = out.score.value, c = out.coord.value, f = out.feat.value
        for b in 0..<2 {
            for i in 0..<4 {
                for j in 0..<6 {
                    let ring = i == 0 || i == 3 || j == 0 || j == 5
                    if ring { XCTAssertEqual(s[b, 0, i, j], 0) } else { XCTAssertGreaterThan(s[b, 0, i, j], 0) }
                    XCTAssertTrue((0...47).contains(c[b, 0, i, j]) && (0...31).contains(c[b, 1, i, j]))
                    var n: Float = 0
                    for d in 0..<64 { n += f[b, d, i, j] * f[b, d, i, j] }
                    XCTAssertEqual(n, 1, accuracy: 1e-4)
                }
            }
        }
    }

    func testTrainingDenseMapAndBufferUpdates() {
        var rng = SeededRandom(seed: 2)
        var config = KeypointNetConfig.reduced
        config.withDrop = false
        let net = KeypointNet(config: config, rng: &rng)
        let g = Graph()
        let out = net(Variable(image(2, 3, 32, 48)), g, training: true)
        XCTAssertEqual(out.feat.shape, [2, 64, 8, 12])   // H/4, W/4
        XCTAssertEqual(net.conv1a.norm.numBatchesTracked.scalar, 1)
        XCTAssertNotEqual(net.convFb.norm.runningMean.array, [Float](repeating: 0, count: 128))
        // Eval leaves the buffers alone.
        let before = net.stateEntries().map { $0.tensor.array }
        _ = net.infer(image(1, 3, 32, 48))
        XCTAssertEqual(net.stateEntries().map { $0.tensor.array }, before)
    }

    func testDropoutOnlyWhenTrainingWithDrop() {
        var rng = SeededRandom(seed: 4)
        let net = KeypointNet(config: .reduced, rng: &rng)   // withDrop = true (official default)
        let x = image(2, 3, 32, 48)
        let a = net(Variable(x), Graph(), training: true).feat.value.array
        let b = net(Variable(x), Graph(), training: true).feat.value.array
        XCTAssertNotEqual(a, b, "two training passes must draw different dropout masks")
        XCTAssertEqual(net.infer(x).feat.value.array, net.infer(x).feat.value.array)
    }

    func testWithoutUpsampleDenseMapIsAtCellResolution() {
        var rng = SeededRandom(seed: 4)
        var config = KeypointNetConfig.reduced
        config.doUpsample = false
        config.withDrop = false
        let net = KeypointNet(config: config, rng: &rng)
        XCTAssertEqual(net.stateEntries().count, 84)   // convFb is still registered, as in PyTorch
        let out = net(Variable(image(1, 3, 32, 48)), Graph(), training: true)
        XCTAssertEqual(out.feat.shape, [1, 64, 4, 6])
        XCTAssertEqual(net.infer(image(1, 3, 32, 48)).feat.shape, [1, 64, 4, 6])
    }

    func testGrayNetworkTakesOneChannel() {
        var rng = SeededRandom(seed: 4)
        var config = KeypointNetConfig.reduced
        config.useColor = false
        let net = KeypointNet(config: config, rng: &rng)
        XCTAssertEqual(net.conv1a.conv.weight.shape, [8, 1, 3, 3])
        XCTAssertNotNil(net.inputProblem([1, 3, 32, 48]))
        XCTAssertNotNil(net.inputProblem([1, 1, 30, 48]))
        XCTAssertEqual(net.infer(image(1, 1, 16, 16)).score.shape, [1, 1, 2, 2])
    }

    func testGradientOfInputMatchesFiniteDifference() {
        // Eval mode (fixed BN statistics) is smooth enough for a central difference on a few inputs.
        var rng = SeededRandom(seed: 8)
        var config = KeypointNetConfig.reduced
        config.withDrop = false
        let net = KeypointNet(config: config, rng: &rng)
        let x0 = image(1, 3, 16, 24, seed: 11)
        func loss(_ x: Tensor) -> Double {
            let out = net.infer(x)
            var s = 0.0
            for v in out.score.value.array { s += Double(v) }
            for (i, v) in out.coord.value.array.enumerated() { s += Double(v) * Double(i % 3) * 0.01 }
            return s
        }
        let xv = Variable(x0.copy(), requiresGrad: true)
        let g = Graph()
        let out = net(xv, g, training: false)
        out.score.gradient().add(Tensor(shape: out.score.shape, repeating: 1))
        let cg = Tensor(shape: out.coord.shape)
        for i in 0..<cg.count { cg.data[i] = Float(i % 3) * 0.01 }
        out.coord.gradient().add(cg)
        g.backwardFromSeeded()
        let grad = xv.grad!
        for idx in [100, 555, 1000] {
            let h: Float = 1e-3
            let xp = x0.copy(), xm = x0.copy()
            xp.data[idx] += h; xm.data[idx] -= h
            let fd = (loss(xp) - loss(xm)) / Double(2 * h)
            XCTAssertEqual(Double(grad.data[idx]), fd, accuracy: 2e-2 * max(1, abs(fd)), "input \(idx)")
        }
    }
}

/// scripts/ckpt_to_safetensors.py's own safetensors code against ours (skipped without python3).
final class ConversionScriptTests: XCTestCase {
    func testScriptRewritesOurFileAndWeLoadItBack() throws {
        var root = URL(fileURLWithPath: #filePath)
        for _ in 0..<3 { root.deleteLastPathComponent() }
        let script = root.appendingPathComponent("scripts/ckpt_to_safetensors.py").path
        guard FileManager.default.isExecutableFile(atPath: "/usr/bin/python3") else { throw XCTSkip("python3 not installed") }
        var rng = SeededRandom(seed: 21)
        let net = KeypointNet(config: .reduced, rng: &rng)
        net.conv4b.norm.numBatchesTracked.data[0] = 3
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("kp2d-script-\(getpid())").path
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let src = dir + "/ours.safetensors", dst = dir + "/script.safetensors"
        // Prefixed keys, so the script's prefix stripping and module ordering are exercised too.
        try SafeTensors.write(net.stateDict(prefix: "keypoint_net.").reversed(), to: src)
        let code = """
            import importlib.util, sys
            spec = importlib.util.spec_from_file_location('c', sys.argv[1]); c = importlib.util.module_from_spec(spec)
            spec.loader.exec_module(c)
            t, _ = c.read_safetensors(sys.argv[2])
            items = sorted(c.keypoint_net_items(t.items()), key=lambda kv: c.module_rank(kv[0]))
            c.write_safetensors(sys.argv[3], [(k,) + v for k, v in items])
            """
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/python3")
        p.arguments = ["-c", code, script, src, dst]
        try p.run()
        p.waitUntilExit()
        XCTAssertEqual(p.terminationStatus, 0)
        let file = try SafeTensors.read(dst)
        XCTAssertEqual(file.names, net.stateEntries().map { $0.key })   // PyTorch order restored
        XCTAssertEqual(file.tensors["conv4b.1.num_batches_tracked"], .i64(shape: [], values: [3]))
        let loaded = try KeypointNetWeights.load(dst)
        XCTAssertEqual(loaded.config.widths, KeypointNetConfig.reduced.widths)
        for (a, b) in zip(net.stateEntries(), loaded.stateEntries()) { XCTAssertEqual(a.tensor.array, b.tensor.array, a.key) }
    }
}

final class KeypointSetTests: XCTestCase {
    /// The array entry point and the network-output entry point are the same conversion.
    func testFromDenseArraysEqualsExtract() {
        var rng = SeededRandom(seed: 3)
        let (hc, wc, d) = (3, 5, 4)
        let score = (0..<(hc * wc)).map { i in i % 4 == 0 ? Float(0) : Float(rng.uniform()) }
        let coord = (0..<(2 * hc * wc)).map { _ in Float(rng.uniform(0, 40)) }
        let feat = (0..<(d * hc * wc)).map { _ in Float(rng.uniform(-1, 1)) }
        let out = KeypointNetOutput(score: Variable(Tensor(shape: [1, 1, hc, wc], values: score)),
                                    coord: Variable(Tensor(shape: [1, 2, hc, wc], values: coord)),
                                    feat: Variable(Tensor(shape: [1, d, hc, wc], values: feat)))
        let a = KeypointSet.fromDense(score: score, coord: coord, descriptors: feat, cellsHigh: hc, cellsWide: wc, dimension: d)
        XCTAssertEqual(a, KeypointSet.extract(out))
        XCTAssertEqual(a.count, score.filter { $0 > 0 }.count)
        XCTAssertEqual(Array(a.descriptor(1)), (0..<d).map { feat[$0 * hc * wc + 2] })   // cell 0 scores 0: cells 1, 2 come first
    }

    func testEmptyDenseMapGivesAnEmptySet() {
        let s = KeypointSet.fromDense(score: [], coord: [], descriptors: [], cellsHigh: 0, cellsWide: 0, dimension: 8)
        XCTAssertEqual(s.count, 0)
        XCTAssertEqual(s.dimension, 8)
        XCTAssertEqual(s.sortedByScore(limit: 3).count, 0)
    }
}
