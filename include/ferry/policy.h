// Policy: the signed document that tells one client what to do (DESIGN §4, THREATS.md 8–17).
//
// The site builds one Policy per client and signs its canonical JSON with the site key as a
// minisign "ED" signature whose trusted comment names the client, the version and the
// document's BLAKE2b-256:
//   policy<TAB>client:<id><TAB>version:<n><TAB>object:<64 hex>
// A client accepts a policy only through verify_policy(), which checks, in this order: size,
// signature by the pinned site key (never a key the document names), that the trusted comment
// matches the bytes, the addressee, that the version is not lower than the last accepted one
// (and, when equal, that the bytes are the same), and the expiry. Distribution points pass the
// signed bytes through unchanged and cannot forge or replay any of this.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "ferry/minisign.h"

namespace ferry {

// A publisher key the site trusts, scoped to package names: an exact name, a prefix ending in
// '*', or "*" for every package.
struct PublisherKey {
    std::string name;
    std::string public_key;  // minisign public key, base64 (as on the second line of a .pub)
    std::vector<std::string> packages;
};

struct PolicyAdvertisement {
    std::string id;
    std::string package;
    std::string version;
    std::string object_id;
    std::uint64_t size = 0;
    std::string signature;           // the package's .minisig text, by a publisher key
    std::string action = "install";  // install | uninstall
    std::int64_t available_at = 0;   // unix seconds
    std::optional<std::int64_t> deadline;
    bool mandatory = false;
    int postpone_max = 0;
    std::int64_t postpone_max_delay_s = 0;
    std::vector<std::string> windows;      // maintenance windows, e.g. "Mon-Fri 22:00-06:00"
    std::string rollout_state = "active";  // active | halted | cancelled
};

struct Policy {
    static constexpr int kFormat = 1;
    std::string client_id;
    std::uint64_t version = 0;
    std::int64_t issued_at = 0;
    std::int64_t expires_at = 0;
    std::vector<PublisherKey> publishers;
    std::vector<PolicyAdvertisement> advertisements;
    // The distribution points this client should fetch from, in order, before the site
    // (http(s) base URLs, see is_source_url); signed like the rest, so a DP cannot add itself.
    // Optional: absent in the JSON when empty, and policies written before it still parse.
    std::vector<std::string> sources;

    // Canonical JSON: the bytes that are signed and served.
    std::string to_json() const;
    // Parses and validates; Error(InvalidInput) naming the field.
    static Policy parse(const std::string& json, const std::string& source);
};

constexpr std::size_t kMaxPolicySources = 16;
constexpr std::size_t kMaxSourceUrlBytes = 256;

// True for what a policy's `sources` may hold, and so for the address a distribution point may
// register: "http://" or "https://" followed by at least one character, at most
// kMaxSourceUrlBytes in all, no control characters and no spaces.
bool is_source_url(const std::string& url);

// Largest policy document a client reads (THREATS: endless data).
constexpr std::size_t kMaxPolicyBytes = 4 << 20;

struct SignedPolicy {
    std::string json;
    std::string signature;  // .minisig text
};

// `key_checked`: the caller has verified the key pair once (see sign_prehash_unchecked); each
// signature is then not verified again.
SignedPolicy sign_policy(const Policy& policy, const minisign::SecretKey& site_key,
                         bool key_checked = false);

// What a client remembers between polls.
struct AcceptedPolicy {
    std::uint64_t version = 0;  // 0: none accepted yet
    std::string digest;         // BLAKE2b-256 of the accepted JSON
};

// Verifies a served policy for `client_id` against the pinned site key; see the header comment
// for the order. Error(VerificationFailed) with the reason, Error(LimitExceeded) when too large.
Policy verify_policy(const SignedPolicy& served, const minisign::PublicKey& site_key,
                     const std::string& client_id, const AcceptedPolicy& last, std::int64_t now);

// True when the publisher may sign `package` under its scope.
bool publisher_may_sign(const PublisherKey& publisher, const std::string& package);

// The publisher key that must have signed `package`: the one the signature names by key id
// among those the policy trusts for this package. Error(VerificationFailed) "unknown signer"
// when no trusted publisher has that key id, or naming the publisher when its scope does not
// cover the package. The caller then verifies the signature with the returned key.
minisign::PublicKey publisher_key_for(const Policy& policy, const std::string& package,
                                      const minisign::Signature& signature);

}  // namespace ferry
