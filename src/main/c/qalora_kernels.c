/*
 * The products of a training step on a batch of a few rows (io.qalora.lora.SkinnyProduct).
 *
 * product_*: y = alpha x W^T + scale h F^T (the low-rank term optional). OpenBLAS packs all of W
 * for every call, which at 32 x 4096 x 4096 costs about as much as the arithmetic; here each output
 * is a dot product of two rows read in place, four rows of x by six (AVX-512: 24 of its 32 registers
 * accumulate) or three (AVX2: 12 of 16) rows of W at a time, with k cut into chunks so that a chunk
 * of x stays in the L2 cache while W streams. Each x load from L2 serves as many products as the
 * tile has W rows: at 32 x 4096 x 4096 on 2 threads, six rows took 6.3-6.4 ms against 7.5-7.7 with
 * four (chunk 1024 against 2048). The low-rank term is one more stretch of the same dot products
 * (scale h against F) after the last chunk.
 *
 * broadcast_*: the backward's rank-wide products, which sum over the batch or a rank-wide output.
 *
 * Built by Maven (exec-maven-plugin) with gcc; no -march flag: each variant names its own target
 * and the Java side asks which the CPU has.
 */
#include <immintrin.h>
#include <jni.h>
#include <stddef.h>

#define K_CHUNK 1024
#define W_ROWS_512 6

enum { NONE = 0, AVX2 = 1, AVX512 = 2 };

/* A tile: up to 4 rows of x (or h) and up to 6 rows of W (or F). */
typedef struct {
    const float *x[4];
    const float *w[6];
} tile;

/* Row i of at most n rows starting at p: a short tile repeats its first row (read, never stored). */
static const float *tile_row(const float *p, size_t stride, int i, int n) {
    return p + (i < n ? (size_t) i * stride : 0);
}

static tile tile_at(const float *x, const float *w, size_t stride, int nr, int no) {
    tile t;
    for (int i = 0; i < 4; i++) {
        t.x[i] = tile_row(x, stride, i, nr);
    }
    for (int j = 0; j < 6; j++) {
        t.w[j] = tile_row(w, stride, j, no);
    }
    return t;
}

/* Stores s[i][j] in y[(r + i) * ldy + o + j], or adds it to what is there when not `store`. */
static void store_tile(float *y, int ldy, int r, int o, int nr, int no, int store, float s[4][6]) {
    for (int i = 0; i < nr; i++) {
        for (int j = 0; j < no; j++) {
            float *d = y + (size_t) (r + i) * ldy + o + j;
            *d = store ? s[i][j] : *d + s[i][j];
        }
    }
}

/* Inlined into each product so that the accumulators stay in registers. */
#define KERNEL_STEP static inline __attribute__((always_inline))

/* c[i][j] += (scale x_i[k..k+16)) . w_j[k..k+16), lanes outside m left out. */
KERNEL_STEP __attribute__((target("avx512f")))
void step_avx512(__m512 c[4][W_ROWS_512], const tile *t, int k, __mmask16 m, float scale) {
    __m512 a[W_ROWS_512];
    for (int j = 0; j < W_ROWS_512; j++) {
        a[j] = _mm512_maskz_loadu_ps(m, t->w[j] + k);
    }
    for (int i = 0; i < 4; i++) {
        __m512 b = _mm512_maskz_loadu_ps(m, t->x[i] + k);
        if (scale != 1.0f) {
            b = _mm512_mul_ps(b, _mm512_set1_ps(scale));
        }
        for (int j = 0; j < W_ROWS_512; j++) {
            c[i][j] = _mm512_fmadd_ps(b, a[j], c[i][j]);
        }
    }
}

/* c[i][j] += scale x_i[from..from+len) . w_j[from..from+len), lane by lane. */
KERNEL_STEP __attribute__((target("avx512f")))
void dots_avx512(__m512 c[4][W_ROWS_512], const tile *t, int from, int len, float scale) {
    int end = from + len;
    int k = from;
    for (; k + 16 <= end; k += 16) {
        step_avx512(c, t, k, (__mmask16) 0xFFFF, scale);
    }
    if (k < end) {
        step_avx512(c, t, k, (__mmask16) ((1u << (end - k)) - 1), scale);
    }
}

