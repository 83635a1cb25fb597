/**
 * QA-LoRA itself: the adapter ({@link io.qalora.lora.QaLoraAdapter}), where fake quantization sits
 * during training ({@link io.qalora.lora.QuantizationTarget}), the {@link io.qalora.lora.Trainer}
 * that runs a whole training run, and the {@link io.qalora.lora.Evaluator} that compares the
 * deployed layer with plain LoRA followed by post-training quantization, and the files other tools
 * read: the service's safetensors layouts, AutoGPTQ checkpoints and PEFT adapters. ND4J appears only here,
 * for the OpenBLAS it ships ({@code NativeMatrix}, {@code NativeBlas}), and so does the project's own
 * native kernel ({@code SkinnyProduct}) for the products of small batches; both only for matrix
 * products. Element-wise work (fake quantization, loss, Adam) runs in plain Java loops over
 * {@code float[]}. Nothing here imports Spring.
 */
package io.qalora.lora;
