import Foundation

// Winograd F(4x4, 3x3) forward for 3x3 stride-1 pad-1 convolutions with many channels and many tiles.
//
// The same scheme as WinogradKernels (F(2x2, 3x3)) with bigger tiles: each 4x4 block ("tile") of the output is
// computed from the 6x6 input patch around it (stride 4) with 36 multiplications per (Cout, Cin) pair (direct: 144,
// F(2x2): 4 tiles x 16 = 64), i.e. 2.25 per output instead of 4. With the input patch d and the filter g,
//   y = A^T [ (G g G^T) ⊙ (B^T d B) ] A
// with the points 0, ±1, ±2 (Lavin & Gray 2016):
//   B^T = [4 0 -5 0 1 0; 0 -4 -4 1 1 0; 0 4 -4 -1 1 0; 0 -2 -1 2 1 0; 0 2 -1 -2 1 0; 0 4 0 -5 0 1]
//   G   = [1/4 0 0; -1/6 -1/6 -1/6; -1/6 1/6 -1/6; 1/24 1/12 1/6; 1/24 -1/12 1/6; 0 0 1]
//   A^T = [1 1 1 1 1 0; 0 1 -1 2 -2 0; 0 1 1 4 4 0; 0 1 -1 8 -8 1]
// Summed over Cin: 36 matrix products per chunk of tiles, M[ξ] (Cout, tiles) = U[ξ] (Cout, Cin) @ V[ξ] (Cin, tiles).
// G's entries 1/6, 1/12 and 1/24 are not exact in binary and B^T / A^T scale values by up to 8 (A^T) and 5 (B^T), so
// the rounding error is larger than F(2x2)'s (a float32 simulation at 256 input channels: 3e-6 to 9e-6 of the
// output's largest magnitude against 1e-6 for direct convolution; docs/perf.md Round 5 perf5).
//
// Used by ConvKernels.forward, and by ConvKernels.backward for dx (`inputGradient`: a forward of dy with the flipped,
// transposed filters) for 3x3 pad-1 layers with Cin and Cout >= `minChannels` and at least
// `minTiles` 4x4 tiles per image (`applies`); elsewhere F(2x2, 3x3) or the direct kernel stay. A/B switches:
// KP2D_WINOGRAD_F43=0 (off), KP2D_WINOGRAD_F43_MIN_TILES=N, KP2D_WINOGRAD_F43_MIN_CHANNELS=N.
//
// Layout and threading as WinogradKernels.forward: chunks of tiles (image, chunk) dealt to one worker per core, each
// with its own V and M from StoragePool, single-threaded sgemm, the output transform (with the epilogue, or adding
// into y) right after a chunk's 36 products. The transforms are row-wise with one SIMD lane per tile (groups of 8
// neighbouring tiles of a tile row), as in WinogradKernels.

public enum WinogradF43Kernels {
    /// Switch for A/B runs and tests (KP2D_WINOGRAD_F43=0: off).
    nonisolated(unsafe) public static var enabled = ProcessInfo.processInfo.environment["KP2D_WINOGRAD_F43"] != "0"
    /// Smallest number of 4x4 tiles per image that uses F(4x4, 3x3) (KP2D_WINOGRAD_F43_MIN_TILES).
    nonisolated(unsafe) public static var minTiles =
        Int(ProcessInfo.processInfo.environment["KP2D_WINOGRAD_F43_MIN_TILES"] ?? "").map { max(1, $0) } ?? 64
    /// Target floats of one chunk's transformed input (and output) per worker (as WinogradKernels.chunkFloats).
    nonisolated(unsafe) public static var chunkFloats =
        Int(ProcessInfo.processInfo.environment["KP2D_WINOGRAD_F43_CHUNK_FLOATS"] ?? "").map { max(1, $0) } ?? 1 << 20

    /// 4x4 tiles of one output image of shape s.
    public static func tiles(_ s: Conv2dShape) -> Int { ((s.ho + 3) / 4) * ((s.wo + 3) / 4) }

