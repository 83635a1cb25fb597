package io.qalora.quant;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.IntRange;
import org.junit.jupiter.api.Test;

class BitPackingTests {

    @Test
    void fourBitCodesFillTheLowNibbleFirst() {
        assertThat(BitPacking.pack(new char[] {0x1, 0xA, 0xF}, 4)).containsExactly((byte) 0xA1, (byte) 0x0F);
    }

    @Test
    void twoBitCodesPackFourToAByteLowBitsFirst() {
        assertThat(BitPacking.pack(new char[] {1, 2, 3, 0, 3}, 2)).containsExactly((byte) 0b00111001, (byte) 0b11);
    }

    @Test
    void eightBitCodesAreBytes() {
        assertThat(BitPacking.pack(new char[] {0, 200, 255}, 8)).containsExactly((byte) 0, (byte) 200, (byte) 255);
    }

    @Test
    void rejectsCodesTooWideAndUnpackableWidths() {
        assertThatThrownBy(() -> BitPacking.pack(new char[] {16}, 4)).hasMessageContaining("16");
        assertThatThrownBy(() -> BitPacking.pack(new char[] {1}, 3)).hasMessageContaining("bits");
    }

    @Property(tries = 100)
    void unpackInvertsPack(@ForAll @IntRange(min = 0, max = 3) int bitsIndex, @ForAll @IntRange(min = 0, max = 50) int count,
            @ForAll long seed) {
        int bits = new int[] {1, 2, 4, 8}[bitsIndex];
        java.util.Random random = new java.util.Random(seed);
        char[] codes = new char[count];
        for (int i = 0; i < count; i++) {
            codes[i] = (char) random.nextInt(1 << bits);
        }
        byte[] packed = BitPacking.pack(codes, bits);
        assertThat(packed).hasSize((count * bits + 7) / 8);
        assertThat(BitPacking.unpack(packed, bits, count)).containsExactly(codes);
    }
}
