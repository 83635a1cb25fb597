/**
 * The QA-LoRA service. Modules are the sub-packages: the Spring-free engine ({@code tensor},
 * {@code quant}, {@code lora}) under the Spring shell. This root holds only the exception tree's
 * root that every module shares, and the application class.
 */
package io.qalora;
