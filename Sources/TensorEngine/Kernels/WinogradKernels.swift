import Foundation

// Winograd F(2x2, 3x3) forward for 3x3 stride-1 pad-1 convolutions with many channels.
//
// Each 2x2 block ("tile") of the output is computed from the 4x4 input patch around it with 16
// multiplications per (Cout, Cin) pair instead of 36: with the input patch d and the filter g,
//   y = A^T [ (G g G^T) ⊙ (B^T d B) ] A
//   B^T = [1 0 -1 0; 0 1 1 0; 0 -1 1 0; 0 1 0 -1]   G = [1 0 0; ½ ½ ½; ½ -½ ½; 0 0 1]   A^T = [1 1 1 0; 0 1 -1 -1]
// Summed over Cin, the 16 element-wise products become 16 matrix products, one per position ξ of
// the 4x4 transformed patch:  M[ξ] (Cout, tiles) = U[ξ] (Cout, Cin) @ V[ξ] (Cin, tiles)
// with U = G g G^T (the transformed weights, once per call, or cached with the weights for forward-only
// convolutions: cachedTransformedWeights) and V = B^T d B (the transformed input, chunk by chunk). The sgemm
// work is 16/36 of im2col's; the transforms are a few adds per element, done row-wise in groups of 16 and 8
// tiles (transformInput / transformOutput).
// Tiles are processed in chunks (a worker's V and M stay a few MiB), one worker per core with
// single-threaded sgemm; each chunk's output goes through the epilogue (bias, folded BatchNorm,
// LeakyReLU) as it is written. The constants are exact in binary; rounding differs from direct
// convolution by a few float ulps times the channel count (tests compare with the naive twin).
//
// Used by ConvKernels.forward for 3x3, padding 1, Cin and Cout >= minChannels, and by ConvKernels.backward
// for dx (a 3x3 pad-1 convolution of dy with the flipped, transposed filters, added into dx). dW is
// Winograd F(3x3, 2x2) in WinogradWeightGradientKernels, which reuses transformInput.

public enum WinogradKernels {
    /// Switch for A/B runs and tests.
    nonisolated(unsafe) public static var enabled = ProcessInfo.processInfo.environment["KP2D_WINOGRAD"] != "0"
    /// Smallest Cin and Cout that use Winograd (below, the sgemms are too thin to gain).
    nonisolated(unsafe) public static var minChannels = 64
    /// Forward-only convolutions (Graph.conv2dFoldedBatchNormLeakyReLU, Graph.conv2d without a recorded backward) keep
    /// U per weight tensor (A/B switch; KP2D_WINOGRAD_CACHE=0: off).
    nonisolated(unsafe) public static var cachesInferenceWeights = ProcessInfo.processInfo.environment["KP2D_WINOGRAD_CACHE"] != "0"
    /// Key of the cached U in TensorStorage.derived.
    public static let transformedWeightsKey = "winograd.U"

    /// U of the weight tensor w (Cout, Cin, 3, 3), kept with its storage until the weights change
    /// (TensorStorage.derived and version). For forward-only convolutions (inference), whose weights stay the same
    /// from one call to the next.
    public static func cachedTransformedWeights(_ w: Tensor) -> TensorStorage {
        let (cout, cin, _, _) = w.nchw
        return w.storage.derived(transformedWeightsKey, count: transformedWeightCount(cout: cout, cin: cin)) {
            transformWeights($0, w.data, cout: cout, cin: cin)
        }
    }

    /// Target floats of one chunk's transformed input (and output) per worker (KP2D_WINOGRAD_CHUNK_FLOATS for A/B runs).
    nonisolated(unsafe) public static var chunkFloats =
        Int(ProcessInfo.processInfo.environment["KP2D_WINOGRAD_CHUNK_FLOATS"] ?? "").map { max(1, $0) } ?? 1 << 20

    public static func applies(_ s: Conv2dShape) -> Bool {
        enabled && s.kh == 3 && s.kw == 3 && s.pad == 1 && s.cin >= minChannels && s.cout >= minChannels
    }

    /// u (16, Cout, Cin) = G g G^T of every 3x3 filter g = w[co][ci] of w (Cout, Cin, 3, 3): what `forward` computes
    /// on every call unless given it (inference caches it per weight tensor: Graph.conv2dFoldedBatchNormLeakyReLU).
    public static func transformWeights(_ u: UnsafeMutablePointer<Float>, _ w: UnsafePointer<Float>, cout: Int, cin: Int) {
        transformFilters(u, w, rows: cout, columns: cin, rowStride: cin * 9, columnStride: 9, flipped: false)
    }

