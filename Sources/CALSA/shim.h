#include <alsa/asoundlib.h>

/* libasound prints its own errors to stderr; Tactus reports device errors itself, once per
   state change, so they are silenced. (A variadic handler cannot be written in Swift.) */
static void tactus_alsa_quiet_handler(const char *file, int line, const char *function, int err,
                                      const char *fmt, ...) {
    (void)file; (void)line; (void)function; (void)err; (void)fmt;
}

static inline void tactus_alsa_silence_errors(void) {
    snd_lib_error_set_handler(tactus_alsa_quiet_handler);
}
