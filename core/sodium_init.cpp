#include "sodium_init.h"

#include <sodium.h>

#include "ferry/error.h"

namespace ferry {

void ensure_sodium() {
    // sodium_init() is itself thread-safe and idempotent; a static runs it once.
    static const int result = sodium_init();
    if (result < 0) throw Error(ErrorCode::Internal, "libsodium could not be initialised");
}

}  // namespace ferry
