import Foundation
import NN
import TensorEngine

// Handlers for the single-op fixtures of the convolutional core (README section 3.1):
// op.conv2d, op.batchnorm2d_train, op.batchnorm2d_eval, op.pointwise, op.maxpool2d, op.pixel_shuffle.
// Each feeds in.* and param.*, backpropagates sum(out.y * in.gout) and compares out.y, every grad.*
// and after.* with the file's tolerances.

public enum ConvOpFixtures {
    /// Input variable `in.<name>` that requires grad.
    static func input(_ f: Fixture, _ name: String) throws -> Variable {
        Variable(try f.tensor("in." + name), requiresGrad: true, name: name)
    }

    static func param(_ f: Fixture, _ key: String) throws -> Variable {
        Variable(try f.tensor("param." + key), requiresGrad: true, name: key)
    }

    /// Seed y with in.gout and run the tape.
    static func backprop(_ g: Graph, _ y: Variable, _ f: Fixture) throws {
        let gout = try f.tensor("in.gout")
        guard gout.shape == y.shape else {
            throw FixtureError.failed(path: f.path, reason: "in.gout has shape \(gout.shape) but the output has shape \(y.shape)")
        }
        g.backward(y, seed: gout)
    }

    static func gradient(_ v: Variable) -> Tensor { v.grad ?? Tensor(shape: v.shape) }

    /// Fail clearly when the config asks for something this op does not implement.
    static func require(_ f: Fixture, _ key: String, _ expected: Int) throws {
        if let v = f.config[key]?.int, v != expected {
            throw FixtureError.failed(path: f.path, reason: "config \(key) = \(v) is not supported (only \(expected))")
        }
    }

    // MARK: op.conv2d

    public static func conv2d(_ f: Fixture, _ report: FixtureReport) throws {
        try require(f, "stride", 1)
        try require(f, "dilation", 1)
        try require(f, "groups", 1)
        let x = try input(f, "x")
        let w = try param(f, "weight")
        let b = f.has("param.bias") ? try param(f, "bias") : nil
        guard let padding = f.config["padding"]?.int else {
            throw FixtureError.failed(path: f.path, reason: "config has no padding")
        }
        let g = Graph()
        let y = g.conv2d(x, weight: w, bias: b, padding: padding)
        try backprop(g, y, f)
        report.check("out.y", y.value)
        report.check("grad.in.x", gradient(x))
        report.check("grad.weight", gradient(w))
        if let b { report.check("grad.bias", gradient(b)) }
    }

    // MARK: op.batchnorm2d_train / op.batchnorm2d_eval

    public static func batchNorm2dTrain(_ f: Fixture, _ report: FixtureReport) throws {
        try batchNorm2d(f, report, training: true)
    }

    public static func batchNorm2dEval(_ f: Fixture, _ report: FixtureReport) throws {
        try batchNorm2d(f, report, training: false)
    }

    static func batchNorm2d(_ f: Fixture, _ report: FixtureReport, training: Bool) throws {
        let x = try input(f, "x")
        let c = x.shape.count >= 2 ? x.shape[1] : 0
        let momentum = f.config["momentum"]?.float ?? 0.1
        let eps = f.config["eps"]?.float ?? 1e-5
        // The NN layer, so that num_batches_tracked is counted where the model counts it.
        let bn = BatchNorm2d(channels: c, momentum: momentum, eps: eps)
        for (key, t) in [("weight", bn.weight.value), ("bias", bn.bias.value),
                         ("running_mean", bn.runningMean), ("running_var", bn.runningVar)] {
            let v = try f.tensor("param." + key)
            guard v.count == t.count else {
                throw FixtureError.failed(path: f.path, reason: "param.\(key) has shape \(v.shape), expected \(t.shape)")
            }
            t.assign(v)
        }
        if f.has("param.num_batches_tracked") {
            bn.numBatchesTracked.data[0] = Float(try f.stored("param.num_batches_tracked").ints.first ?? 0)
        }
        let g = Graph()
        let y = bn(x, g, training: training)
        try backprop(g, y, f)
        report.check("out.y", y.value)
        report.check("grad.in.x", gradient(x))
        report.check("grad.weight", gradient(bn.weight))
        report.check("grad.bias", gradient(bn.bias))
        if f.has("after.running_mean") { report.check("after.running_mean", bn.runningMean) }
        if f.has("after.running_var") { report.check("after.running_var", bn.runningVar) }
        if f.has("after.num_batches_tracked") {
            report.checkExact("after.num_batches_tracked", [Int64(bn.numBatchesTracked.data[0])])
        }
    }

    // MARK: op.pointwise

    public static func pointwise(_ f: Fixture, _ report: FixtureReport) throws {
        let x = try input(f, "x")
        let g = Graph()
        let y: Variable
        switch f.config["op"]?.string ?? "" {
        case "relu": y = g.relu(x)
        case "leaky_relu": y = g.leakyReLU(x, slope: f.config["negative_slope"]?.float ?? 0.01)
        case "sigmoid": y = g.sigmoid(x)
        case "tanh": y = g.tanh(x)
        case let op:
            throw FixtureError.failed(path: f.path, reason: "pointwise op '\(op)' is not one of relu, leaky_relu, sigmoid, tanh")
        }
        try backprop(g, y, f)
        report.check("out.y", y.value)
        report.check("grad.in.x", gradient(x))
    }

    // MARK: op.maxpool2d

    public static func maxPool2d(_ f: Fixture, _ report: FixtureReport) throws {
        try require(f, "kernel", 2)
        try require(f, "stride", 2)
        try require(f, "padding", 0)
        if f.config["ceil_mode"]?.bool == true {
            throw FixtureError.failed(path: f.path, reason: "ceil_mode is not supported (floor mode only)")
        }
        let x = try input(f, "x")
        let g = Graph()
        let (y, indices) = g.maxPool2dWithIndices(x)
        try backprop(g, y, f)
        report.check("out.y", y.value)
        report.checkExact("out.indices", indices.map { Int64($0) })
        report.check("grad.in.x", gradient(x))
    }

    // MARK: op.pixel_shuffle

    public static func pixelShuffle(_ f: Fixture, _ report: FixtureReport) throws {
        let x = try input(f, "x")
        let g = Graph()
        let y = g.pixelShuffle(x, upscale: f.config["upscale_factor"]?.int ?? 2)
        try backprop(g, y, f)
        report.check("out.y", y.value)
        report.check("grad.in.x", gradient(x))
    }
}