__attribute__((target("avx512f")))
static void product_avx512(const float *x, const float *w, float *y, int rows, int in, int ldy, int from, int to,
        float alpha, int accumulate, const float *h, const float *f, int rank, float scale) {
    for (int k0 = 0; k0 < in; k0 += K_CHUNK) {
        int len = in - k0 < K_CHUNK ? in - k0 : K_CHUNK;
        int last = k0 + len == in;
        for (int o = from; o < to; o += W_ROWS_512) {
            int no = to - o < W_ROWS_512 ? to - o : W_ROWS_512;
            for (int r = 0; r < rows; r += 4) {
                int nr = rows - r < 4 ? rows - r : 4;
                __m512 c[4][W_ROWS_512];
                for (int i = 0; i < 4; i++) {
                    for (int j = 0; j < W_ROWS_512; j++) {
                        c[i][j] = _mm512_setzero_ps();
                    }
                }
                tile t = tile_at(x + (size_t) r * in, w + (size_t) o * in, in, nr, no);
                dots_avx512(c, &t, k0, len, alpha);
                if (last && h) {
                    tile lr = tile_at(h + (size_t) r * rank, f + (size_t) o * rank, rank, nr, no);
                    dots_avx512(c, &lr, 0, rank, scale);
                }
                float s[4][6];
                for (int i = 0; i < 4; i++) {
                    for (int j = 0; j < W_ROWS_512; j++) {
                        s[i][j] = _mm512_reduce_add_ps(c[i][j]);
                    }
                }
                store_tile(y, ldy, r, o, nr, no, k0 == 0 && !accumulate, s);
            }
        }
    }
}

__attribute__((target("avx2,fma")))
static float sum_avx2(__m256 v) {
    __m128 h = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    h = _mm_add_ps(h, _mm_movehl_ps(h, h));
    h = _mm_add_ss(h, _mm_movehdup_ps(h));
    return _mm_cvtss_f32(h);
}

/* As step_avx512 with 8 lanes and three rows of W (the fourth is ignored): 12 accumulators fit 16 registers. */
KERNEL_STEP __attribute__((target("avx2,fma")))
void step_avx2(__m256 c[4][3], const tile *t, int k, int n, float scale) {
    static const int lanes[16] = {-1, -1, -1, -1, -1, -1, -1, -1, 0, 0, 0, 0, 0, 0, 0, 0};
    __m256i m = _mm256_loadu_si256((const __m256i *) (lanes + 8 - n));
    __m256 a[3];
    for (int j = 0; j < 3; j++) {
        a[j] = n == 8 ? _mm256_loadu_ps(t->w[j] + k) : _mm256_maskload_ps(t->w[j] + k, m);
    }
    for (int i = 0; i < 4; i++) {
        __m256 b = n == 8 ? _mm256_loadu_ps(t->x[i] + k) : _mm256_maskload_ps(t->x[i] + k, m);
        if (scale != 1.0f) {
            b = _mm256_mul_ps(b, _mm256_set1_ps(scale));
        }
        for (int j = 0; j < 3; j++) {
            c[i][j] = _mm256_fmadd_ps(b, a[j], c[i][j]);
        }
    }
}

KERNEL_STEP __attribute__((target("avx2,fma")))
void dots_avx2(__m256 c[4][3], const tile *t, int from, int len, float scale) {
    int end = from + len;
    int k = from;
    for (; k + 8 <= end; k += 8) {
        step_avx2(c, t, k, 8, scale);
    }
    if (k < end) {
        step_avx2(c, t, k, end - k, scale);
    }
}

