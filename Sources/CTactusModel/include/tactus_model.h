#ifndef TACTUS_MODEL_H
#define TACTUS_MODEL_H
#include <stddef.h>
/// The bytes of Tactus's own beat model, models/tactus-beats-v1.tnn, compiled into the binary
/// (so `model.path = "builtin"` needs no file at run time). Sets *count to their number.
const unsigned char *tactus_builtin_model(size_t *count);
#endif
