package io.qalora.lora;

/** The off-heap work matrices of one batch size, kept between steps so a step allocates nothing. */
final class BatchBuffers implements AutoCloseable {

    /**
     * Where {@link SkinnyProduct} is not available, up to this many rows the base product runs as
     * {@code (W x^T)^T}: OpenBLAS 0.3.19 (2 threads, AMD EPYC, AVX2) took 12.2-12.9 ms for
     * {@code W x^T} against 14.8-16.9 ms for {@code x W^T} at 32 x 4096 x 4096, and 1.04-1.10 against
     * 1.14-1.17 ms at 64 x 1024 x 1024; from 256 rows on {@code x W^T} was as fast or faster (221
     * against 284 ms at 1024 rows).
     */
    static final int TRANSPOSED_MAX_ROWS = 64;

    final int size;
    /** How this batch size makes its products. */
    final Layout layout;
    final NativeMatrix x;
    final NativeMatrix y;
    final NativeMatrix h;
    final NativeMatrix dy;
    final NativeMatrix dh;
    private final int in;
    private final int out;
    private NativeMatrix dx;
    private NativeMatrix yT;
    private float[] scratch;

    BatchBuffers(int size, int in, int out, int rank) {
        this(size, in, out, rank, Layout.forRows(size));
    }

    /** With a chosen layout, which tests use to run the OpenBLAS products where the kernel exists. */
    BatchBuffers(int size, int in, int out, int rank, Layout layout) {
        this.size = size;
        this.layout = layout;
        this.in = in;
        this.out = out;
        this.x = NativeMatrix.zeros(size, in);
        this.y = NativeMatrix.zeros(size, out);
        this.h = NativeMatrix.zeros(size, rank);
        this.dy = NativeMatrix.zeros(size, out);
        this.dh = NativeMatrix.zeros(size, rank);
    }

    /** How the base product {@code x W^T} of a batch is made. */
    enum Layout {
        /** {@link SkinnyProduct}, the project's own kernel, for a few rows. */
        SKINNY_KERNEL,
        /** OpenBLAS as {@code (W x^T)^T}, for a few rows where the kernel is not available. */
        TRANSPOSED,
        /** OpenBLAS as {@code x W^T}. */
        AS_WRITTEN;

        static Layout forRows(int rows) {
            if (rows <= SkinnyProduct.MAX_ROWS && SkinnyProduct.available()) {
                return SKINNY_KERNEL;
            }
            return rows <= TRANSPOSED_MAX_ROWS ? TRANSPOSED : AS_WRITTEN;
        }
    }

    /**
     * {@code y = x weight^T + scaling h factor^T} ({@code h} from this forward) into the heap
     * {@code y [size, out]}, bias not included.
     */
    void adaptedProduct(NativeMatrix weight, NativeMatrix factor, float scaling, float[] y) {
        adaptedProduct(layout, weight, factor, scaling, y);
    }

    void adaptedProduct(Layout layout, NativeMatrix weight, NativeMatrix factor, float scaling, float[] y) {
        switch (layout) {
            case SKINNY_KERNEL -> {
                SkinnyProduct.multiply(x, weight, this.y, h, factor, scaling, NativeBlas.threads());
                this.y.store(y);
            }
            case TRANSPOSED -> {
                NativeMatrix t = transposedOutput();
                t.gemm(weight, false, x, true, 1f, 0f);
                t.gemm(factor, false, h, true, scaling, 1f);
                storeTransposedOutput(y);
            }
            case AS_WRITTEN -> {
                this.y.gemm(x, false, weight, true, 1f, 0f);
                this.y.gemm(h, false, factor, true, scaling, 1f);
                this.y.store(y);
            }
        }
    }

    /** {@code h = x factor^T} ({@code factor [rank, in]}): the batch through A. */
    void projectInput(NativeMatrix factor) {
        if (layout == Layout.SKINNY_KERNEL) {
            // Rank-wide: one thread; OpenBLAS's two took 0.4 ms in a 4096-wide step, the kernel 0.03.
            SkinnyProduct.multiply(x, factor, h, 1);
        } else {
            h.gemm(x, false, factor, true, 1f, 0f);
        }
    }

    /** {@code y^T [out, size]}, for products that run faster, or only can be made, transposed. */
    NativeMatrix transposedOutput() {
        if (yT == null) {
            // The heap array first: if it cannot be had, no off-heap matrix is left behind unused.
            scratch = new float[out * size];
            yT = NativeMatrix.zeros(out, size);
        }
        return yT;
    }

    /** {@link #transposedOutput()} transposed into the heap {@code y [size, out]}. */
    void storeTransposedOutput(float[] y) {
        yT.storeTransposed(y, scratch);
    }

    /** The input-gradient buffer, made on first use: training never needs it. */
    NativeMatrix dx() {
        if (dx == null) {
            dx = NativeMatrix.zeros(size, in);
        }
        return dx;
    }

    @Override
    public void close() {
        x.close();
        y.close();
        h.close();
        dy.close();
        dh.close();
        if (dx != null) {
            dx.close();
        }
        if (yT != null) {
            yT.close();
        }
    }
}
