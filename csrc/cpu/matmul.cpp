// Batched matrix product (GEMM) on the CPU.
//
// A naive triple loop reaches a few GFLOP/s: it waits on memory, not on arithmetic. This file
// follows the structure every fast BLAS uses (Goto and van de Geijn, "Anatomy of High-Performance
// Matrix Multiplication", 2008): five loops that move blocks of A and B into the caches where
// they are reused, around a micro-kernel that keeps a small tile of C in registers.
//
//   for jc in my columns, step NC                a KC x NC block of B lives in L2/L3
//     for pc in 0..K step KC
//       pack B[pc:pc+KC, jc:jc+NC]               into NR-wide column panels
//       for ic in my rows, step MC               an MC x KC block of A lives in this core's L2
//         pack A[ic:ic+MC, pc:pc+KC]             into MR-tall row panels
//         for jr in my columns, step NR          one KC x NR panel of B stays in L1 ...
//           for ir in 0..MC step MR              ... while panels of A stream past it from L2
//             C[ir:ir+MR, jr:jr+NR] (+)= Apanel @ Bpanel        the micro-kernel, in registers
//
// Packing copies each block once into the exact order the micro-kernel reads it (so every load
// in the inner loop is contiguous and aligned), pads edges with zeros (so the micro-kernel never
// branches on sizes), and absorbs the transpose flags (so no transposed copy is ever made).
//
// Threads split C into one rectangle each ("my rows", "my columns") and run these loops on it
// independently; see choose_split for why they do not share packed blocks.

#include "cpu/matmul.h"

#include <algorithm>
#include <cstdlib>
#include <memory>
#include <new>

#include "cpu/runtime.h"

#ifdef _OPENMP
#include <omp.h>
#endif

// The AVX-512 micro-kernel is compiled when the compiler targets AVX-512 (-march=native on a CPU
// that has it, which is the default build). A portable build (MINIDL_PORTABLE=ON) or another CPU
// gets the plain C++ micro-kernel further down, which the compiler vectorises as well as it can.
#ifdef __AVX512F__
#include <immintrin.h>
#define MINIDL_MATMUL_AVX512 1
#else
#define MINIDL_MATMUL_AVX512 0
#endif

