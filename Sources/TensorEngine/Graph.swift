// Reverse-mode differentiation: a Variable wraps a Tensor value and its gradient; a Graph (the tape)
// records, for every op run while recording, a closure that propagates the output's gradient to
// its inputs. `backward` runs those closures in reverse order. Backward closures ADD into input
// gradients (a variable used twice receives both contributions).
//
// Op pattern (see Arithmetic.swift):
//   let y = g.output(shape, from: x)                 // requiresGrad iff recording and x needs it
//   kernelForward(x.value.data, y.value.data, ...)
//   g.record(y) { dy in kernelBackward(dy.data, x.gradient().data, ...) }   // only if y.requiresGrad

public final class Variable: @unchecked Sendable {
    public let value: Tensor
    /// Accumulated gradient; nil until something flows into it.
    public var grad: Tensor?
    public let requiresGrad: Bool
    /// Optional name (parameters carry their state_dict key).
    public var name: String?

    public init(_ value: Tensor, requiresGrad: Bool = false, name: String? = nil) {
        self.value = value
        self.requiresGrad = requiresGrad
        self.name = name
    }

    public var shape: [Int] { value.shape }
    public var count: Int { value.count }

    /// The gradient buffer, allocated zero-filled on first use.
    public func gradient() -> Tensor {
        if let g = grad { return g }
        let g = Tensor(shape: value.shape)
        grad = g
        return g
    }

    /// Zero the gradient in place (keeps the buffer).
    public func zeroGrad() { grad?.zero() }
}

public final class Graph {
    /// When false, ops run forward only and record nothing (like torch.no_grad()).
    public var isRecording: Bool
    private var tape: [(output: Variable, backward: (Tensor) -> Void)] = []

    public init(recording: Bool = true) { isRecording = recording }

    /// Number of recorded ops.
    public var count: Int { tape.count }

    /// True if an op on these inputs must record a backward step.
    public func needsGrad(_ inputs: [Variable]) -> Bool {
        isRecording && inputs.contains { $0.requiresGrad }
    }

    /// A new zero-filled output variable that requires grad iff any input does (while recording).
    public func output(_ shape: [Int], from inputs: Variable...) -> Variable {
        Variable(Tensor(shape: shape), requiresGrad: needsGrad(inputs))
    }

    /// Like `output(_:from:)`, but the elements are NOT initialised (Tensor(uninitializedShape:)): only for ops
    /// whose forward kernel writes every element (convolution, max-pool, pixel shuffle, concatenation).
    public func outputUninitialized(_ shape: [Int], from inputs: [Variable]) -> Variable {
        Variable(Tensor(uninitializedShape: shape), requiresGrad: needsGrad(inputs))
    }

    /// Wrap an existing tensor as an op output.
    public func output(_ value: Tensor, from inputs: [Variable]) -> Variable {
        Variable(value, requiresGrad: needsGrad(inputs))
    }

    /// Record the backward step of an op. `backward` receives the output's gradient and must add
    /// into the gradients of the inputs that require them. Nothing is recorded when `output`
    /// does not require grad.
    public func record(_ output: Variable, _ backward: @escaping (Tensor) -> Void) {
        guard output.requiresGrad else { return }
        tape.append((output, backward))
    }

    /// Backpropagate from a scalar (one-element) loss, seeding its gradient with 1.
    public func backward(_ loss: Variable) {
        precondition(loss.count == 1, "backward(loss): loss must have one element, shape is \(loss.shape)")
        let seed = Tensor(shape: loss.shape, repeating: 1)
        backward(loss, seed: seed)
    }

    /// Backpropagate from `output` with upstream gradient `seed` (same shape).
    public func backward(_ output: Variable, seed: Tensor) {
        precondition(seed.count == output.count, "backward: seed shape \(seed.shape) vs output \(output.shape)")
        output.gradient().add(seed)
        backwardFromSeeded()
    }

    /// Backpropagate from a scalar loss like `backward(_:)`, consuming the tape: each op's backward closure is
    /// dropped as soon as it has run, and with it the activations only that op still kept alive, which go back
    /// to the StoragePool and are reused by the gradients of the ops before it (PyTorch's backward without
    /// retain_graph). Lowers a training step's peak memory; the graph is empty afterwards (as after `reset`),
    /// so it cannot be backpropagated again.
    public func backwardReleasingTape(_ loss: Variable) {
        precondition(loss.count == 1, "backwardReleasingTape(loss): loss must have one element, shape is \(loss.shape)")
        loss.gradient().add(Tensor(shape: loss.shape, repeating: 1))
        while let entry = tape.popLast() {
            if let g = entry.output.grad {
                entry.backward(g)
                entry.output.grad = nil
            }
        }
    }

    /// Run the tape in reverse, assuming output gradients were already seeded (e.g. several outputs).
    /// Each op output's gradient is released once it has been propagated (like PyTorch's non-leaf .grad):
    /// only leaves (parameters, inputs) keep gradients. So a second backward on the same tape, e.g. for
    /// another loss, adds that loss's gradient once instead of re-propagating the first one, and the
    /// intermediate gradient buffers are freed as soon as possible.
    public func backwardFromSeeded() {
        for (out, step) in tape.reversed() {
            if let g = out.grad {
                step(g)
                out.grad = nil
            }
        }
    }

    /// Forget every recorded op (start the next step).
    public func reset() { tape.removeAll(keepingCapacity: true) }

    /// Run `body` without recording.
    public func noGrad<T>(_ body: () throws -> T) rethrows -> T {
        let old = isRecording
        isRecording = false
        defer { isRecording = old }
        return try body()
    }
}
