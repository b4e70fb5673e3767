// Internal: libsodium must be initialised once before use; every entry point that touches it
// calls ensure_sodium(), which is cheap after the first call and thread-safe.
#pragma once

namespace ferry {
void ensure_sodium();
}
