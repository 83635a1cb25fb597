package io.qalora.lora;

import io.qalora.quant.GroupQuantizer;
import io.qalora.quant.QuantStats;

/**
 * {@link QuantizationTarget#MERGED_WEIGHTS}: {@code y = x fq(W + s B A)^T + b}, so training sees
 * exactly the error of the merged layer it deploys. Without quantization it runs plain LoRA through
 * {@link LoraFactorsPath}, which reuses the frozen base product.
 *
 * <p>The quantized forward never holds the whole merged weight: it makes {@code fq(W + s B A)} a
 * block of rows at a time (the blocks of {@link MergedLayer#mergedWeight}, so the same sums) and
 * multiplies each block with the batch while it is still in cache. Reading {@code W} once is then
 * the step's only pass over a weight-sized array.
 */
final class MergedWeightsPath extends StandardLoraPath {

    /** What is done with one block of merged, fake-quantized rows. */
    @FunctionalInterface
    private interface BlockSink {
        void accept(int firstRow, NativeMatrix block, float[] heapBlock);
    }

    private final LoraFactorsPath unquantized;
    private final int blockRows;
    private NativeMatrix rowsOfB;
    private NativeMatrix block;
    private float[] heapBlock;
    private boolean mergedForward;

    MergedWeightsPath(AdapterState state, LoraFactorsPath unquantized) {
        super(state);
        this.unquantized = unquantized;
        this.blockRows = MergedLayer.blockRows(state.out, state.in);
    }

    @Override
    public void forward(float[] input, BatchBuffers buf, float[] baseOutput, boolean quantize, float[] y) {
        mergedForward = quantize;
        if (!quantize) {
            unquantized.forward(input, buf, baseOutput, false, y);
            return;
        }
        s.factorA.load(s.loraA);
        buf.projectInput(s.factorA);
        // The merged path quantizes W + sBA as a whole, so a cached base product cannot be reused.
        NativeMatrix yT = buf.transposedOutput();
        forEachMergedBlock((first, merged, heap) ->
                yT.rows(first, merged.rows).gemm(merged, false, buf.x, true, 1f, 0f));
        buf.storeTransposedOutput(y);
        s.addBias(y, buf.size);
    }

    /** As {@link LoraFactorsPath}, but dx = dy fq(W + s B A) after a quantized forward (the STE). */
    @Override
    public float[] backward(BatchBuffers buf, float[] dy, boolean inputGradient) {
        if (!mergedForward) {
            return unquantized.backward(buf, dy, inputGradient);
        }
        s.factorB.load(s.loraB);
        s.factorAndBaseGradients(buf, dy, buf.x);
        if (!inputGradient) {
            return null;
        }
        // Only callers of the public backward ask for dx: the whole merged weight, made for this once
        // from the adapter as it is now (a setter called since the forward changes it).
        try (NativeMatrix merged = NativeMatrix.zeros(s.out, s.in)) {
            forEachMergedBlock((first, part, heap) -> merged.rows(first, part.rows).load(heap));
            NativeMatrix dx = buf.dx();
            dx.gemm(buf.dy, false, merged, false, 1f, 0f);
            return dx.toArray();
        }
    }

    /** Error of quantizing the merged weight, the one tensor this target quantizes. */
    @Override
    public QuantStats quantizationStats() {
        return mergedWeightStats();
    }

    /**
     * Makes {@code fq(W + s B A)} block by block from {@code factorA} (already loaded) and the heap
     * {@code B}: {@code s B[rows] A} natively, added to {@code W} and fake-quantized on the heap
     * ({@link NativeBlas#threads()} threads), then copied back for the sink's products.
     */
    private void forEachMergedBlock(BlockSink sink) {
        if (block == null) {
            allocateBlocks();
        }
        int threads = NativeBlas.threads();
        for (int first = 0; first < s.out; first += blockRows) {
            int n = Math.min(blockRows, s.out - first);
            NativeMatrix b = rowsOfB.rows(0, n);
            NativeMatrix merged = block.rows(0, n);
            b.load(s.loraB, first * s.rank);
            merged.gemm(b, false, s.factorA, false, s.scaling, 0f);
            merged.store(heapBlock);
            GroupQuantizer.fakeQuantizeSum(s.weight, first * s.in, heapBlock, 0, heapBlock, 0, n, s.in, s.quant,
                    threads);
            merged.load(heapBlock);
            sink.accept(first, merged, heapBlock);
        }
    }

    /** All or nothing: a failed allocation (off-heap memory is bounded) leaves none of them set. */
    private void allocateBlocks() {
        float[] heap = new float[blockRows * s.in];
        NativeMatrix b = NativeMatrix.zeros(blockRows, s.rank);
        try {
            block = NativeMatrix.zeros(blockRows, s.in);
        } catch (RuntimeException | Error e) {
            b.close();
            throw e;
        }
        rowsOfB = b;
        heapBlock = heap;
    }

    @Override
    public void close() {
        if (block != null) {
            rowsOfB.close();
            block.close();
        }
    }
}
