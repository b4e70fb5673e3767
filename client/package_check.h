// The checks a downloaded object passes before a single byte of it is unpacked (THREATS.md
// 1–5, 12–13, 27): its size and BLAKE2b-256 are the ones the signed policy names; the
// publisher signature verifies with a key the policy trusts *for this package*; the signature's
// trusted comment names this package, version and object; and the manifest inside says the
// same name and version.
#pragma once

#include <string>

#include "ferry/manifest.h"
#include "ferry/policy.h"

namespace ferry::agent {

// Returns the package's manifest. Error(VerificationFailed) naming what did not match.
Manifest check_package(const Policy& policy, const PolicyAdvertisement& ad,
                       const std::string& object_path);

// For the cached object of a version installed earlier (rollback): its bytes still hash to the
// object id recorded when a signed policy and the publisher signature vouched for them, and its
// manifest names that package and version. The id pins every byte, so nothing else is needed.
Manifest check_cached_package(const std::string& object_path, const std::string& object_id,
                              const std::string& package, const std::string& version);

}  // namespace ferry::agent
