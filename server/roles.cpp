#include "roles.h"

namespace ferry::server {

const char* role_name(Role role) {
    switch (role) {
        case Role::Admin:
            return "admin";
        case Role::ReleaseManager:
            return "release-manager";
        case Role::Cab:
            return "cab";
        case Role::Packager:
            return "packager";
        case Role::Viewer:
            return "viewer";
        case Role::DistributionPoint:
            return "dp";
        case Role::Client:
            return "client";
    }
    return "viewer";
}

std::optional<Role> parse_role(const std::string& name) {
    for (Role role : {Role::Admin, Role::ReleaseManager, Role::Cab, Role::Packager, Role::Viewer}) {
        if (name == role_name(role)) return role;
    }
    return std::nullopt;
}

bool role_allows(Role role, Permission permission) {
    switch (permission) {
        case Permission::ManageUsers:
            return role == Role::Admin;
        case Permission::ReadSite:  // every user role
            return role != Role::DistributionPoint && role != Role::Client;
        case Permission::ReadContent:
            return role != Role::Client;
        case Permission::ReadObjects:
            return true;
        case Permission::UploadObjects:
            return role == Role::Admin || role == Role::Packager;
        case Permission::ManagePublishers:
            return role == Role::Admin;
        case Permission::RetirePackages:
            return role == Role::Admin || role == Role::ReleaseManager;
        case Permission::SubmitRfc:
            return role == Role::Admin || role == Role::ReleaseManager || role == Role::Packager;
        case Permission::VoteRfc:
            return role == Role::Cab;
        case Permission::ManageReleases:
        case Permission::ManageCollections:
        case Permission::Advertise:
            return role == Role::Admin || role == Role::ReleaseManager;
        case Permission::ManageClients:
        case Permission::CollectObjects:
        case Permission::ManageDps:
            return role == Role::Admin;
    }
    return false;
}

const std::vector<Permission>& all_permissions() {
    static const std::vector<Permission> all = {
        Permission::ManageUsers,       Permission::ReadSite,       Permission::ReadContent,
        Permission::ReadObjects,       Permission::ManageDps,      Permission::UploadObjects,
        Permission::ManagePublishers,  Permission::RetirePackages, Permission::SubmitRfc,
        Permission::VoteRfc,           Permission::ManageReleases, Permission::ManageClients,
        Permission::ManageCollections, Permission::Advertise,      Permission::CollectObjects,
    };
    return all;
}

const char* permission_name(Permission permission) {
    switch (permission) {
        case Permission::ManageUsers:
            return "manage-users";
        case Permission::ReadSite:
            return "read-site";
        case Permission::ReadContent:
            return "read-content";
        case Permission::ReadObjects:
            return "read-objects";
        case Permission::ManageDps:
            return "manage-dps";
        case Permission::UploadObjects:
            return "upload-objects";
        case Permission::ManagePublishers:
            return "manage-publishers";
        case Permission::RetirePackages:
            return "retire-packages";
        case Permission::SubmitRfc:
            return "submit-rfc";
        case Permission::VoteRfc:
            return "vote-rfc";
        case Permission::ManageReleases:
            return "manage-releases";
        case Permission::ManageClients:
            return "manage-clients";
        case Permission::ManageCollections:
            return "manage-collections";
        case Permission::Advertise:
            return "advertise";
        case Permission::CollectObjects:
            return "collect-objects";
    }
    return "?";
}

}  // namespace ferry::server
