import Foundation

// Pointwise activations, forward and backward side by side: outputs first, read-only inputs as
// UnsafePointer; backward ADDS into dx. All take flat arrays of `count` elements and split large ones
// across the cores.
//   leakyReLU: y = x > 0 ? x : slope*x,   dy/dx = x > 0 ? 1 : slope (slope at exactly 0, as PyTorch)
//   relu:      y = x > 0 ? x : 0,         dy/dx = x > 0 ? 1 : 0 (0 at exactly 0)
//   sigmoid:   y = 1/(1+exp(-x)),         dy/dx = y(1-y)   (backward takes y)
//   tanh:      y = tanh(x),               dy/dx = 1-y^2    (backward takes y)

public enum ActivationKernels {
    static let minWork = 1 << 16

    public static func leakyReLUForward(_ y: UnsafeMutablePointer<Float>, _ x: UnsafePointer<Float>, count: Int, slope: Float) {
        KernelParallel.forRanges(count, minWork: minWork) { r in
            for i in r { let v = x[i]; y[i] = v > 0 ? v : v * slope }
        }
    }

    public static func leakyReLUBackward(_ dx: UnsafeMutablePointer<Float>, _ dy: UnsafePointer<Float>,
                                         _ x: UnsafePointer<Float>, count: Int, slope: Float) {
        KernelParallel.forRanges(count, minWork: minWork) { r in
            for i in r { dx[i] += x[i] > 0 ? dy[i] : dy[i] * slope }
        }
    }

    public static func reluForward(_ y: UnsafeMutablePointer<Float>, _ x: UnsafePointer<Float>, count: Int) {
        KernelParallel.forRanges(count, minWork: minWork) { r in
            for i in r { let v = x[i]; y[i] = v > 0 ? v : 0 }
        }
    }

    public static func reluBackward(_ dx: UnsafeMutablePointer<Float>, _ dy: UnsafePointer<Float>,
                                    _ x: UnsafePointer<Float>, count: Int) {
        KernelParallel.forRanges(count, minWork: minWork) { r in
            for i in r { dx[i] += x[i] > 0 ? dy[i] : 0 }
        }
    }

    public static func sigmoidForward(_ y: UnsafeMutablePointer<Float>, _ x: UnsafePointer<Float>, count: Int) {
        KernelParallel.forRanges(count, costPerItem: 8, minWork: minWork) { r in
            for i in r { y[i] = 1 / (1 + Foundation.exp(-x[i])) }
        }
    }

    public static func sigmoidBackward(_ dx: UnsafeMutablePointer<Float>, _ dy: UnsafePointer<Float>,
                                       _ y: UnsafePointer<Float>, count: Int) {
        KernelParallel.forRanges(count, minWork: minWork) { r in
            for i in r { let s = y[i]; dx[i] += dy[i] * s * (1 - s) }
        }
    }

    public static func tanhForward(_ y: UnsafeMutablePointer<Float>, _ x: UnsafePointer<Float>, count: Int) {
        KernelParallel.forRanges(count, costPerItem: 8, minWork: minWork) { r in
            for i in r { y[i] = Foundation.tanh(x[i]) }
        }
    }

    public static func tanhBackward(_ dx: UnsafeMutablePointer<Float>, _ dy: UnsafePointer<Float>,
                                    _ y: UnsafePointer<Float>, count: Int) {
        KernelParallel.forRanges(count, minWork: minWork) { r in
            for i in r { let t = y[i]; dx[i] += dy[i] * (1 - t * t) }
        }
    }
}