    /// Smallest Cin and Cout that use F(4x4, 3x3) (KP2D_WINOGRAD_F43_MIN_CHANNELS): 32, so conv1b
    /// (32->32) and conv2a (32->64) leave the direct kernel too (docs/perf.md Round 5 perf5; F(2x2)'s is WinogradKernels.minChannels).
    nonisolated(unsafe) public static var minChannels =
        Int(ProcessInfo.processInfo.environment["KP2D_WINOGRAD_F43_MIN_CHANNELS"] ?? "").map { max(1, $0) } ?? 32

    /// The library's choice for 3x3 pad-1 layers (KP2D_WINOGRAD=0 turns off both Winograd kernels).
    public static func applies(_ s: Conv2dShape) -> Bool {
        enabled && WinogradKernels.enabled && s.kh == 3 && s.kw == 3 && s.pad == 1
            && s.cin >= minChannels && s.cout >= minChannels && tiles(s) >= minTiles
    }

    /// Key of the cached U in TensorStorage.derived.
    public static let transformedWeightsKey = "winograd43.U"

    /// U (36, Cout, Cin) of the weight tensor w (Cout, Cin, 3, 3), kept with its storage until the weights change
    /// (as WinogradKernels.cachedTransformedWeights), for forward-only convolutions.
    public static func cachedTransformedWeights(_ w: Tensor) -> TensorStorage {
        let (cout, cin, _, _) = w.nchw
        return w.storage.derived(transformedWeightsKey, count: transformedWeightCount(cout: cout, cin: cin)) {
            transformWeights($0, w.data, cout: cout, cin: cin)
        }
    }

    /// Floats of U for a (Cout, Cin, 3, 3) weight.
    public static func transformedWeightCount(cout: Int, cin: Int) -> Int { 36 * cout * cin }

    // MARK: weight transform

    /// u (36, Cout, Cin) = G g G^T of every 3x3 filter g = w[co][ci] of w (Cout, Cin, 3, 3).
    public static func transformWeights(_ u: UnsafeMutablePointer<Float>, _ w: UnsafePointer<Float>, cout: Int, cin: Int) {
        transformFilters(u, w, rows: cout, columns: cin, rowStride: cin &* 9, columnStride: 9, flipped: false)
    }

    /// u (36, Cin, Cout) = U of the flipped, transposed filters w'[ci][co] = rot180(w[co][ci]) of w (Cout, Cin, 3, 3):
    /// the U of dx's convolution (`inputGradient`), made without writing w' first. The same bits as transformWeights
    /// of w'.
    public static func transformFlippedTransposedWeights(_ u: UnsafeMutablePointer<Float>, _ w: UnsafePointer<Float>,
                                                         cout: Int, cin: Int) {
        transformFilters(u, w, rows: cin, columns: cout, rowStride: 9, columnStride: cin &* 9, flipped: true)
    }

    /// u[ξ][r][c] = (G g G^T)[ξ] for the filter g at w + r * rowStride + c * columnStride (rot180(g) when `flipped`),
    /// 16 filters at a time (WinogradKernels.forEachFilterGroup).
    static func transformFilters(_ u: UnsafeMutablePointer<Float>, _ w: UnsafePointer<Float>, rows: Int, columns: Int,
                                 rowStride: Int, columnStride: Int, flipped: Bool) {
        WinogradKernels.forEachFilterGroup(u, w, rows: rows, columns: columns, rowStride: rowStride,
                                           columnStride: columnStride, flipped: flipped, costPerFilter: 160) {
            weightGroup($0, $1, $2, $3, lanes: $4)
        }
    }