    /// u (16, Cin, Cout) = U of the flipped, transposed filters w'[ci][co] = rot180(w[co][ci]) of w (Cout, Cin, 3, 3):
    /// dx of a 3x3 pad-1 convolution is the convolution of dy with w' (`inputGradient`), so this is its U, made
    /// without writing w' out first.
    public static func transformFlippedTransposedWeights(_ u: UnsafeMutablePointer<Float>, _ w: UnsafePointer<Float>,
                                                         cout: Int, cin: Int) {
        transformFilters(u, w, rows: cin, columns: cout, rowStride: 9, columnStride: cin * 9, flipped: true)
    }

    /// u[ξ][r][c] = (G g G^T)[ξ] for the filter g at w + r * rowStride + c * columnStride (rot180(g) when `flipped`),
    /// r < rows, c < columns; u's planes are rows x columns. 16 filters at a time (`forEachFilterGroup`), the same
    /// operations in the same order as the scalar version (`transformFilterNaive`), so the same bits.
    static func transformFilters(_ u: UnsafeMutablePointer<Float>, _ w: UnsafePointer<Float>, rows: Int, columns: Int,
                                 rowStride: Int, columnStride: Int, flipped: Bool) {
        forEachFilterGroup(u, w, rows: rows, columns: columns, rowStride: rowStride, columnStride: columnStride,
                           flipped: flipped, costPerFilter: 64) { o, g, gs, plane, lanes in
            typealias V = SIMD16<Float>
            @inline(__always) func tap(_ k: Int) -> V { UnsafeRawPointer(g + k &* gs).loadUnaligned(as: V.self) }
            // t = G g (4x3), one column of t per column of g
            @inline(__always) func column(_ col: Int) -> (V, V, V, V) {
                let g0 = tap(col), g1 = tap(3 + col), g2 = tap(6 + col)
                return (g0, 0.5 * (g0 + g1 + g2), 0.5 * (g0 - g1 + g2), g2)
            }
            let t0 = column(0), t1 = column(1), t2 = column(2)
            // u = t G^T (4x4), row by row of t
            @inline(__always) func row(_ i: Int, _ a: V, _ b: V, _ c: V) {
                store(o + (4 &* i) &* plane, a, lanes)
                store(o + (4 &* i &+ 1) &* plane, 0.5 * (a + b + c), lanes)
                store(o + (4 &* i &+ 2) &* plane, 0.5 * (a - b + c), lanes)
                store(o + (4 &* i &+ 3) &* plane, c, lanes)
            }
            row(0, t0.0, t1.0, t2.0)
            row(1, t0.1, t1.1, t2.1)
            row(2, t0.2, t1.2, t2.2)
            row(3, t0.3, t1.3, t2.3)
        }
    }

    /// The weight transforms' loop (F(2x2) here, F(4x4) in WinogradF43Kernels): for every row r < rows, the taps of its
    /// filters (the filter of column c at w + r * rowStride + c * columnStride, rot180 when `flipped`) are gathered
    /// into a (9, columns) scratch, then `group(o, g, gs, plane, lanes)` runs for 16 columns at a time: tap k of
    /// those filters is the vector at g + k * gs, and the results go to o + ξ * plane (contiguous, `lanes` valid).
    static func forEachFilterGroup(_ u: UnsafeMutablePointer<Float>, _ w: UnsafePointer<Float>, rows: Int, columns: Int,
                                   rowStride: Int, columnStride: Int, flipped: Bool, costPerFilter: Int,
                                   _ group: (UnsafeMutablePointer<Float>, UnsafePointer<Float>, Int, Int, Int) -> Void) {
        let plane = rows &* columns
        let padded = (columns &+ 15) & ~15
        KernelParallel.forRanges(rows, costPerItem: columns * costPerFilter) { range in
            StoragePool.shared.with(count: 9 &* padded) { g in
                g.update(repeating: 0, count: 9 &* padded)
                for r in range {
                    let src = w + r &* rowStride
                    for c in 0..<columns {
                        let f = src + c &* columnStride
                        if flipped {
                            for k in 0..<9 { g[k &* padded &+ c] = f[8 &- k] }
                        } else {
                            for k in 0..<9 { g[k &* padded &+ c] = f[k] }
                        }
                    }
                    let dst = u + r &* columns
                    var c = 0
                    while c < columns {
                        group(dst + c, UnsafePointer(g + c), padded, plane, min(16, columns &- c))
                        c &+= 16
                    }
                }
            }
        }
    }

    /// Store the first `lanes` lanes of v at p (all 16 as one vector).
    @inline(__always)
    static func store(_ p: UnsafeMutablePointer<Float>, _ v: SIMD16<Float>, _ lanes: Int) {
        if lanes == 16 { UnsafeMutableRawPointer(p).storeBytes(of: v, as: SIMD16<Float>.self); return }
        for i in 0..<lanes { p[i] = v[i] }
    }

