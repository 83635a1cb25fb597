package io.qalora.lora;

import java.util.regex.Pattern;

/** Module paths as PyTorch names submodules: dot-separated identifiers such as {@code model.layers.0.mlp}. */
final class ModuleNames {

    private static final Pattern PATH = Pattern.compile("[A-Za-z0-9_\\-]+(\\.[A-Za-z0-9_\\-]+)*");

    private ModuleNames() {
    }

    static boolean valid(String name) {
        return name != null && PATH.matcher(name).matches();
    }
}