__attribute__((target("avx2,fma")))
static void product_avx2(const float *x, const float *w, float *y, int rows, int in, int ldy, int from, int to,
        float alpha, int accumulate, const float *h, const float *f, int rank, float scale) {
    for (int k0 = 0; k0 < in; k0 += K_CHUNK) {
        int len = in - k0 < K_CHUNK ? in - k0 : K_CHUNK;
        int last = k0 + len == in;
        for (int o = from; o < to; o += 3) {
            int no = to - o < 3 ? to - o : 3;
            for (int r = 0; r < rows; r += 4) {
                int nr = rows - r < 4 ? rows - r : 4;
                __m256 c[4][3];
                for (int i = 0; i < 4; i++) {
                    for (int j = 0; j < 3; j++) {
                        c[i][j] = _mm256_setzero_ps();
                    }
                }
                tile t = tile_at(x + (size_t) r * in, w + (size_t) o * in, in, nr, no);
                dots_avx2(c, &t, k0, len, alpha);
                if (last && h) {
                    tile lr = tile_at(h + (size_t) r * rank, f + (size_t) o * rank, rank, nr, no);
                    dots_avx2(c, &lr, 0, rank, scale);
                }
                float s[4][6];
                for (int i = 0; i < 4; i++) {
                    for (int j = 0; j < 3; j++) {
                        s[i][j] = sum_avx2(c[i][j]);
                    }
                }
                store_tile(y, ldy, r, o, nr, no, k0 == 0 && !accumulate, s);
            }
        }
    }
}

JNIEXPORT jint JNICALL Java_io_qalora_lora_SkinnyProduct_bestVariant(JNIEnv *env, jclass cls) {
    __builtin_cpu_init();
    if (__builtin_cpu_supports("avx512f")) {
        return AVX512;
    }
    return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma") ? AVX2 : NONE;
}

/* Rows [i0, i0 + ROWS) by columns [j0, j0 + 16 VECS) of broadcast_avx512's c; ROWS and VECS are constants. */
KERNEL_STEP __attribute__((target("avx512f")))
void broadcast_tile_avx512(const float *a, long ai, long ak, const float *b, float *c, int m, int n, int k,
        float alpha, int i0, int j0, const int ROWS, const int VECS) {
    int ni = m - i0 < ROWS ? m - i0 : ROWS;
    __mmask16 mask[4];
    for (int v = 0; v < VECS; v++) {
        int left = n - j0 - 16 * v;
        mask[v] = left >= 16 ? (__mmask16) 0xFFFF : left <= 0 ? 0 : (__mmask16) ((1u << left) - 1);
    }
    __m512 acc[8][4];
    for (int i = 0; i < ROWS; i++) {
        for (int v = 0; v < VECS; v++) {
            acc[i][v] = _mm512_setzero_ps();
        }
    }
    for (int kk = 0; kk < k; kk++) {
        __m512 bv[4];
        for (int v = 0; v < VECS; v++) {
            bv[v] = _mm512_maskz_loadu_ps(mask[v], b + (size_t) kk * n + j0 + 16 * v);
        }
        for (int i = 0; i < ROWS; i++) {
            // A short tile repeats its first row: read, never stored.
            __m512 av = _mm512_set1_ps(a[(i0 + (i < ni ? i : 0)) * ai + kk * ak]);
            for (int v = 0; v < VECS; v++) {
                acc[i][v] = _mm512_fmadd_ps(av, bv[v], acc[i][v]);
            }
        }
    }
    __m512 al = _mm512_set1_ps(alpha);
    for (int i = 0; i < ni; i++) {
        for (int v = 0; v < VECS; v++) {
            _mm512_mask_storeu_ps(c + (size_t) (i0 + i) * n + j0 + 16 * v, mask[v], _mm512_mul_ps(al, acc[i][v]));
        }
    }
}

/*
 * c[i * n + j] = alpha sum_kk a[i * ai + kk * ak] b[kk * n + j], for i < m, j < n: a times b or a^T
 * times b, by the strides of a, for products whose reduction runs over a batch or whose output is
 * rank-wide. Each output sums over kk in order. Up to 16 columns a tile is eight rows by one vector
 * (four vectors of which three were empty took 0.26-0.29 ms against 0.06-0.10 at rank 16), else four
 * rows by four vectors.
 */
