/**
 * Tensors and the Hugging Face safetensors file format: {@link io.qalora.tensor.DType}, the raw
 * little-endian {@link io.qalora.tensor.Tensor}, a strict {@link io.qalora.tensor.SafetensorsReader}
 * (including a streaming validator for uploads) and {@link io.qalora.tensor.SafetensorsWriter} that
 * follow the reference implementation's rules and report every violation as a typed
 * {@link io.qalora.tensor.SafetensorsException}, plus the {@link io.qalora.tensor.DenseLayer} value
 * that the quantization and LoRA code operates on. Everything here is plain Java plus Jackson for
 * the header JSON; this package imports no Spring so it can be used and tested in isolation.
 */
package io.qalora.tensor;