    /// The 16 values G g G^T of one filter g (rot180(g) when `flipped`) at o, o + plane, ..., o + 15 plane
    /// (the scalar version of `transformFilters`, its naive twin in tests).
    static func transformFilterNaive(_ o: UnsafeMutablePointer<Float>, plane: Int, _ gp: UnsafePointer<Float>, flipped: Bool) {
        @inline(__always) func g(_ k: Int) -> Float { gp[flipped ? 8 - k : k] }
        @inline(__always) func column(_ col: Int) -> (Float, Float, Float, Float) {
            let g0 = g(col), g1 = g(3 + col), g2 = g(6 + col)
            return (g0, 0.5 * (g0 + g1 + g2), 0.5 * (g0 - g1 + g2), g2)
        }
        let t0 = column(0), t1 = column(1), t2 = column(2)
        @inline(__always) func row(_ r: Int, _ a: Float, _ b: Float, _ c: Float) {
            o[(4 * r) * plane] = a
            o[(4 * r + 1) * plane] = 0.5 * (a + b + c)
            o[(4 * r + 2) * plane] = 0.5 * (a - b + c)
            o[(4 * r + 3) * plane] = c
        }
        row(0, t0.0, t1.0, t2.0)
        row(1, t0.1, t1.1, t2.1)
        row(2, t0.2, t1.2, t2.2)
        row(3, t0.3, t1.3, t2.3)
    }

    /// Leading dimension of V for a chunk of `tiles` tiles: room for a group of 8 that starts at the chunk's last tile
    /// (the input transform writes whole groups; the columns past `tiles` are never read by the sgemm).
    public static func leadingDimension(tiles: Int) -> Int { (tiles &+ 7 &+ 15) & ~15 }

    /// V[ξ][ci][t - t0] = (B^T d B)[ξ] for tiles t0..<t1 of image xn (Cin,H,W); ld >= leadingDimension(t1 - t0).
    ///
    /// Row-wise: per input channel, the input rows of the chunk's tile rows are copied once into a zero-bordered
    /// scratch (one zero column left, zeros right and above/below the image), so every tile is an interior tile;
    /// each tile row's segment of the chunk is then done in groups of 16, then 8 tiles with no per-tile tests. A
    /// segment's last group overlaps the one before it (writing equal values again); a segment shorter than 8
    /// tiles writes a whole group whose extra columns belong to the next segment, written after it, or to the
    /// padding of ld.
    static func transformInput(_ v: UnsafeMutablePointer<Float>, _ xn: UnsafePointer<Float>, _ s: Conv2dShape,
                               tiles t0: Int, _ t1: Int, ld: Int) {
        precondition(ld >= leadingDimension(tiles: t1 - t0), "Winograd transformInput: ld \(ld) too small for \(t1 - t0) tiles")
        let plane = s.cin &* ld
        forEachPaddedTileRow(xn, s, tileStep: 2, tiles: t0, t1) { ci, p, pw, a, b in
            let dst = v + ci &* ld
            var t = a
            while b &- t >= 16 { inputGroup16(dst + (t &- t0), p + 2 &* t, pw, plane); t &+= 16 }
            while b &- t >= 8 { inputGroup8(dst + (t &- t0), p + 2 &* t, pw, plane); t &+= 8 }
            if t < b {
                let last = b &- a >= 8 ? b &- 8 : t
                inputGroup8(dst + (last &- t0), p + 2 &* last, pw, plane)
            }
        }
    }