    /// G g G^T for 16 filters (one lane each): g[k * gs] is the vector of tap k; lane i is stored at o[ξ * plane + i]
    /// for the first `lanes` lanes.
    @inline(__always)
    static func weightGroup(_ o: UnsafeMutablePointer<Float>, _ g: UnsafePointer<Float>, _ gs: Int, _ plane: Int, lanes: Int) {
        typealias V = SIMD16<Float>
        @inline(__always) func tap(_ k: Int) -> V { UnsafeRawPointer(g + k &* gs).loadUnaligned(as: V.self) }
        // 1-D: (a, b, c) -> (a/4, -(a+b+c)/6, -(a-b+c)/6, a/24 + b/12 + c/6, a/24 - b/12 + c/6, c)
        @inline(__always) func g6(_ a: V, _ b: V, _ c: V) -> (V, V, V, V, V, V) {
            let ac = a + c, ac24 = a * (1.0 / 24) + c * (1.0 / 6), b12 = b * (1.0 / 12)
            return (a * 0.25, (ac + b) * (-1.0 / 6), (ac - b) * (-1.0 / 6), ac24 + b12, ac24 - b12, c)
        }
        // t = G g (6x3): columns of g
        let c0 = g6(tap(0), tap(3), tap(6)), c1 = g6(tap(1), tap(4), tap(7)), c2 = g6(tap(2), tap(5), tap(8))
        @inline(__always) func row(_ r: Int, _ a: V, _ b: V, _ c: V) {
            let t = g6(a, b, c)
            WinogradKernels.store(o + (6 &* r) &* plane, t.0, lanes); WinogradKernels.store(o + (6 &* r &+ 1) &* plane, t.1, lanes)
            WinogradKernels.store(o + (6 &* r &+ 2) &* plane, t.2, lanes); WinogradKernels.store(o + (6 &* r &+ 3) &* plane, t.3, lanes)
            WinogradKernels.store(o + (6 &* r &+ 4) &* plane, t.4, lanes); WinogradKernels.store(o + (6 &* r &+ 5) &* plane, t.5, lanes)
        }
        // u = t G^T (6x6): rows of t
        row(0, c0.0, c1.0, c2.0); row(1, c0.1, c1.1, c2.1); row(2, c0.2, c1.2, c2.2)
        row(3, c0.3, c1.3, c2.3); row(4, c0.4, c1.4, c2.4); row(5, c0.5, c1.5, c2.5)
    }

    // MARK: input transform

    /// Leading dimension of V for a chunk of `tiles` tiles (as F(2x2)'s: room for a group of 8 past the last tile).
    public static func leadingDimension(tiles: Int) -> Int { WinogradKernels.leadingDimension(tiles: tiles) }

    /// V[ξ][ci][t - t0] = (B^T d B)[ξ] for tiles t0..<t1 of image xn (Cin,H,W); ld >= leadingDimension(t1 - t0).
    /// As WinogradKernels.transformInput: per input channel the chunk's input rows are copied into a zero-bordered
    /// scratch (one zero column left, zeros right and above/below the image), then each tile row's segment is done
    /// in groups of 8 tiles (16-tile groups were slower: docs/perf.md Round 5 perf5), the last group overlapping the
    /// one before (equal values written again), a segment shorter than 8 writing a whole group whose extra columns are overwritten by the next segment or fall
    /// into the padding of ld.
    static func transformInput(_ v: UnsafeMutablePointer<Float>, _ xn: UnsafePointer<Float>, _ s: Conv2dShape,
                               tiles t0: Int, _ t1: Int, ld: Int) {
        precondition(ld >= leadingDimension(tiles: t1 - t0), "Winograd F(4x4) transformInput: ld \(ld) too small for \(t1 - t0) tiles")
        let plane = s.cin &* ld
        WinogradKernels.forEachPaddedTileRow(xn, s, tileStep: 4, tiles: t0, t1) { ci, p, pw, a, b in
            let dst = v + ci &* ld
            var t = a
            while b &- t >= 8 { inputGroup8(dst + (t &- t0), p + 4 &* t, pw, plane); t &+= 8 }
            if t < b {
                let last = b &- a >= 8 ? b &- 8 : t
                inputGroup8(dst + (last &- t0), p + 4 &* last, pw, plane)
            }
        }
    }

    /// 8 tiles: p points at the first tile's top-left input (padded rows of stride pw), o at its V column.
    @inline(__always)
    static func inputGroup8(_ o: UnsafeMutablePointer<Float>, _ p: UnsafePointer<Float>, _ pw: Int, _ plane: Int) {
        inputGroup(o, p, pw, plane) { q in
            let a = q.loadUnaligned(as: SIMD16<UInt64>.self), b = q.loadUnaligned(fromByteOffset: 16, as: SIMD16<UInt64>.self)
            let (c0, c1, c2, c3) = columns8(a), (c4, c5, _, _) = columns8(b)
            return (c0, c1, c2, c3, c4, c5)
        }
    }

