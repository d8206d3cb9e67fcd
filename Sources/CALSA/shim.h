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

/* The sequencer's event macros (snd_seq_ev_set_*) cannot be called from Swift: one MIDI clock or
   transport message from `port` to its subscribers, scheduled on `queue` at the queue's real
   time (sec, nsec). status: 0xF8 clock, 0xFA start, 0xFB continue, 0xFC stop, 0xF2 song position
   (value in 16th notes). Returns the result of snd_seq_drain_output (>= 0) or a negative errno. */
static inline int tactus_seq_send(snd_seq_t *seq, int port, int queue, unsigned int sec, unsigned int nsec,
                                  unsigned char status, int value) {
    snd_seq_event_t ev;
    snd_seq_ev_clear(&ev);
    snd_seq_ev_set_source(&ev, port);
    snd_seq_ev_set_subs(&ev);
    snd_seq_real_time_t t = { sec, nsec };
    snd_seq_ev_schedule_real(&ev, queue, 0, &t);
    switch (status) {
    case 0xF8: ev.type = SND_SEQ_EVENT_CLOCK; break;
    case 0xFA: ev.type = SND_SEQ_EVENT_START; break;
    case 0xFB: ev.type = SND_SEQ_EVENT_CONTINUE; break;
    case 0xFC: ev.type = SND_SEQ_EVENT_STOP; break;
    case 0xF2: ev.type = SND_SEQ_EVENT_SONGPOS; ev.data.control.value = value; break;
    default: return -EINVAL;
    }
    int rc = snd_seq_event_output(seq, &ev);
    return rc < 0 ? rc : snd_seq_drain_output(seq);
}