    /// The row-wise input transforms' common part (F(2x2): tileStep 2, F(4x4): 4; a tile reads tileStep + 2 input
    /// rows and columns from row and column tileStep * index - 1). Per input channel ci, the input rows of the tile
    /// rows of tiles t0..<t1 are copied once into a zero-bordered scratch (one zero column left, zeros right and
    /// above/below the image); then `segment(ci, p, pw, a, b)` is called for each tile row's tiles a..<b of the
    /// chunk, where tile t of that row reads its top-left input at p + tileStep * t and the scratch's rows are pw
    /// apart.
    @inline(__always)
    static func forEachPaddedTileRow(_ xn: UnsafePointer<Float>, _ s: Conv2dShape, tileStep m: Int, tiles t0: Int, _ t1: Int,
                                     _ segment: (_ ci: Int, _ p: UnsafePointer<Float>, _ pw: Int, _ a: Int, _ b: Int) -> Void) {
        let tw = (s.wo + m - 1) / m
        let tiLo = t0 / tw, tiHi = (t1 - 1) / tw
        // Padded row k holds input row rowBase + k at columns 1...w (column 0 and the rest zero); a row has room for
        // the reads of a whole SIMD group of tiles that starts at the row's last tile.
        let rowBase = m &* tiLo &- 1, rows = m &* (tiHi &- tiLo) &+ m &+ 2
        let pw = (m &* tw &+ 32 &+ m &+ 15) & ~15
        let inLo = max(0, rowBase), inHi = min(s.h, rowBase &+ rows)
        let hw = s.h &* s.w, w = s.w
        StoragePool.shared.with(count: rows &* pw) { pad in
            pad.update(repeating: 0, count: rows &* pw)
            for ci in 0..<s.cin {
                let src = xn + ci &* hw
                for r in inLo..<inHi {
                    copyRow(pad + ((r &- rowBase) &* pw &+ 1), src + r &* w, count: w)
                }
                for ti in tiLo...tiHi {
                    let rowStart = ti &* tw
                    // Padded row m(ti - tiLo) is input row m ti - 1; tile tj starts at padded column m tj.
                    let padOffset: Int = m &* (ti &- tiLo) &* pw &- m &* rowStart
                    segment(ci, UnsafePointer(pad + padOffset), pw, max(t0, rowStart), min(t1, rowStart &+ tw))
                }
            }
        }
    }

    /// dst[0..<count] = src[0..<count] for short rows: vectors of 16, the last one overlapping (no call, no tail loop).
    @inline(__always)
    static func copyRow(_ dst: UnsafeMutablePointer<Float>, _ src: UnsafePointer<Float>, count: Int) {
        if count < 16 { for i in 0..<count { dst[i] = src[i] }; return }
        var i = 0
        while true {
            if i &+ 16 > count { i = count &- 16 }
            UnsafeMutableRawPointer(dst + i).storeBytes(of: UnsafeRawPointer(src + i).loadUnaligned(as: SIMD16<Float>.self),
                                                        as: SIMD16<Float>.self)
            i &+= 16
            if i >= count { return }
        }
    }

    /// 16 tiles: p points at the first tile's top-left input (padded rows of stride pw), o at its V column.
    @inline(__always)
    static func inputGroup16(_ o: UnsafeMutablePointer<Float>, _ p: UnsafePointer<Float>, _ pw: Int, _ plane: Int) {
        inputGroup(o, p, pw, plane) { q in
            let a = q.loadUnaligned(as: SIMD32<Float>.self), b = q.loadUnaligned(fromByteOffset: 8, as: SIMD32<Float>.self)
            return (a.evenHalf, a.oddHalf, b.evenHalf, b.oddHalf)
        }
    }

    /// 8 tiles, as inputGroup16.
    @inline(__always)
    static func inputGroup8(_ o: UnsafeMutablePointer<Float>, _ p: UnsafePointer<Float>, _ pw: Int, _ plane: Int) {
        inputGroup(o, p, pw, plane) { q in
            let a = q.loadUnaligned(as: SIMD16<Float>.self), b = q.loadUnaligned(fromByteOffset: 8, as: SIMD16<Float>.self)
            return (a.evenHalf, a.oddHalf, b.evenHalf, b.oddHalf)
        }
    }

    /// One lane per tile; `columns(q)` gives the four input columns (k = 0...3) of the tiles from q, where column k
    /// of tile j is q[2j + k]. Same arithmetic, in the same order, as one tile at a time.
    @inline(__always)
    static func inputGroup<V: SIMD>(_ o: UnsafeMutablePointer<Float>, _ p: UnsafePointer<Float>, _ pw: Int, _ plane: Int,
                                    columns load: (UnsafeRawPointer) -> (V, V, V, V)) where V.Scalar == Float {
        let d0 = load(UnsafeRawPointer(p)), d1 = load(UnsafeRawPointer(p + pw))
        let d2 = load(UnsafeRawPointer(p + 2 &* pw)), d3 = load(UnsafeRawPointer(p + 3 &* pw))
        @inline(__always) func store(_ xi: Int, _ x: V) {
            UnsafeMutableRawPointer(o + xi &* plane).storeBytes(of: x, as: V.self)
        }
        // rows: m = B^T d (m0 = d0 - d2, m1 = d1 + d2, m2 = d2 - d1, m3 = d1 - d3), then columns: m B
        @inline(__always) func columns(_ r: Int, _ m0: V, _ m1: V, _ m2: V, _ m3: V) {
            store(4 &* r, m0 - m2); store(4 &* r &+ 1, m1 + m2); store(4 &* r &+ 2, m2 - m1); store(4 &* r &+ 3, m1 - m3)
        }
        columns(0, d0.0 - d2.0, d0.1 - d2.1, d0.2 - d2.2, d0.3 - d2.3)
        columns(1, d1.0 + d2.0, d1.1 + d2.1, d1.2 + d2.2, d1.3 + d2.3)
        columns(2, d2.0 - d1.0, d2.1 - d1.1, d2.2 - d1.2, d2.3 - d1.3)
        columns(3, d1.0 - d3.0, d1.1 - d3.1, d1.2 - d3.2, d1.3 - d3.3)
    }

