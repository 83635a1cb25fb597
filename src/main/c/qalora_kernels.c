/*
 * y = x W^T for a batch of a few rows (io.qalora.lora.SkinnyProduct). OpenBLAS packs all of W for
 * every call, which at 32 x 4096 x 4096 costs about as much as the arithmetic; here each output is
 * a dot product of two rows read in place, four rows of x by four (AVX-512) or three (AVX2) rows
 * of W at a time, with k cut into chunks so that a chunk of x stays in the L2 cache while W streams.
 * Built by Maven (exec-maven-plugin) with gcc; no -march flag: each variant names its own target
 * and the Java side asks which the CPU has.
 */
#include <immintrin.h>
#include <jni.h>
#include <stddef.h>

#define K_CHUNK 2048

enum { NONE = 0, AVX2 = 1, AVX512 = 2 };

/* Adds s[i][j] to, or (first chunk) stores it in, y[(r + i) * ldy + o + j] for the tile's real size. */
static void store_tile(float *y, int ldy, int r, int o, int nr, int no, int first, float s[4][4]) {
    for (int i = 0; i < nr; i++) {
        for (int j = 0; j < no; j++) {
            float *d = y + (size_t) (r + i) * ldy + o + j;
            *d = first ? s[i][j] : *d + s[i][j];
        }
    }
}

/* Row i of a tile of at most n rows starting at p: a short tile repeats its first row (read, never stored). */
static const float *tile_row(const float *p, size_t stride, int i, int n) {
    return p + (i < n ? (size_t) i * stride : 0);
}

