package io.qalora.lora;

import com.sun.jna.Library;
import com.sun.jna.Native;
import com.sun.jna.Pointer;

/** The C library calls the engine makes through JNA. Callers treat a failure to load as "not available". */
interface LibC extends Library {

    LibC INSTANCE = Native.load("c", LibC.class);

    /** Linux's madvise advice for transparent huge pages. */
    int MADV_HUGEPAGE = 14;

    int setenv(String name, String value, int overwrite);

    int madvise(Pointer address, long length, int advice);
}