    /// y tiles t0..<t1 of image yn (Cout,Ho,Wo) = A^T M A, then the epilogue; M[ξ][co][t - t0] with leading
    /// dimension ld >= t1 - t0 (nothing past t1 - t0 is read). Row-wise like transformInput: groups of 16, then 8
    /// whole tiles (two output rows, stored as vectors; when overwriting, a last group overlapping the one
    /// before), the tiles cut by an odd Ho or Wo and the rest of a short segment one by one.
    static func transformOutput(_ yn: UnsafeMutablePointer<Float>, _ mm: UnsafePointer<Float>, _ s: Conv2dShape,
                                tiles t0: Int, _ t1: Int, ld: Int, epilogue e: ConvEpilogue, accumulate: Bool) {
        let tw = (s.wo + 1) / 2, plane = s.cout &* ld
        let tiLo = t0 / tw, tiHi = (t1 - 1) / tw
        let fullPerRow = s.wo / 2          // tiles of a tile row with both columns inside the image
        let slope = e.leakySlope
        for co in 0..<s.cout {
            let src = mm + co &* ld
            let dst = yn + co &* s.p
            let a = e.scale?[co] ?? 1, b = e.shift?[co] ?? 0
            for ti in tiLo...tiHi {
                let rowStart = ti &* tw
                let ta = max(t0, rowStart), tb = min(t1, rowStart &+ tw)
                var t = ta
                if 2 &* ti &+ 1 < s.ho {
                    // Tile t's output starts at y row 2ti, column 2(t - rowStart).
                    let rowOffset: Int = 2 &* ti &* s.wo &- 2 &* rowStart
                    let row0 = dst + rowOffset
                    let fullEnd = min(tb, rowStart &+ fullPerRow)
                    while fullEnd &- t >= 16 {
                        outputGroup16(row0 + 2 &* t, src + (t &- t0), s.wo, plane, a, b, slope, accumulate)
                        t &+= 16
                    }
                    while fullEnd &- t >= 8 {
                        outputGroup8(row0 + 2 &* t, src + (t &- t0), s.wo, plane, a, b, slope, accumulate)
                        t &+= 8
                    }
                    if !accumulate && t < fullEnd && fullEnd &- ta >= 8 {
                        outputGroup8(row0 + 2 &* (fullEnd &- 8), src + (fullEnd &- 8 &- t0), s.wo, plane, a, b, slope, false)
                        t = fullEnd
                    }
                }
                while t < tb {
                    outputTile(dst, src + (t &- t0), s, ti: ti, tj: t &- rowStart, plane, a, b, slope, accumulate)
                    t &+= 1
                }
            }
        }
    }

    /// 16 whole tiles, one lane each: p points at the first tile's M column, row0 at its top-left output. Same
    /// arithmetic, in the same order, as outputTile. (Written out for each width: the generic SIMD version compiled
    /// to gathers.)
    @inline(__always)
    static func outputGroup16(_ row0: UnsafeMutablePointer<Float>, _ p: UnsafePointer<Float>, _ wo: Int, _ plane: Int,
                              _ a: Float, _ b: Float, _ slope: Float?, _ accumulate: Bool) {
        typealias V = SIMD16<Float>
        @inline(__always) func q(_ k: Int) -> V { UnsafeRawPointer(p + k &* plane).loadUnaligned(as: V.self) }
        // A^T q: h0c = q0c + q1c + q2c, h1c = q1c - q2c - q3c
        let h00 = q(0) + q(4) + q(8), h01 = q(1) + q(5) + q(9), h02 = q(2) + q(6) + q(10), h03 = q(3) + q(7) + q(11)
        let h10 = q(4) - q(8) - q(12), h11 = q(5) - q(9) - q(13), h12 = q(6) - q(10) - q(14), h13 = q(7) - q(11) - q(15)
        var y00 = h00 + h01 + h02, y01 = h01 - h02 - h03
        var y10 = h10 + h11 + h12, y11 = h11 - h12 - h13
        if !accumulate {
            let av = V(repeating: a), bv = V(repeating: b)
            y00 = y00 * av + bv; y01 = y01 * av + bv; y10 = y10 * av + bv; y11 = y11 * av + bv
            if let slope {
                let sv = V(repeating: slope), zero = V(repeating: 0)
                y00 = y00.replacing(with: y00 * sv, where: y00 .<= zero)
                y01 = y01.replacing(with: y01 * sv, where: y01 .<= zero)
                y10 = y10.replacing(with: y10 * sv, where: y10 .<= zero)
                y11 = y11.replacing(with: y11 * sv, where: y11 .<= zero)
            }
        }
        @inline(__always) func put(_ r: UnsafeMutablePointer<Float>, _ e: V, _ o: V) {
            let lo = unsafeBitCast(zip(e.lowHalf, o.lowHalf), to: V.self), hi = unsafeBitCast(zip(e.highHalf, o.highHalf), to: V.self)
            let raw = UnsafeMutableRawPointer(r)
            if accumulate {
                raw.storeBytes(of: raw.loadUnaligned(as: V.self) + lo, as: V.self)
                raw.storeBytes(of: raw.loadUnaligned(fromByteOffset: 64, as: V.self) + hi, toByteOffset: 64, as: V.self)
            } else {
                raw.storeBytes(of: lo, as: V.self)
                raw.storeBytes(of: hi, toByteOffset: 64, as: V.self)
            }
        }
        put(row0, y00, y01)
        put(row0 + wo, y10, y11)
    }

