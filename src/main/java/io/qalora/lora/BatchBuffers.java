package io.qalora.lora;

/** The off-heap work matrices of one batch size, kept between steps so a step allocates nothing. */
final class BatchBuffers implements AutoCloseable {

    final int size;
    final NativeMatrix x;
    final NativeMatrix y;
    final NativeMatrix h;
    final NativeMatrix dy;
    final NativeMatrix dh;
    private final int in;
    private NativeMatrix dx;

    BatchBuffers(int size, int in, int out, int rank) {
        this.size = size;
        this.in = in;
        this.x = NativeMatrix.zeros(size, in);
        this.y = NativeMatrix.zeros(size, out);
        this.h = NativeMatrix.zeros(size, rank);
        this.dy = NativeMatrix.zeros(size, out);
        this.dh = NativeMatrix.zeros(size, rank);
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
    }
}