    /// The four columns of 8 tiles from 32 consecutive floats (tile j's column k at 4j + k), read as 16 pairs: the low
    /// and high halves of each 64-bit pair are the even and odd floats, twice. Truncating conversions compile to
    /// vpmovqd; SIMD32.evenHalf.evenHalf and friends compiled to element-by-element inserts here (docs/perf.md Round 5 perf5).
    @inline(__always)
    static func columns8(_ pairs: SIMD16<UInt64>) -> (SIMD8<Float>, SIMD8<Float>, SIMD8<Float>, SIMD8<Float>) {
        let f = unsafeBitCast(pairs, to: SIMD32<Float>.self)
        @inline(__always) func column(_ k: Int) -> SIMD8<Float> {
            SIMD8<Float>(f[k], f[k + 4], f[k + 8], f[k + 12], f[k + 16], f[k + 20], f[k + 24], f[k + 28])
        }
        return (column(0), column(1), column(2), column(3))
    }

    /// B^T applied to six values (one vector each): the rows of B^T above.
    @inline(__always)
    static func bt6<V: SIMD>(_ d0: V, _ d1: V, _ d2: V, _ d3: V, _ d4: V, _ d5: V) -> (V, V, V, V, V, V) where V.Scalar == Float {
        let four: V.Scalar = 4, five: V.Scalar = 5, two: V.Scalar = 2
        let p = d4 - four * d2, q = d3 - four * d1
        let r = d4 - d2, t = two * (d3 - d1)
        return (four * d0 - five * d2 + d4,     // 4d0 - 5d2 + d4
                p + q,                           // -4d1 - 4d2 + d3 + d4
                p - q,                           // 4d1 - 4d2 - d3 + d4
                r + t,                           // -2d1 - d2 + 2d3 + d4
                r - t,                           // 2d1 - d2 - 2d3 + d4
                four * d1 - five * d3 + d5)      // 4d1 - 5d3 + d5
    }

    /// One lane per tile; `columns(q)` gives the six input columns (k = 0...5) of the tiles from q, where column k of
    /// tile j is q[4j + k]. Rows first (m = B^T d, per column), then columns (m B).
    @inline(__always)
    static func inputGroup<V: SIMD>(_ o: UnsafeMutablePointer<Float>, _ p: UnsafePointer<Float>, _ pw: Int, _ plane: Int,
                                    columns load: (UnsafeRawPointer) -> (V, V, V, V, V, V)) where V.Scalar == Float {
        let d0 = load(UnsafeRawPointer(p)), d1 = load(UnsafeRawPointer(p + pw)), d2 = load(UnsafeRawPointer(p + 2 &* pw))
        let d3 = load(UnsafeRawPointer(p + 3 &* pw)), d4 = load(UnsafeRawPointer(p + 4 &* pw)), d5 = load(UnsafeRawPointer(p + 5 &* pw))
        let k0 = bt6(d0.0, d1.0, d2.0, d3.0, d4.0, d5.0), k1 = bt6(d0.1, d1.1, d2.1, d3.1, d4.1, d5.1)
        let k2 = bt6(d0.2, d1.2, d2.2, d3.2, d4.2, d5.2), k3 = bt6(d0.3, d1.3, d2.3, d3.3, d4.3, d5.3)
        let k4 = bt6(d0.4, d1.4, d2.4, d3.4, d4.4, d5.4), k5 = bt6(d0.5, d1.5, d2.5, d3.5, d4.5, d5.5)
        @inline(__always) func row(_ r: Int, _ m0: V, _ m1: V, _ m2: V, _ m3: V, _ m4: V, _ m5: V) {
            let x = bt6(m0, m1, m2, m3, m4, m5)
            let base = o + (6 &* r) &* plane
            @inline(__always) func put(_ j: Int, _ v: V) { UnsafeMutableRawPointer(base + j &* plane).storeBytes(of: v, as: V.self) }
            put(0, x.0); put(1, x.1); put(2, x.2); put(3, x.3); put(4, x.4); put(5, x.5)
        }
        row(0, k0.0, k1.0, k2.0, k3.0, k4.0, k5.0)
        row(1, k0.1, k1.1, k2.1, k3.1, k4.1, k5.1)
        row(2, k0.2, k1.2, k2.2, k3.2, k4.2, k5.2)
        row(3, k0.3, k1.3, k2.3, k3.3, k4.3, k5.3)
        row(4, k0.4, k1.4, k2.4, k3.4, k4.4, k5.4)
        row(5, k0.5, k1.5, k2.5, k3.5, k4.5, k5.5)
    }