    /// outputGroup16 for 8 tiles.
    @inline(__always)
    static func outputGroup8(_ row0: UnsafeMutablePointer<Float>, _ p: UnsafePointer<Float>, _ wo: Int, _ plane: Int,
                              _ a: Float, _ b: Float, _ slope: Float?, _ accumulate: Bool) {
        typealias V = SIMD8<Float>
        @inline(__always) func q(_ k: Int) -> V { UnsafeRawPointer(p + k &* plane).loadUnaligned(as: V.self) }
        // A^T q: h0c = q0c + q1c + q2c, h1c = q1c - q2c - q3c
        let h00 = q(0) + q(4) + q(8), h01 = q(1) + q(5) + q(9), h02 = q(2) + q(6) + q(10), h03 = q(3) + q(7) + q(11)
        let h10 = q(4) - q(8) - q(12), h11 = q(5) - q(9) - q(13), h12 = q(6) - q(10) - q(14), h13 = q(7) - q(11) - q(15)
        var y00 = h00 + h01 + h02, y01 = h01 - h02 - h03
        var y10 = h10 + h11 + h12, y11 = h11 - h12 - h13
        if !accumulate {
            let av = V(repeating: a), bv = V(repeating: b)
            y00 = y00 * av + bv; y01 = y01 * av + bv; y10 = y10 * av + bv; y11 = y11 * av + bv
            if let slope {
                let sv = V(repeating: slope), zero = V(repeating: 0)
                y00 = y00.replacing(with: y00 * sv, where: y00 .<= zero)
                y01 = y01.replacing(with: y01 * sv, where: y01 .<= zero)
                y10 = y10.replacing(with: y10 * sv, where: y10 .<= zero)
                y11 = y11.replacing(with: y11 * sv, where: y11 .<= zero)
            }
        }
        @inline(__always) func put(_ r: UnsafeMutablePointer<Float>, _ e: V, _ o: V) {
            let both = unsafeBitCast(zip(e, o), to: SIMD16<Float>.self)
            let raw = UnsafeMutableRawPointer(r)
            if accumulate {
                raw.storeBytes(of: raw.loadUnaligned(as: SIMD16<Float>.self) + both, as: SIMD16<Float>.self)
            } else {
                raw.storeBytes(of: both, as: SIMD16<Float>.self)
            }
        }
        put(row0, y00, y01)
        put(row0 + wo, y10, y11)
    }

    /// (e0, o0, e1, o1, ..., e7, o7) as 8 pairs: each lane's two floats as one 64-bit integer, e in the low half
    /// (little-endian, so e comes first in memory). Written lane by lane it compiles to two-register permutes
    /// (vpermt2ps); the widening `SIMD8<UInt64>(truncatingIfNeeded:)` it replaced stayed an out-of-line call of
    /// the standard library in the output groups (~2% of a `fast` step, docs/perf.md Round 7).
    @inline(__always)
    static func zip(_ e: SIMD8<Float>, _ o: SIMD8<Float>) -> SIMD8<UInt64> {
        unsafeBitCast(SIMD16<Float>(e[0], o[0], e[1], o[1], e[2], o[2], e[3], o[3],
                                    e[4], o[4], e[5], o[5], e[6], o[6], e[7], o[7]), to: SIMD8<UInt64>.self)
    }