namespace minidl::cpu {

namespace {

// ---------------------------------------------------------------------------------------------
// Tile and block sizes
//
// MR x NR is the tile of C one micro-kernel call keeps in registers. Each step of its loop over k
// loads NR values of B and broadcasts MR values of A, then does MR*NR multiply-adds, so a larger
// tile does more arithmetic per load; the limit is the register file.
//
// KC, MC, NC size the packed blocks for the cache level each is reused from (sizes for the AMD
// EPYC (Zen 4) this was tuned on: 32 KiB L1d and 1 MiB L2 per core, 32 MiB L3 shared):
//   KC: the depth of one block. The C tile is read and written once per KC steps, so KC should
//       be large; one B panel (KC x NR) is reused by every A panel of the block, so it should
//       stay close to L1. KC = 256 makes that panel 32 KiB, all of L1: it spills a little into
//       L2, whose bandwidth is ample for it (measured: KC = 128 or 512 run at the same speed).
//   MC: the packed A block (MC x KC) is reused for every B panel, so it lives in L2: 240 KiB,
//       a quarter of L2, leaving room for the B panels and C lines streaming through.
//   NC: the packed B block (KC x NC) is read from L3 once per A block; each thread packs its
//       own, so 2 MiB each keeps both well inside L3. A wider NC would only save re-packing A,
//       which happens once per NC columns.
// Measured on this machine, MC from 120 to 480 and tile shapes 12x32, 14x32, 8x48 and 6x64 all
// land within the run-to-run noise: the micro-kernel, not the blocking, sets the speed.
template <typename T>
struct Blocking;

#if MINIDL_MATMUL_AVX512
// 32 zmm registers: 12 rows x 2 vectors = 24 accumulators, 2 for the B row, 1 for the broadcast A
// value. (14 x 2 = 28 accumulators also fits but leaves the edge tiles more often unfilled.)
template <>
struct Blocking<float> {
    static constexpr int MR = 12, NR = 32;  // NR = 2 zmm of 16 floats
    static constexpr int64_t KC = 256, MC = 240, NC = 2048;
};
template <>
struct Blocking<double> {
    static constexpr int MR = 12, NR = 16;  // NR = 2 zmm of 8 doubles: same bytes as float
    static constexpr int64_t KC = 256, MC = 120, NC = 1024;
};
#else
// Small enough for 16 SSE registers (4 x 8 floats = 8 xmm accumulators); a compiler targeting
// AVX2 or NEON vectorises the same loops with wider registers.
template <>
struct Blocking<float> {
    static constexpr int MR = 4, NR = 8;
    static constexpr int64_t KC = 256, MC = 128, NC = 2048;
};
template <>
struct Blocking<double> {
    static constexpr int MR = 4, NR = 4;
    static constexpr int64_t KC = 256, MC = 64, NC = 1024;
};
#endif

// Each thread gets at least this many multiply-adds (M*N*K); smaller products run on fewer
// threads. Starting a parallel region costs about 3 us here, which a product must repay.
// Measured on an idle machine, two threads against one: 0.97x at 128x10x100 (128k), 1.15x at
// 48^3 (110k), 1.3x at 64^3 (262k), 1.2x at 128x100x40 (512k), 1.6x at 96^3, 1.9x from 192^3.
constexpr int64_t kMinWorkPerThread = int64_t(1) << 16;  // two threads from 131072, about 51^3

// Batches of matrices up to this size (M*N*K) run one matrix per thread, each on one thread,
// instead of all threads on each matrix in turn: one fork and join for the whole batch instead
// of one per matrix, and no matrix split so thin that its edges dominate.
constexpr int64_t kMaxBatchParallelWork = int64_t(192) * 192 * 192;

constexpr size_t kAlign = 64;  // a cache line, and one zmm register

int64_t ceil_div(int64_t a, int64_t b) { return (a + b - 1) / b; }
int64_t round_up(int64_t a, int64_t b) { return ceil_div(a, b) * b; }

// ---------------------------------------------------------------------------------------------
// Micro-kernels: c[0:MR, 0:NR] = (accumulate ? c : 0) + sum over k of a[k] (outer) b[k]
//   a: packed A panel, kc steps of MR values (one column of the MR x kc block per step)
//   b: packed B panel, kc steps of NR values (one row of the kc x NR block per step)
//   c: row-major tile with leading dimension ldc

#if MINIDL_MATMUL_AVX512

// One name for the float and double flavours of the few AVX-512 operations the kernel needs.
template <typename T>
struct Zmm;
template <>
struct Zmm<float> {
    using reg = __m512;
    static constexpr int lanes = 16;
    static reg zero() { return _mm512_setzero_ps(); }
    static reg load_aligned(const float* p) { return _mm512_load_ps(p); }
    static reg load(const float* p) { return _mm512_loadu_ps(p); }
    static void store(float* p, reg v) { _mm512_storeu_ps(p, v); }
    static reg broadcast(const float* p) { return _mm512_set1_ps(*p); }
    static reg fma(reg a, reg b, reg c) { return _mm512_fmadd_ps(a, b, c); }
    static reg add(reg a, reg b) { return _mm512_add_ps(a, b); }
};
template <>
struct Zmm<double> {
    using reg = __m512d;
    static constexpr int lanes = 8;
    static reg zero() { return _mm512_setzero_pd(); }
    static reg load_aligned(const double* p) { return _mm512_load_pd(p); }
    static reg load(const double* p) { return _mm512_loadu_pd(p); }
    static void store(double* p, reg v) { _mm512_storeu_pd(p, v); }
    static reg broadcast(const double* p) { return _mm512_set1_pd(*p); }
    static reg fma(reg a, reg b, reg c) { return _mm512_fmadd_pd(a, b, c); }
    static reg add(reg a, reg b) { return _mm512_add_pd(a, b); }
};

// The tile is ROWS x VECS vectors. The main loop always uses the full MR x NR tile; smaller
// ROWS and VECS serve the edges of C (see edge_kernel), reading only the first ROWS values of
// each step of the A panel and the first VECS vectors of each step of the B panel.
template <typename T, int ROWS = Blocking<T>::MR, int VECS = Blocking<T>::NR / Zmm<T>::lanes>
void micro_kernel(int64_t kc, const T* __restrict a, const T* __restrict b, T* __restrict c,
                  int64_t ldc, bool accumulate) {
    using V = Zmm<T>;

    // The whole C tile lives in registers for the entire k loop: ROWS*VECS accumulators. The
    // loops over rows and vectors have constant trip counts and are fully unrolled by the
    // compiler, so acc[][] never touches memory.
    typename V::reg acc[ROWS][VECS];
#pragma GCC unroll 16
    for (int row = 0; row < ROWS; ++row)
#pragma GCC unroll 4
        for (int v = 0; v < VECS; ++v) acc[row][v] = V::zero();

    for (int64_t k = 0; k < kc; ++k) {
        typename V::reg b_row[VECS];
#pragma GCC unroll 4
        for (int v = 0; v < VECS; ++v) b_row[v] = V::load_aligned(b + v * V::lanes);
#pragma GCC unroll 16
        for (int row = 0; row < ROWS; ++row) {
            const typename V::reg a_value = V::broadcast(a + row);
#pragma GCC unroll 4
            for (int v = 0; v < VECS; ++v) acc[row][v] = V::fma(a_value, b_row[v], acc[row][v]);
        }
        a += Blocking<T>::MR;  // the panels keep their full MR / NR layout
        b += Blocking<T>::NR;
    }

#pragma GCC unroll 16
    for (int row = 0; row < ROWS; ++row) {
        T* c_row = c + row * ldc;
#pragma GCC unroll 4
        for (int v = 0; v < VECS; ++v) {
            typename V::reg out = acc[row][v];
            if (accumulate) out = V::add(out, V::load(c_row + v * V::lanes));
            V::store(c_row + v * V::lanes, out);
        }
    }
}

// An edge tile of `rows` x `cols` (rows <= MR, cols <= NR), written to `c` with leading
// dimension NR. Computing it with the full MR x NR kernel would waste most of the work on thin
// products: a layer with 10 outputs (N = 10) would compute 32 columns. So the kernel is
// instantiated for every row count 1..MR, and for every whole number of vectors covering cols;
// the recursion below picks the instantiation at run time, one row count per step.
template <typename T, int ROWS = Blocking<T>::MR>
void edge_kernel(int64_t kc, const T* a, const T* b, T* c, int64_t rows, int64_t cols) {
    constexpr int NV = Blocking<T>::NR / Zmm<T>::lanes;
    static_assert(NV == 2, "the choice of vector count below assumes two vectors per row");
    if constexpr (ROWS > 1) {
        if (rows < ROWS) {
            edge_kernel<T, ROWS - 1>(kc, a, b, c, rows, cols);
            return;
        }
    }
    if (cols <= Zmm<T>::lanes)
        micro_kernel<T, ROWS, 1>(kc, a, b, c, Blocking<T>::NR, false);
    else
        micro_kernel<T, ROWS, 2>(kc, a, b, c, Blocking<T>::NR, false);
}

#else  // portable micro-kernel

template <typename T>
void micro_kernel(int64_t kc, const T* __restrict a, const T* __restrict b, T* __restrict c,
                  int64_t ldc, bool accumulate) {
    constexpr int MR = Blocking<T>::MR, NR = Blocking<T>::NR;
    // Same idea as the AVX-512 kernel, written as plain loops: the tile of C is a small local
    // array the compiler keeps in vector registers, the loop over columns is the vector loop.
    T acc[MR][NR] = {};
    for (int64_t k = 0; k < kc; ++k) {
        for (int row = 0; row < MR; ++row) {
            const T a_value = a[row];
            for (int col = 0; col < NR; ++col) acc[row][col] += a_value * b[col];
        }
        a += MR;
        b += NR;
    }
    for (int row = 0; row < MR; ++row)
        for (int col = 0; col < NR; ++col)
            c[row * ldc + col] = accumulate ? c[row * ldc + col] + acc[row][col] : acc[row][col];
}

// An edge tile: the full kernel on the zero-padded panels (the portable build keeps it simple).
template <typename T>
void edge_kernel(int64_t kc, const T* a, const T* b, T* c, int64_t /*rows*/, int64_t /*cols*/) {
    micro_kernel<T>(kc, a, b, c, Blocking<T>::NR, false);
}

#endif

// One tile of C. A tile at the bottom or right edge, smaller than MR x NR, is computed into a
// scratch tile (the packed panels are zero-padded, so whole vectors can be read), and only its
// valid part is written to C: the kernel never writes outside C.
template <typename T>
void compute_tile(int64_t kc, const T* a_panel, const T* b_panel, T* c, int64_t ldc, int64_t rows,
                  int64_t cols, bool accumulate) {
    constexpr int MR = Blocking<T>::MR, NR = Blocking<T>::NR;
    if (rows == MR && cols == NR) {
        micro_kernel<T>(kc, a_panel, b_panel, c, ldc, accumulate);
        return;
    }
    alignas(kAlign) T tile[MR * NR];
    edge_kernel<T>(kc, a_panel, b_panel, tile, rows, cols);
    for (int64_t row = 0; row < rows; ++row)
        for (int64_t col = 0; col < cols; ++col) {
            const T value = tile[row * NR + col];
            c[row * ldc + col] = accumulate ? c[row * ldc + col] + value : value;
        }
}

// ---------------------------------------------------------------------------------------------
// Packing

// A matrix seen through strides: element (i, j) is at data[i * row_stride + j * col_stride].
// A transposed operand is the same memory with the two strides swapped.
template <typename T>
struct Strided {
    const T* data;
    int64_t row_stride, col_stride;
};

// Pack rows [i0, i0+mc) x columns [p0, p0+kc) of A into MR-tall panels: panel after panel, each
// kc steps of MR values. Rows past the end of the block are zeros.
template <typename T>
void pack_a(const Strided<T>& A, int64_t i0, int64_t mc, int64_t p0, int64_t kc, T* dst) {
    constexpr int MR = Blocking<T>::MR;
    for (int64_t panel_row = 0; panel_row < mc; panel_row += MR, dst += MR * kc) {
        const int64_t rows = std::min<int64_t>(MR, mc - panel_row);
        const T* src = A.data + (i0 + panel_row) * A.row_stride + p0 * A.col_stride;
        // Walk the source in its memory order, so each cache line is read once.
        if (A.row_stride == 1) {  // stored transposed: the MR values of one step are adjacent
            for (int64_t k = 0; k < kc; ++k) {
                const T* column = src + k * A.col_stride;
                for (int64_t r = 0; r < rows; ++r) dst[k * MR + r] = column[r];
                for (int64_t r = rows; r < MR; ++r) dst[k * MR + r] = T(0);
            }
        } else {  // row-major: read each row along k, write it with stride MR
            for (int64_t r = 0; r < rows; ++r) {
                const T* row = src + r * A.row_stride;
                for (int64_t k = 0; k < kc; ++k) dst[k * MR + r] = row[k * A.col_stride];
            }
            for (int64_t r = rows; r < MR; ++r)
                for (int64_t k = 0; k < kc; ++k) dst[k * MR + r] = T(0);
        }
    }
}

// Pack one NR-wide panel of B: rows [p0, p0+kc) x columns [j0, j0+NR), kc steps of NR values.
// Columns past the end of B (cols < NR) are zeros.
template <typename T>
void pack_b_panel(const Strided<T>& B, int64_t p0, int64_t kc, int64_t j0, int64_t cols, T* dst) {
    constexpr int NR = Blocking<T>::NR;
    const T* src = B.data + p0 * B.row_stride + j0 * B.col_stride;
    if (B.col_stride == 1) {  // row-major: each step copies NR adjacent values
        for (int64_t k = 0; k < kc; ++k) {
            const T* row = src + k * B.row_stride;
            for (int64_t c = 0; c < cols; ++c) dst[k * NR + c] = row[c];
            for (int64_t c = cols; c < NR; ++c) dst[k * NR + c] = T(0);
        }
    } else {  // stored transposed: read each column of B along k, write it with stride NR
        for (int64_t c = 0; c < cols; ++c) {
            const T* column = src + c * B.col_stride;
            for (int64_t k = 0; k < kc; ++k) dst[k * NR + c] = column[k * B.row_stride];
        }
        for (int64_t c = cols; c < NR; ++c)
            for (int64_t k = 0; k < kc; ++k) dst[k * NR + c] = T(0);
    }
}

// ---------------------------------------------------------------------------------------------
// Workspace: the packed blocks. Kept per calling thread and grown on demand, so that a training
// loop calling matmul thousands of times does not allocate each time.

struct FreeDeleter {
    void operator()(void* p) const { std::free(p); }
};

class Workspace {
   public:
    void* get(size_t bytes) {
        bytes = size_t(round_up(int64_t(bytes), int64_t(kAlign)));
        if (bytes > size_) {
            memory_.reset();
            void* p = std::aligned_alloc(kAlign, bytes);
            if (p == nullptr) throw std::bad_alloc();
            memory_.reset(p);
            size_ = bytes;
        }
        return memory_.get();
    }

