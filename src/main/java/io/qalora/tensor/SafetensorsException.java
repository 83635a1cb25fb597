package io.qalora.tensor;

import io.qalora.QaLoraException;

/**
 * A safetensors file or tensor breaks a format rule. {@link #rule()} says which one and
 * {@link #tensorName()} names the offending tensor, or is {@code null} for header-level problems.
 */
public class SafetensorsException extends QaLoraException {

    private final SafetensorsRule rule;
    private final String tensorName;

    /**
     * @param rule the violated rule
     * @param tensorName the offending tensor, or {@code null} when the problem is not tied to one
     * @param detail plain-words description, without the tensor name or rule
     */
    public SafetensorsException(SafetensorsRule rule, String tensorName, String detail) {
        this(rule, tensorName, detail, null);
    }

    /** Same as {@link #SafetensorsException(SafetensorsRule, String, String)} with a cause. */
    public SafetensorsException(SafetensorsRule rule, String tensorName, String detail, Throwable cause) {
        super(format(rule, tensorName, detail), cause);
        this.rule = rule;
        this.tensorName = tensorName;
    }

    /** The violated rule. */
    public SafetensorsRule rule() {
        return rule;
    }

    /** The offending tensor, or {@code null} for header-level errors. */
    public String tensorName() {
        return tensorName;
    }

    private static String format(SafetensorsRule rule, String tensorName, String detail) {
        String subject = tensorName == null ? "safetensors" : "tensor '" + tensorName + "'";
        return subject + ": " + detail + " (rule " + rule + ")";
    }
}