    /// One tile (ti, tj), possibly cut by the image's bottom or right edge; p points at its M column.
    static func outputTile(_ dst: UnsafeMutablePointer<Float>, _ p: UnsafePointer<Float>, _ s: Conv2dShape, ti: Int, tj: Int,
                           _ plane: Int, _ a: Float, _ b: Float, _ slope: Float?, _ accumulate: Bool) {
        var q = SIMD16<Float>()
        for k in 0..<16 { q[k] = p[k &* plane] }
        // A^T q (2x4)
        var h = SIMD8<Float>()
        for c in 0..<4 {
            h[c] = q[c] + q[4 + c] + q[8 + c]
            h[4 + c] = q[4 + c] - q[8 + c] - q[12 + c]
        }
        // (A^T q) A (2x2)
        var out = SIMD4<Float>(h[0] + h[1] + h[2], h[1] - h[2] - h[3],
                               h[4] + h[5] + h[6], h[5] - h[6] - h[7])
        let oh = 2 * ti, ow = 2 * tj
        let row0 = dst + oh * s.wo + ow
        if accumulate {
            row0[0] += out[0]
            if ow + 1 < s.wo { row0[1] += out[1] }
            if oh + 1 < s.ho { row0[s.wo] += out[2]; if ow + 1 < s.wo { row0[s.wo + 1] += out[3] } }
            return
        }
        out = out * a + b
        if let slope { out = out.replacing(with: out * slope, where: out .<= 0) }
        row0[0] = out[0]
        if ow + 1 < s.wo { row0[1] = out[1] }
        if oh + 1 < s.ho { row0[s.wo] = out[2]; if ow + 1 < s.wo { row0[s.wo + 1] = out[3] } }
    }

    /// dx (N,Cin,H,W) += dL/dx of y = conv3x3pad1(x, w), from dy (N,Cout,H,W). For stride 1 and padding 1 this
    /// is itself a 3x3 pad-1 convolution of dy with the flipped, transposed filters w'[ci][co] = rot180(w[co][ci]).
    public static func inputGradient(_ dx: UnsafeMutablePointer<Float>, _ dy: UnsafePointer<Float>,
                                     _ w: UnsafePointer<Float>, _ s: Conv2dShape) {
        precondition(s.kh == 3 && s.kw == 3 && s.pad == 1, "Winograd F(2x2,3x3) needs a 3x3 kernel with padding 1, got \(s)")
        let t = Conv2dShape(n: s.n, cin: s.cout, h: s.ho, w: s.wo, cout: s.cin, kh: 3, kw: 3, pad: 1)
        StoragePool.shared.with(count: transformedWeightCount(cout: s.cin, cin: s.cout)) { u in
            transformFlippedTransposedWeights(u, w, cout: s.cout, cin: s.cin)
            forward(dx, dy, w, t, epilogue: ConvEpilogue(), accumulate: true, transformedWeights: u)
        }
    }

    /// Tiles per chunk and number of chunks per image for shape s: chunks of at most chunkFloats transformed
    /// values per worker, and a number of work items (images x chunks) that is a multiple of the workers where
    /// the tiles allow it, with the tiles spread evenly over the chunks (a single 240x320 image's H/8 layers
    /// have 300 tiles: two chunks of 150, not 256 + 44 on two cores).
    static func chunking(_ s: Conv2dShape, workers: Int) -> (perChunk: Int, chunks: Int) {
        chunking(s, workers: workers, tiles: ((s.ho + 1) / 2) * ((s.wo + 1) / 2), products: 16, chunkFloats: chunkFloats)
    }

    /// `chunking` for `tiles` tiles per image with `products` transformed values each (F(2x2): 16, F(4x4): 36).
    static func chunking(_ s: Conv2dShape, workers: Int, tiles: Int, products: Int, chunkFloats: Int) -> (perChunk: Int, chunks: Int) {
        let maxPerChunk = max(8, min(tiles, chunkFloats / (products * max(s.cin, s.cout))))
        var chunks = (tiles + maxPerChunk - 1) / maxPerChunk
        let maxChunks = max(1, tiles / 8)
        while (s.n * chunks) % max(1, workers) != 0 && chunks < maxChunks { chunks += 1 }
        let perChunk = max(8, (tiles + chunks - 1) / chunks)
        return (perChunk, (tiles + perChunk - 1) / perChunk)
    }

    /// Floats of U for a (Cout, Cin, 3, 3) weight: `transformedWeights` of `forward` holds this many.
    public static func transformedWeightCount(cout: Int, cin: Int) -> Int { 16 * cout * cin }

