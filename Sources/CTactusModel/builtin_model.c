#include "tactus_model.h"

// C23 #embed (clang 19+): the weight file as it is in models/, no generated copy to keep in step.
#pragma clang diagnostic ignored "-Wc23-extensions"
static const unsigned char model[] = {
#embed "../../models/tactus-beats-v1.tnn"
};

const unsigned char *tactus_builtin_model(size_t *count) {
    *count = sizeof(model);
    return model;
}
