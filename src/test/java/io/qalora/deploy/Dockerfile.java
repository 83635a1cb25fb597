package io.qalora.deploy;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import tools.jackson.core.type.TypeReference;
import tools.jackson.databind.json.JsonMapper;

/**
 * The repository's Dockerfile, read into its stages and instructions, so that tests can do what
 * the image does (extract, copy, start) with the very commands and settings it names.
 */
record Dockerfile(List<Stage> stages) {

    static final Path PATH = Path.of("Dockerfile");

    /** One instruction: the keyword in upper case and its arguments, continuation lines joined. */
    record Instruction(String keyword, String arguments) {
    }

    /** One {@code FROM ... [AS name]} stage and its instructions. */
    record Stage(String image, String name, List<Instruction> instructions) {

        List<String> arguments(String keyword) {
            return instructions.stream().filter(i -> i.keyword().equals(keyword)).map(Instruction::arguments).toList();
        }

        /** The last WORKDIR, as the stage's later instructions see it. */
        String workdir() {
            List<String> dirs = arguments("WORKDIR");
            return dirs.isEmpty() ? "/" : dirs.get(dirs.size() - 1);
        }

        /** Every ENV variable of the stage, values unquoted. */
        Map<String, String> env() {
            Map<String, String> env = new LinkedHashMap<>();
            for (String arguments : arguments("ENV")) {
                for (String pair : words(arguments)) {
                    int eq = pair.indexOf('=');
                    if (eq <= 0) {
                        throw new IllegalStateException("ENV without KEY=value: " + arguments);
                    }
                    env.put(pair.substring(0, eq), pair.substring(eq + 1));
                }
            }
            return env;
        }

        /** The exec-form ENTRYPOINT. */
        List<String> entrypoint() {
            List<String> entrypoints = arguments("ENTRYPOINT");
            if (entrypoints.size() != 1 || !entrypoints.get(0).startsWith("[")) {
                throw new IllegalStateException("expected one exec-form ENTRYPOINT, found " + entrypoints);
            }
            return JsonMapper.builder().build().readValue(entrypoints.get(0), new TypeReference<List<String>>() {
            });
        }

        /** The commands that RUN instructions chain with {@code &&}, each split into words. */
        List<List<String>> runCommands() {
            List<List<String>> commands = new ArrayList<>();
            for (String run : arguments("RUN")) {
                for (String command : run.split("&&")) {
                    commands.add(words(command));
                }
            }
            return commands;
        }

        /** The source paths of {@code COPY --from=<stage>} instructions, in order. */
        List<String> copiedFrom(String stage) {
            List<String> sources = new ArrayList<>();
            for (String copy : arguments("COPY")) {
                List<String> words = words(copy);
                if (words.get(0).equals("--from=" + stage)) {
                    sources.addAll(words.subList(1, words.size() - 1));
                }
            }
            return sources;
        }
    }

    static Dockerfile read() {
        try {
            return parse(Files.readAllLines(PATH));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    static Dockerfile parse(List<String> lines) {
        List<Stage> stages = new ArrayList<>();
        List<Instruction> current = null;
        StringBuilder logical = new StringBuilder();
        for (String line : lines) {
            String trimmed = line.strip();
            if (trimmed.startsWith("#") || (trimmed.isEmpty() && logical.isEmpty())) {
                continue;
            }
            if (trimmed.endsWith("\\")) {
                logical.append(trimmed, 0, trimmed.length() - 1).append(' ');
                continue;
            }
            logical.append(trimmed);
            String text = logical.toString().strip();
            logical.setLength(0);
            if (text.isEmpty()) {
                continue;
            }
            int space = text.indexOf(' ');
            String keyword = text.substring(0, space).toUpperCase(Locale.ROOT);
            String arguments = text.substring(space + 1).strip();
            if (keyword.equals("FROM")) {
                List<String> from = words(arguments);
                current = new ArrayList<>();
                stages.add(new Stage(from.get(0), from.size() == 3 ? from.get(2) : null, current));
            } else if (current == null) {
                throw new IllegalStateException("instruction before FROM: " + text);
            } else {
                current.add(new Instruction(keyword, arguments));
            }
        }
        return new Dockerfile(List.copyOf(stages));
    }

    Stage stage(String name) {
        return stages.stream().filter(s -> name.equals(s.name())).findFirst()
                .orElseThrow(() -> new IllegalStateException("no stage " + name));
    }

    /** The stage the image is made of. */
    Stage finalStage() {
        return stages.get(stages.size() - 1);
    }

    /** Splits on blanks outside double quotes and drops the quotes, as the shell and ENV do for these simple cases. */
    static List<String> words(String text) {
        List<String> words = new ArrayList<>();
        StringBuilder word = new StringBuilder();
        boolean quoted = false;
        boolean inWord = false;
        for (char c : text.toCharArray()) {
            if (c == '"') {
                quoted = !quoted;
                inWord = true;
            } else if (Character.isWhitespace(c) && !quoted) {
                if (inWord) {
                    words.add(word.toString());
                    word.setLength(0);
                    inWord = false;
                }
            } else {
                word.append(c);
                inWord = true;
            }
        }
        if (quoted) {
            throw new IllegalStateException("unbalanced quotes: " + text);
        }
        if (inWord) {
            words.add(word.toString());
        }
        return words;
    }
}