    /// y = epilogue(conv3x3pad1(x, w)) for a shape where `applies(s)`. Overwrites y, or adds into it
    /// (epilogue ignored) when `accumulate`. `transformedWeights`: U of w from `transformWeights` (else computed here).
    public static func forward(_ y: UnsafeMutablePointer<Float>, _ x: UnsafePointer<Float>,
                               _ w: UnsafePointer<Float>, _ s: Conv2dShape, epilogue e: ConvEpilogue,
                               accumulate: Bool = false, transformedWeights: UnsafePointer<Float>? = nil) {
        precondition(s.kh == 3 && s.kw == 3 && s.pad == 1, "Winograd F(2x2,3x3) needs a 3x3 kernel with padding 1, got \(s)")
        let tiles = ((s.ho + 1) / 2) * ((s.wo + 1) / 2)
        let (perChunk, chunks) = chunking(s, workers: ConvKernels.workers)
        func run(_ u: UnsafePointer<Float>) {
            forwardChunks(y, x, u, s, tiles: tiles, products: 16, perChunk: perChunk, chunks: chunks,
                          epilogue: e, accumulate: accumulate,
                          input: { v, xn, t0, t1, ld in transformInput(v, xn, s, tiles: t0, t1, ld: ld) },
                          output: { yn, m, t0, t1, ld, e, acc in transformOutput(yn, m, s, tiles: t0, t1, ld: ld, epilogue: e, accumulate: acc) })
        }
        if let transformedWeights { run(transformedWeights); return }
        StoragePool.shared.with(count: transformedWeightCount(cout: s.cout, cin: s.cin)) { u in
            transformWeights(u, w, cout: s.cout, cin: s.cin)
            run(u)
        }
    }

    /// The forward of both tile sizes (F(2x2): this file; F(4x4): WinogradF43Kernels) given U: work items (image, chunk
    /// of `perChunk` tiles) pulled by one worker per core, each with its own V and M; per item the input transform,
    /// `products` single-threaded sgemms M[ξ] (Cout, tiles) = U[ξ] (Cout, Cin) @ V[ξ] (Cin, tiles), then the output
    /// transform with the epilogue (or adding into y). `input(v, xn, t0, t1, ld)` and
    /// `output(yn, m, t0, t1, ld, epilogue, accumulate)` are the tile size's transforms.
    static func forwardChunks(_ y: UnsafeMutablePointer<Float>, _ x: UnsafePointer<Float>, _ u: UnsafePointer<Float>,
                              _ s: Conv2dShape, tiles: Int, products: Int, perChunk: Int, chunks: Int,
                              epilogue e: ConvEpilogue, accumulate: Bool,
                              input: (UnsafeMutablePointer<Float>, UnsafePointer<Float>, Int, Int, Int) -> Void,
                              output: (UnsafeMutablePointer<Float>, UnsafePointer<Float>, Int, Int, Int, ConvEpilogue, Bool) -> Void) {
        let xStride = s.cin * s.h * s.w, yStride = s.cout * s.p
        let vCount = products * s.cin * leadingDimension(tiles: perChunk), mCount = products * s.cout * perChunk
        let items = KernelWorkCounter(count: s.n * chunks)
        let workers = min(ConvKernels.workers, s.n * chunks)
        func work() {
            StoragePool.shared.with(count: vCount) { v in
                StoragePool.shared.with(count: mCount) { m in
                    while let item = items.take() {
                        let n = item / chunks, t0 = (item % chunks) * perChunk, t1 = min(tiles, t0 + perChunk)
                        // V has room for whole groups past the chunk; M is contiguous (ldc = n), which
                        // OpenBLAS zeroes (beta = 0) with one memset instead of a strided loop.
                        let count = t1 - t0, ld = leadingDimension(tiles: count)
                        input(v, x + n * xStride, t0, t1, ld)
                        for xi in 0..<products {
                            MatmulKernels.sgemm(c: m + xi * s.cout * count, ldc: count, transA: false, transB: false,
                                                m: s.cout, n: count, k: s.cin, alpha: 1,
                                                a: u + xi * s.cout * s.cin, lda: s.cin, b: v + xi * s.cin * ld, ldb: ld, beta: 0)
                        }
                        output(y + n * yStride, m, t0, t1, count, accumulate ? ConvEpilogue() : e, accumulate)
                    }
                }
            }
        }
        // Always single-threaded sgemm: the small products of a chunk would pay OpenBLAS's thread hand-off each
        // time (and wait for a descheduled helper thread on a loaded machine).
        KernelParallel.withSingleThreadedBLAS {
            if workers > 1 {
                KernelParallel.perform(workers: workers) { _ in work() }
            } else {
                work()
            }
        }
    }
}
