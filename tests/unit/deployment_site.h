// A site database for the deployment domain's unit tests (unit_deployment, unit_rollout): the
// schema, a publisher, hello 1.0 signed by it in one release of an approved RFC, an enrolment
// secret, and the services over it on a fake clock (`now`).
#pragma once

#include <boost/test/unit_test.hpp>

#include "advertisement.h"
#include "client.h"
#include "collection.h"
#include "ferry/minisign.h"
#include "ferry/policy.h"
#include "ferry/sqlite.h"
#include "policy_builder.h"
#include "release.h"
#include "rfc.h"
#include "site_schema.h"
#include "sqlite_advertisement_store.h"
#include "sqlite_client_store.h"
#include "sqlite_collection_store.h"
#include "sqlite_policy_store.h"
#include "sqlite_release_store.h"
#include "sqlite_rfc_store.h"
#include "temp_dir.h"

namespace ferry::test {

using namespace ferry::server;

struct Site {
    test::TempDir dir;
    sql::Database db{dir / "site.db"};
    std::int64_t now = 1'790'000'000;
    Clock clock = [this] { return now; };
    SqliteClientStore client_store{db};
    ClientService clients{client_store, clock};
    SqliteCollectionStore collection_store{db};
    CollectionService collections{collection_store, clock};
    SqliteAdvertisementStore ad_store{db};
    AdvertisementService ads{ad_store, clock};
    SqliteReleaseStore release_store{db};
    ReleaseService releases{release_store, clock};
    SqlitePolicyStore policy_store{db};
    minisign::SecretKey site_key = minisign::SecretKey::generate();
    PolicyBuilder builder{policy_store, site_key};
    Principal root{"root", Role::Admin};
    Principal rita{"rita", Role::ReleaseManager};
    Principal vera{"vera", Role::Viewer};
    std::string secret;

    Site() {
        db.migrate(site_migrations());
        // A publisher and a package signed by it, as registration would have stored them.
        const auto publisher = minisign::SecretKey::generate();
        const std::string signature =
            minisign::sign_prehash(publisher, minisign::Prehash{}, "package:hello", "test")
                .to_file_text();
        db.prepare(
              "INSERT INTO publisher (name, public_key, packages, created_at) VALUES ('acme', "
              "?, '[\"*\"]', 1)")
            .bind(1, publisher.public_key().to_base64())
            .run();
        db.prepare(
              "INSERT INTO package_version (name, version, object_id, size, signature, "
              "publisher_id, manifest, registered_by, registered_at) VALUES ('hello', '1.0', ?, "
              "10, ?, 1, '{}', 'p', 1)")
            .bind(1, std::string(64, 'a'))
            .bind(2, signature)
            .run();
        SqliteRfcStore rfc_store(db);
        RfcService rfcs(rfc_store, clock);
        const auto rfc = rfcs.submit(rita, {"hello", "", "", "low", std::nullopt}).id;
        rfcs.approve(Principal{"carl", Role::Cab}, rfc, "");
        releases.create(rita, {"hello", "", "medium", {rfc}, {{"hello", "1.0"}}});
        secret = clients.create_secret(root, "lab", false, std::nullopt, 0);
    }

    Client enrol(const std::string& host, const std::string& os, double memory,
                 const std::vector<std::string>& software) {
        const Enrolment e = clients.enrol(secret, host);
        Inventory inventory;
        inventory.seq = 1;
        inventory.facts = {{"os.name", os, std::nullopt}, {"hw.memory_mb", "", memory}};
        for (const auto& name : software) inventory.software.push_back({name, "1"});
        Client client = clients.authenticate("Bearer " + e.token);
        clients.report_inventory(client, inventory);
        collections.refresh_client(client.id);
        return clients.authenticate("Bearer " + e.token);
    }

    std::vector<std::string> members(const std::string& name) {
        return collections.members(vera, name, 1000);
    }

    // Moves the one release forward until it reaches `state` (testing or ready).
    void release_to(const std::string& state) {
        const std::string ref = releases.list(vera).front().reference;
        for (;;) {
            const std::string current = releases.show(vera, ref).state;
            if (current == state) return;
            if (current == "testing") {
                for (const auto& item : readiness_checklist())
                    releases.review(Principal{"s", item.signer}, ref, item.number, "go", "");
                releases.transition(rita, ref, "ready", "");
            } else {
                releases.transition(rita, ref, current == "planning" ? "building" : "testing", "");
            }
        }
    }

    Collection collection(const std::string& name, std::optional<std::string> query,
                          std::vector<std::string> static_members = {}, bool pilot = false,
                          std::vector<std::string> include = {},
                          std::vector<std::string> exclude = {}) {
        Collection c;
        c.name = name;
        c.query = std::move(query);
        c.members = std::move(static_members);
        c.pilot = pilot;
        c.include = std::move(include);
        c.exclude = std::move(exclude);
        return collections.create(rita, c);
    }

    NewAdvertisement hello_on(const std::string& collection) {
        NewAdvertisement request;
        request.package = "hello";
        request.version = "1.0";
        request.collection = collection;
        return request;
    }

    SignedPolicy policy_of(const Client& client) {
        const auto stored = policy_store.by_uid(client.uid);
        BOOST_REQUIRE(stored.has_value());
        return {stored->json, stored->signature};
    }
};

}  // namespace ferry::test