    // MARK: output transform

    /// A^T applied to six values: the rows of A^T above.
    @inline(__always)
    static func at4<V: SIMD>(_ m0: V, _ m1: V, _ m2: V, _ m3: V, _ m4: V, _ m5: V) -> (V, V, V, V) where V.Scalar == Float {
        let two: V.Scalar = 2, four: V.Scalar = 4, eight: V.Scalar = 8
        let a = m1 + m2, b = m1 - m2, c = m3 + m4, d = m3 - m4
        return (m0 + a + c, b + two * d, a + four * c, b + eight * d + m5)
    }

    /// y tiles t0..<t1 of image yn (Cout,Ho,Wo) = A^T M A, then the epilogue; M[ξ][co][t - t0] with leading dimension
    /// ld >= t1 - t0. Groups of 8 tiles with all four columns inside the image (up to four output rows of 32 values,
    /// stored as vectors: the bottom tile row may be cut by Ho; when overwriting, a last group overlapping the one
    /// before); the tiles cut by Wo and the rest of a short segment one by one.
    static func transformOutput(_ yn: UnsafeMutablePointer<Float>, _ mm: UnsafePointer<Float>, _ s: Conv2dShape,
                                tiles t0: Int, _ t1: Int, ld: Int, epilogue e: ConvEpilogue, accumulate: Bool) {
        let tw = (s.wo + 3) / 4, plane = s.cout &* ld
        let tiLo = t0 / tw, tiHi = (t1 - 1) / tw
        let fullPerRow = s.wo / 4
        let slope = e.leakySlope
        for co in 0..<s.cout {
            let src = mm + co &* ld
            let dst = yn + co &* s.p
            let a = e.scale?[co] ?? 1, b = e.shift?[co] ?? 0
            for ti in tiLo...tiHi {
                let rowStart = ti &* tw
                let ta = max(t0, rowStart), tb = min(t1, rowStart &+ tw)
                var t = ta
                let rows = min(4, s.ho &- 4 &* ti)
                // Tile t's output starts at y row 4ti, column 4(t - rowStart).
                let row0 = dst + (4 &* ti &* s.wo &- 4 &* rowStart)
                let fullEnd = min(tb, rowStart &+ fullPerRow)
                while fullEnd &- t >= 8 {
                    outputGroup8(row0 + 4 &* t, src + (t &- t0), s.wo, plane, a, b, slope, accumulate, rows: rows)
                    t &+= 8
                }
                if t < fullEnd && fullEnd &- ta >= 8 {
                    // The last group overlaps the one before: written again when overwriting, its first lanes skipped
                    // when adding.
                    outputGroup8(row0 + 4 &* (fullEnd &- 8), src + (fullEnd &- 8 &- t0), s.wo, plane, a, b, slope, accumulate,
                                 rows: rows, skip: accumulate ? t &- (fullEnd &- 8) : 0)
                    t = fullEnd
                }
                while t < tb {
                    outputTile(dst, src + (t &- t0), s, ti: ti, tj: t &- rowStart, plane, a, b, slope, accumulate)
                    t &+= 1
                }
            }
        }
    }