__attribute__((target("avx512f")))
static void broadcast_avx512(const float *a, long ai, long ak, const float *b, float *c, int m, int n, int k,
        float alpha) {
    for (int i0 = 0; i0 < m; i0 += n <= 16 ? 8 : 4) {
        for (int j0 = 0; j0 < n; j0 += n <= 16 ? 16 : 64) {
            if (n <= 16) {
                broadcast_tile_avx512(a, ai, ak, b, c, m, n, k, alpha, i0, j0, 8, 1);
            } else {
                broadcast_tile_avx512(a, ai, ak, b, c, m, n, k, alpha, i0, j0, 4, 4);
            }
        }
    }
}

/* As broadcast_avx512 with 8 lanes, four rows by 16 columns a tile. */
__attribute__((target("avx2,fma")))
static void broadcast_avx2(const float *a, long ai, long ak, const float *b, float *c, int m, int n, int k,
        float alpha) {
    static const int lanes[16] = {-1, -1, -1, -1, -1, -1, -1, -1, 0, 0, 0, 0, 0, 0, 0, 0};
    for (int i0 = 0; i0 < m; i0 += 4) {
        int ni = m - i0 < 4 ? m - i0 : 4;
        for (int j0 = 0; j0 < n; j0 += 16) {
            __m256i mask[2];
            for (int v = 0; v < 2; v++) {
                int left = n - j0 - 8 * v;
                left = left > 8 ? 8 : left < 0 ? 0 : left;
                mask[v] = _mm256_loadu_si256((const __m256i *) (lanes + 8 - left));
            }
            __m256 acc[4][2];
            for (int i = 0; i < 4; i++) {
                acc[i][0] = _mm256_setzero_ps();
                acc[i][1] = _mm256_setzero_ps();
            }
            for (int kk = 0; kk < k; kk++) {
                __m256 bv[2];
                for (int v = 0; v < 2; v++) {
                    bv[v] = _mm256_maskload_ps(b + (size_t) kk * n + j0 + 8 * v, mask[v]);
                }
                for (int i = 0; i < 4; i++) {
                    __m256 av = _mm256_set1_ps(a[(i0 + (i < ni ? i : 0)) * ai + kk * ak]);
                    acc[i][0] = _mm256_fmadd_ps(av, bv[0], acc[i][0]);
                    acc[i][1] = _mm256_fmadd_ps(av, bv[1], acc[i][1]);
                }
            }
            __m256 al = _mm256_set1_ps(alpha);
            for (int i = 0; i < ni; i++) {
                for (int v = 0; v < 2; v++) {
                    float *d = c + (size_t) (i0 + i) * n + j0 + 8 * v;
                    _mm256_maskstore_ps(d, mask[v], _mm256_mul_ps(al, acc[i][v]));
                }
            }
        }
    }
}

JNIEXPORT void JNICALL Java_io_qalora_lora_SkinnyProduct_multiply(JNIEnv *env, jclass cls, jint variant,
        jlong x, jlong w, jlong y, jint rows, jint in, jint ldy, jint from, jint to, jfloat alpha, jboolean accumulate,
        jlong h, jlong f, jint rank, jfloat scale) {
    if (variant == AVX512) {
        product_avx512((const float *) x, (const float *) w, (float *) y, rows, in, ldy, from, to, alpha, accumulate,
                (const float *) h, (const float *) f, rank, scale);
    } else if (variant == AVX2) {
        product_avx2((const float *) x, (const float *) w, (float *) y, rows, in, ldy, from, to, alpha, accumulate,
                (const float *) h, (const float *) f, rank, scale);
    }
}

JNIEXPORT void JNICALL Java_io_qalora_lora_SkinnyProduct_broadcast(JNIEnv *env, jclass cls, jint variant,
        jlong a, jlong ai, jlong ak, jlong b, jlong c, jint m, jint n, jint k, jfloat alpha) {
    if (variant == AVX512) {
        broadcast_avx512((const float *) a, ai, ak, (const float *) b, (float *) c, m, n, k, alpha);
    } else if (variant == AVX2) {
        broadcast_avx2((const float *) a, ai, ak, (const float *) b, (float *) c, m, n, k, alpha);
    }
}