__attribute__((target("avx512f")))
static void product_avx512(const float *x, const float *w, float *y, int rows, int in, int ldy, int from, int to) {
    for (int k0 = 0; k0 < in; k0 += K_CHUNK) {
        int k1 = k0 + K_CHUNK < in ? k0 + K_CHUNK : in;
        int kv = k0 + ((k1 - k0) & ~15);
        __mmask16 tail = (__mmask16) ((1u << ((k1 - k0) & 15)) - 1);
        for (int o = from; o < to; o += 4) {
            int no = to - o < 4 ? to - o : 4;
            const float *w0 = w + (size_t) o * in;
            const float *w1 = tile_row(w0, in, 1, no), *w2 = tile_row(w0, in, 2, no), *w3 = tile_row(w0, in, 3, no);
            for (int r = 0; r < rows; r += 4) {
                int nr = rows - r < 4 ? rows - r : 4;
                const float *x0 = x + (size_t) r * in;
                const float *x1 = tile_row(x0, in, 1, nr), *x2 = tile_row(x0, in, 2, nr), *x3 = tile_row(x0, in, 3, nr);
                __m512 c[4][4];
                for (int i = 0; i < 4; i++) {
                    for (int j = 0; j < 4; j++) {
                        c[i][j] = _mm512_setzero_ps();
                    }
                }
                for (int k = k0; k <= kv; k += 16) {
                    __mmask16 m = k < kv ? (__mmask16) 0xFFFF : tail;
                    if (m == 0) {
                        break;
                    }
                    __m512 a0 = _mm512_maskz_loadu_ps(m, w0 + k), a1 = _mm512_maskz_loadu_ps(m, w1 + k);
                    __m512 a2 = _mm512_maskz_loadu_ps(m, w2 + k), a3 = _mm512_maskz_loadu_ps(m, w3 + k);
                    const float *xs[4] = {x0, x1, x2, x3};
                    for (int i = 0; i < 4; i++) {
                        __m512 b = _mm512_maskz_loadu_ps(m, xs[i] + k);
                        c[i][0] = _mm512_fmadd_ps(b, a0, c[i][0]);
                        c[i][1] = _mm512_fmadd_ps(b, a1, c[i][1]);
                        c[i][2] = _mm512_fmadd_ps(b, a2, c[i][2]);
                        c[i][3] = _mm512_fmadd_ps(b, a3, c[i][3]);
                    }
                }
                float s[4][4];
                for (int i = 0; i < 4; i++) {
                    for (int j = 0; j < 4; j++) {
                        s[i][j] = _mm512_reduce_add_ps(c[i][j]);
                    }
                }
                store_tile(y, ldy, r, o, nr, no, k0 == 0, s);
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

__attribute__((target("avx2,fma")))
static void product_avx2(const float *x, const float *w, float *y, int rows, int in, int ldy, int from, int to) {
    static const int ones[16] = {-1, -1, -1, -1, -1, -1, -1, -1, 0, 0, 0, 0, 0, 0, 0, 0};
    for (int k0 = 0; k0 < in; k0 += K_CHUNK) {
        int k1 = k0 + K_CHUNK < in ? k0 + K_CHUNK : in;
        int kv = k0 + ((k1 - k0) & ~7);
        __m256i tail = _mm256_loadu_si256((const __m256i *) (ones + 8 - ((k1 - k0) & 7)));
        for (int o = from; o < to; o += 3) {
            int no = to - o < 3 ? to - o : 3;
            const float *w0 = w + (size_t) o * in;
            const float *w1 = tile_row(w0, in, 1, no), *w2 = tile_row(w0, in, 2, no);
            for (int r = 0; r < rows; r += 4) {
                int nr = rows - r < 4 ? rows - r : 4;
                const float *x0 = x + (size_t) r * in;
                const float *xs[4] = {x0, tile_row(x0, in, 1, nr), tile_row(x0, in, 2, nr), tile_row(x0, in, 3, nr)};
                __m256 c[4][3];
                for (int i = 0; i < 4; i++) {
                    for (int j = 0; j < 3; j++) {
                        c[i][j] = _mm256_setzero_ps();
                    }
                }
                for (int k = k0; k < kv; k += 8) {
                    __m256 a0 = _mm256_loadu_ps(w0 + k), a1 = _mm256_loadu_ps(w1 + k), a2 = _mm256_loadu_ps(w2 + k);
                    for (int i = 0; i < 4; i++) {
                        __m256 b = _mm256_loadu_ps(xs[i] + k);
                        c[i][0] = _mm256_fmadd_ps(b, a0, c[i][0]);
                        c[i][1] = _mm256_fmadd_ps(b, a1, c[i][1]);
                        c[i][2] = _mm256_fmadd_ps(b, a2, c[i][2]);
                    }
                }
                if (kv < k1) {
                    __m256 a0 = _mm256_maskload_ps(w0 + kv, tail), a1 = _mm256_maskload_ps(w1 + kv, tail);
                    __m256 a2 = _mm256_maskload_ps(w2 + kv, tail);
                    for (int i = 0; i < 4; i++) {
                        __m256 b = _mm256_maskload_ps(xs[i] + kv, tail);
                        c[i][0] = _mm256_fmadd_ps(b, a0, c[i][0]);
                        c[i][1] = _mm256_fmadd_ps(b, a1, c[i][1]);
                        c[i][2] = _mm256_fmadd_ps(b, a2, c[i][2]);
                    }
                }
                float s[4][4];
                for (int i = 0; i < 4; i++) {
                    for (int j = 0; j < 3; j++) {
                        s[i][j] = sum_avx2(c[i][j]);
                    }
                }
                store_tile(y, ldy, r, o, nr, no, k0 == 0, s);
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

JNIEXPORT void JNICALL Java_io_qalora_lora_SkinnyProduct_multiply(JNIEnv *env, jclass cls, jint variant,
        jlong x, jlong w, jlong y, jint rows, jint in, jint ldy, jint from, jint to) {
    if (variant == AVX512) {
        product_avx512((const float *) x, (const float *) w, (float *) y, rows, in, ldy, from, to);
    } else if (variant == AVX2) {
        product_avx2((const float *) x, (const float *) w, (float *) y, rows, in, ldy, from, to);
    }
}