   private:
    std::unique_ptr<void, FreeDeleter> memory_;
    size_t size_ = 0;
};

thread_local Workspace t_workspace;

int thread_id() {
#ifdef _OPENMP
    return omp_get_thread_num();
#else
    return 0;
#endif
}

// The number of threads running the current parallel region.
int team_size() {
#ifdef _OPENMP
    return omp_get_num_threads();
#else
    return 1;
#endif
}

// ---------------------------------------------------------------------------------------------
// One matrix product C (M x N, row-major, leading dimension N) = A (M x K) @ B (K x N)

template <typename T>
struct Gemm {
    Strided<T> A, B;
    T* C;
    int64_t M, N, K;

    // The packed blocks this product needs, never larger than the matrices themselves.
    int64_t kc_max() const { return std::min(Blocking<T>::KC, K); }
    int64_t mc_max() const { return std::min(Blocking<T>::MC, round_up(M, Blocking<T>::MR)); }
    int64_t nc_max() const { return std::min(Blocking<T>::NC, round_up(N, Blocking<T>::NR)); }
    size_t a_block_elems() const { return size_t(round_up(mc_max() * kc_max(), kAlign)); }
    size_t b_block_elems() const { return size_t(round_up(kc_max() * nc_max(), kAlign)); }
    // One thread's workspace: its B block, then its A block.
    size_t workspace_elems() const { return b_block_elems() + a_block_elems(); }
};

// The part of C one thread computes: rows [row_begin, row_end) x columns [col_begin, col_end).
struct Rect {
    int64_t row_begin, row_end, col_begin, col_end;
};

// The five loops of the header comment, on one thread, for one rectangle of C.
template <typename T>
void gemm_rect(const Gemm<T>& g, const Rect& r, T* workspace) {
    constexpr int MR = Blocking<T>::MR, NR = Blocking<T>::NR;
    T* packed_b = workspace;
    T* packed_a = workspace + g.b_block_elems();

    for (int64_t jc = r.col_begin; jc < r.col_end; jc += Blocking<T>::NC) {
        const int64_t nc = std::min(Blocking<T>::NC, r.col_end - jc);

        for (int64_t pc = 0; pc < g.K; pc += Blocking<T>::KC) {
            const int64_t kc = std::min(Blocking<T>::KC, g.K - pc);
            const bool accumulate = pc > 0;  // the first K block writes C, later ones add to it
            for (int64_t jr = 0; jr < nc; jr += NR) {
                const int64_t cols = std::min<int64_t>(NR, nc - jr);
                pack_b_panel(g.B, pc, kc, jc + jr, cols, packed_b + jr * kc);
            }

            for (int64_t ic = r.row_begin; ic < r.row_end; ic += Blocking<T>::MC) {
                const int64_t mc = std::min(Blocking<T>::MC, r.row_end - ic);
                pack_a(g.A, ic, mc, pc, kc, packed_a);

                for (int64_t jr = 0; jr < nc; jr += NR) {
                    const int64_t cols = std::min<int64_t>(NR, nc - jr);
                    for (int64_t ir = 0; ir < mc; ir += MR) {
                        const int64_t rows = std::min<int64_t>(MR, mc - ir);
                        T* c_tile = g.C + (ic + ir) * g.N + jc + jr;
                        compute_tile(kc, packed_a + ir * kc, packed_b + jr * kc, c_tile, g.N, rows,
                                     cols, accumulate);
                    }
                }
            }
        }
    }
}

// How `threads` threads share C: a grid of row_groups x col_groups rectangles, one per thread.
//
// Each thread then runs the whole blocked algorithm on its rectangle, packing its own copies of
// the blocks it needs. Threads that split rows both pack the same B block, which costs a little
// extra copying (K*N per thread, against M*N*K/threads multiply-adds); in return the threads never
// wait for each other until the end. Sharing one packed B block would need a barrier per block,
// and on a machine busy with other work a barrier waits for whichever thread was descheduled;
// measured here, that made a product 30x slower under load.
struct Split {
    int row_groups, col_groups;
};

template <typename T>
Split choose_split(const Gemm<T>& g, int threads) {
    const int64_t row_tiles = ceil_div(g.M, Blocking<T>::MR);
    const int64_t col_tiles = ceil_div(g.N, Blocking<T>::NR);
    Split best{threads, 1};
    int64_t best_cost = -1;
    for (int rows = threads; rows >= 1; --rows) {
        if (threads % rows != 0) continue;
        const int cols = threads / rows;
        // The slowest thread decides: the largest share of tiles any thread gets. On a tie, more
        // row groups win (split rows first): each thread then packs only its own rows of A.
        const int64_t cost = ceil_div(row_tiles, rows) * ceil_div(col_tiles, cols);
        if (best_cost < 0 || cost < best_cost) {
            best = Split{rows, cols};
            best_cost = cost;
        }
    }
    return best;
}

// The share [begin, end) of `count` tiles of `size` that member `index` of `groups` gets, as even
// as it can be; the last tile may be cut short by `limit`.
void share(int64_t count, int64_t size, int64_t limit, int groups, int index, int64_t* begin,
           int64_t* end) {
    *begin = std::min(limit, count * index / groups * size);
    *end = std::min(limit, count * (index + 1) / groups * size);
}

// Run one product on `threads` threads; `workspace` holds g.workspace_elems() per thread.
template <typename T>
void gemm(const Gemm<T>& g, int threads, T* workspace) {
    if (g.K == 0) {  // an empty sum: C is zeros
        std::fill(g.C, g.C + g.M * g.N, T(0));
        return;
    }
    if (threads == 1) {
        gemm_rect(g, Rect{0, g.M, 0, g.N}, workspace);
        return;
    }
    const int64_t row_tiles = ceil_div(g.M, Blocking<T>::MR);
    const int64_t col_tiles = ceil_div(g.N, Blocking<T>::NR);

#pragma omp parallel num_threads(threads)
    {
        // OpenMP may run the region on fewer threads than asked for (inside another parallel
        // region, or under OMP_THREAD_LIMIT); C is split among the threads actually running,
        // or part of it would never be computed.
        const Split split = choose_split(g, team_size());
        const int tid = thread_id();
        Rect mine;
        share(row_tiles, Blocking<T>::MR, g.M, split.row_groups, tid / split.col_groups,
              &mine.row_begin, &mine.row_end);
        share(col_tiles, Blocking<T>::NR, g.N, split.col_groups, tid % split.col_groups,
              &mine.col_begin, &mine.col_end);
        if (mine.row_begin < mine.row_end && mine.col_begin < mine.col_end)
            gemm_rect(g, mine, workspace + size_t(tid) * g.workspace_elems());
    }
}

}  // namespace

// ---------------------------------------------------------------------------------------------

template <typename T>
void matmul(const T* a, const T* b, T* c, int64_t batch_a, int64_t batch_b, int64_t M, int64_t N,
            int64_t K, bool trans_a, bool trans_b) {
    // An empty batch on either side is an empty result (a batch of 0 broadcasts to 0, not 1).
    if (batch_a == 0 || batch_b == 0 || M == 0 || N == 0) return;
    int64_t batch = std::max(batch_a, batch_b);

    // x @ W with W shared across a batch (a linear layer on a batch of sequences) is one tall
    // product: the A matrices lie one after another in memory, and so do the C matrices.
    if (batch_b == 1 && batch_a > 1 && !trans_a) {
        M *= batch_a;
        batch = batch_a = 1;
    }

    // Element (i, j) of op(A) and op(B), through strides: a flag swaps the strides, no copy.
    const Strided<T> A = trans_a ? Strided<T>{a, 1, M} : Strided<T>{a, K, 1};
    const Strided<T> B = trans_b ? Strided<T>{b, 1, K} : Strided<T>{b, N, 1};
    const int64_t a_step = batch_a == 1 ? 0 : M * K;  // a batch of 1 is shared
    const int64_t b_step = batch_b == 1 ? 0 : N * K;
    const int64_t c_step = M * N;

    auto product = [&](int64_t index) {
        return Gemm<T>{Strided<T>{A.data + index * a_step, A.row_stride, A.col_stride},
                       Strided<T>{B.data + index * b_step, B.row_stride, B.col_stride},
                       c + index * c_step,
                       M,
                       N,
                       K};
    };
    const Gemm<T> shape = product(0);
    const int available = get_num_threads();

    if (batch > 1 && available > 1 && M * N * K <= kMaxBatchParallelWork) {
        // Many small products: one per thread at a time, each with its own workspace.
        const int threads = int(std::min<int64_t>(available, batch));
        const size_t per_thread = shape.workspace_elems();
        T* workspace = static_cast<T*>(t_workspace.get(per_thread * threads * sizeof(T)));
#pragma omp parallel for num_threads(threads) schedule(static)
        for (int64_t index = 0; index < batch; ++index)
            gemm(product(index), 1, workspace + size_t(thread_id()) * per_thread);
        return;
    }

    // Few or large products: all threads work on each product in turn.
    const int threads = threads_for(M * N * K, kMinWorkPerThread);
    T* workspace =
        static_cast<T*>(t_workspace.get(shape.workspace_elems() * size_t(threads) * sizeof(T)));
    for (int64_t index = 0; index < batch; ++index) gemm(product(index), threads, workspace);
}

template void matmul<float>(const float*, const float*, float*, int64_t, int64_t, int64_t, int64_t,
                            int64_t, bool, bool);
template void matmul<double>(const double*, const double*, double*, int64_t, int64_t, int64_t,
                             int64_t, int64_t, bool, bool);

template <typename T>
MatmulTile matmul_tile() {
    return MatmulTile{Blocking<T>::MR, Blocking<T>::NR};
}
template MatmulTile matmul_tile<float>();
template MatmulTile matmul_tile<double>();

const char* simd() { return MINIDL_MATMUL_AVX512 ? "avx512f" : "portable"; }

}  // namespace minidl::cpu