    /// 8 tiles, one lane each, their first `rows` (1...4) output rows: p points at the first tile's M column, row0 at
    /// its top-left output. When adding, the first `skip` tiles are left as they are (an overlapping last group).
    @inline(__always)
    static func outputGroup8(_ row0: UnsafeMutablePointer<Float>, _ p: UnsafePointer<Float>, _ wo: Int, _ plane: Int,
                             _ a: Float, _ b: Float, _ slope: Float?, _ accumulate: Bool, rows: Int, skip: Int = 0) {
        typealias V = SIMD8<Float>
        @inline(__always) func q(_ k: Int) -> V { UnsafeRawPointer(p + k &* plane).loadUnaligned(as: V.self) }
        // h = A^T M (4x6), per column k
        let h0 = at4(q(0), q(6), q(12), q(18), q(24), q(30)), h1 = at4(q(1), q(7), q(13), q(19), q(25), q(31))
        let h2 = at4(q(2), q(8), q(14), q(20), q(26), q(32)), h3 = at4(q(3), q(9), q(15), q(21), q(27), q(33))
        let h4 = at4(q(4), q(10), q(16), q(22), q(28), q(34)), h5 = at4(q(5), q(11), q(17), q(23), q(29), q(35))
        let av = V(repeating: a), bv = V(repeating: b)
        @inline(__always) func act(_ y: V) -> V {
            let t = y * av + bv
            guard let slope else { return t }
            return t.replacing(with: t * V(repeating: slope), where: t .<= V(repeating: 0))
        }
        // y row r = h_r A (4 values per tile), interleaved to 32 consecutive floats: tile j's 4 values at 4j.
        @inline(__always) func row(_ r: UnsafeMutablePointer<Float>, _ m0: V, _ m1: V, _ m2: V, _ m3: V, _ m4: V, _ m5: V) {
            var y = at4(m0, m1, m2, m3, m4, m5)
            if !accumulate { y = (act(y.0), act(y.1), act(y.2), act(y.3)) }
            let e = unsafeBitCast(WinogradKernels.zip(y.0, y.2), to: SIMD16<Float>.self)
            let o = unsafeBitCast(WinogradKernels.zip(y.1, y.3), to: SIMD16<Float>.self)
            var lo = unsafeBitCast(WinogradKernels.zip(e.lowHalf, o.lowHalf), to: SIMD16<Float>.self)
            var hi = unsafeBitCast(WinogradKernels.zip(e.highHalf, o.highHalf), to: SIMD16<Float>.self)
            if skip > 0 {
                let lane = SIMD16<Int32>(0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2, 3, 3, 3, 3), first = SIMD16<Int32>(repeating: Int32(skip))
                lo.replace(with: 0, where: lane .< first)
                hi.replace(with: 0, where: lane &+ 4 .< first)
            }
            let raw = UnsafeMutableRawPointer(r)
            if accumulate {
                raw.storeBytes(of: raw.loadUnaligned(as: SIMD16<Float>.self) + lo, as: SIMD16<Float>.self)
                raw.storeBytes(of: raw.loadUnaligned(fromByteOffset: 64, as: SIMD16<Float>.self) + hi, toByteOffset: 64, as: SIMD16<Float>.self)
            } else {
                raw.storeBytes(of: lo, as: SIMD16<Float>.self)
                raw.storeBytes(of: hi, toByteOffset: 64, as: SIMD16<Float>.self)
            }
        }
        row(row0, h0.0, h1.0, h2.0, h3.0, h4.0, h5.0)
        if rows > 1 { row(row0 + wo, h0.1, h1.1, h2.1, h3.1, h4.1, h5.1) }
        if rows > 2 { row(row0 + 2 &* wo, h0.2, h1.2, h2.2, h3.2, h4.2, h5.2) }
        if rows > 3 { row(row0 + 3 &* wo, h0.3, h1.3, h2.3, h3.3, h4.3, h5.3) }
    }

    /// One tile (ti, tj), possibly cut by the image's bottom or right edge; p points at its M column.
    static func outputTile(_ dst: UnsafeMutablePointer<Float>, _ p: UnsafePointer<Float>, _ s: Conv2dShape, ti: Int, tj: Int,
                           _ plane: Int, _ a: Float, _ b: Float, _ slope: Float?, _ accumulate: Bool) {
        // Rows i of M (columns 0...5 in lanes 0...5), h = A^T M (rows r, lanes = columns), then per column k the
        // vector over r, and y = (A^T M) A: y.c[r] = output (r, c).
        @inline(__always) func mrow(_ i: Int) -> SIMD8<Float> {
            var v = SIMD8<Float>()
            for k in 0..<6 { v[k] = p[(6 &* i &+ k) &* plane] }
            return v
        }
        let h = at4(mrow(0), mrow(1), mrow(2), mrow(3), mrow(4), mrow(5))
        @inline(__always) func hc(_ k: Int) -> SIMD4<Float> { SIMD4(h.0[k], h.1[k], h.2[k], h.3[k]) }
        let y = at4(hc(0), hc(1), hc(2), hc(3), hc(4), hc(5))
        let oh = 4 &* ti, ow = 4 &* tj
        for r in 0..<min(4, s.ho &- oh) {
            let out = dst + ((oh &+ r) &* s.wo &+ ow)
            let vals = SIMD4<Float>(y.0[r], y.1[r], y.2[r], y.3[r])
            for c in 0..<min(4, s.wo &- ow) {
                if accumulate { out[c] += vals[c]; continue }
                let t = vals[c] * a + b
                out[c] = slope.map { t <= 0 ? t * $0 : t } ?? t
            }
        }
    }

