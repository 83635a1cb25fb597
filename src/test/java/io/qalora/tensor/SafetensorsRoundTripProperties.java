package io.qalora.tensor;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;

class SafetensorsRoundTripProperties {

    @Property(tries = 200)
    void anyWrittenFileReadsBackIdentically(@ForAll("tensorLists") List<Tensor> tensors,
            @ForAll("metadata") Map<String, String> metadata) throws IOException {
        byte[] bytes = SafetensorsWriter.toBytes(metadata, tensors);

        SafetensorsFile file = SafetensorsReader.read(bytes);

        assertThat(SafetensorsHeader.parse(new ByteArrayInputStream(bytes)).headerLength() % 8).isZero();
        assertThat(file.metadata()).isEqualTo(metadata);
        assertThat(file.tensors().values()).containsExactlyInAnyOrderElementsOf(tensors);
    }

    @Provide
    Arbitrary<List<Tensor>> tensorLists() {
        Arbitrary<Tensor> tensor = Combinators.combine(
                        Arbitraries.of(DType.class),
                        Arbitraries.integers().between(0, 5).list().ofMaxSize(3),
                        Arbitraries.longs())
                .as((dtype, dims, seed) -> {
                    int[] shape = dims.stream().mapToInt(Integer::intValue).toArray();
                    long numel = 1;
                    for (int d : shape) {
                        numel *= d;
                    }
                    byte[] data = new byte[(int) numel * dtype.byteSize()];
                    new Random(seed).nextBytes(data);
                    return new Tensor("placeholder", dtype, shape, data);
                });
        return tensor.list().ofMaxSize(6).map(list -> {
            List<Tensor> named = new ArrayList<>();
            for (int i = 0; i < list.size(); i++) {
                Tensor t = list.get(i);
                named.add(new Tensor("layer." + i + ".ü", t.dtype(), t.shape(), t.data()));
            }
            return named;
        });
    }

    @Provide
    Arbitrary<Map<String, String>> metadata() {
        return Arbitraries.maps(Arbitraries.strings().ofMaxLength(8), Arbitraries.strings().ofMaxLength(12))
                .ofMaxSize(3);
    }
}
