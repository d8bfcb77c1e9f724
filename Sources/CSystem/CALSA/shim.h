#pragma once
#include <alsa/asoundlib.h>

/* ALSA prints its own diagnostics to stderr; nacho reports errors itself, one line each. */
static void CALSA_quiet_handler(const char *file, int line, const char *function, int err, const char *fmt, ...) {
    (void)file; (void)line; (void)function; (void)err; (void)fmt;
}
static inline void CALSA_silence_library_errors(void) { snd_lib_error_set_handler(CALSA_quiet_handler); }