    // MARK: forward

    /// Tiles per chunk and number of chunks per image (as WinogradKernels.chunking, with 36 transformed values per tile).
    static func chunking(_ s: Conv2dShape, workers: Int) -> (perChunk: Int, chunks: Int) {
        WinogradKernels.chunking(s, workers: workers, tiles: tiles(s), products: 36, chunkFloats: chunkFloats)
    }

    /// y = epilogue(conv3x3pad1(x, w)) (any Cin, Cout; `applies` is the library's choice). Overwrites y, or adds into
    /// it (epilogue ignored) when `accumulate`. `transformedWeights`: U of w from `transformWeights` (else computed).
    public static func forward(_ y: UnsafeMutablePointer<Float>, _ x: UnsafePointer<Float>,
                               _ w: UnsafePointer<Float>, _ s: Conv2dShape, epilogue e: ConvEpilogue,
                               accumulate: Bool = false, transformedWeights: UnsafePointer<Float>? = nil) {
        precondition(s.kh == 3 && s.kw == 3 && s.pad == 1, "Winograd F(4x4,3x3) needs a 3x3 kernel with padding 1, got \(s)")
        let tiles = tiles(s)
        let (perChunk, chunks) = chunking(s, workers: ConvKernels.workers)
        func run(_ u: UnsafePointer<Float>) {
            WinogradKernels.forwardChunks(y, x, u, s, tiles: tiles, products: 36, perChunk: perChunk, chunks: chunks,
                                          epilogue: e, accumulate: accumulate,
                                          input: { v, xn, t0, t1, ld in transformInput(v, xn, s, tiles: t0, t1, ld: ld) },
                                          output: { yn, m, t0, t1, ld, e, acc in
                                              transformOutput(yn, m, s, tiles: t0, t1, ld: ld, epilogue: e, accumulate: acc) })
        }
        if let transformedWeights { run(transformedWeights); return }
        StoragePool.shared.with(count: transformedWeightCount(cout: s.cout, cin: s.cin)) { u in
            transformWeights(u, w, cout: s.cout, cin: s.cin)
            run(u)
        }
    }

    /// dx (N,Cin,H,W) += dL/dx of y = conv3x3pad1(x, w), from dy (N,Cout,H,W): the forward of dy with the flipped,
    /// transposed filters w'[ci][co] = rot180(w[co][ci]) (as ConvKernels.inputGradientAsConvolution), adding into dx,
    /// with U made straight from w.
    public static func inputGradient(_ dx: UnsafeMutablePointer<Float>, _ dy: UnsafePointer<Float>,
                                     _ w: UnsafePointer<Float>, _ s: Conv2dShape) {
        precondition(s.kh == 3 && s.kw == 3 && s.pad == 1, "Winograd F(4x4,3x3) needs a 3x3 kernel with padding 1, got \(s)")
        let t = Conv2dShape(n: s.n, cin: s.cout, h: s.ho, w: s.wo, cout: s.cin, kh: 3, kw: 3, pad: 1)
        StoragePool.shared.with(count: transformedWeightCount(cout: s.cin, cin: s.cout)) { u in
            transformFlippedTransposedWeights(u, w, cout: s.cout, cin: s.cin)
            forward(dx, dy, w, t, epilogue: ConvEpilogue(), accumulate: true, transformedWeights: u)
        }
    }
}
