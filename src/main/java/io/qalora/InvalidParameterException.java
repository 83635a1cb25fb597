package io.qalora;

/** An argument or request field has an illegal value; {@link #parameter()} names it. */
public class InvalidParameterException extends QaLoraException {

    private final String parameter;

    public InvalidParameterException(String parameter, String message) {
        super(parameter + ": " + message);
        this.parameter = parameter;
    }

    public String parameter() {
        return parameter;
    }

    /** Throws when {@code condition} is false. */
    public static void require(boolean condition, String parameter, String message) {
        if (!condition) {
            throw new InvalidParameterException(parameter, message);
        }
    }
}
