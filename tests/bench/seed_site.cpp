// seed_site: fills a site's database with enrolled, active clients and their inventory, for
// tests/bench/bench_site.sh. Benchmark-only: not installed, not part of ferryd.
//
//   seed_site --db SITE/ferry.db [--clients N] [--tokens K] [--tokens-out FILE]
//             [--pool-out FILE] [--batch B] [--seed S]
//
// Writes N clients (default 100,000) straight into the database, as ferryd would have after N
// enrolments and N full inventory reports, but in large transactions (B clients each, default
// 10,000) instead of one HTTP request each: the client row (state active, a fresh token whose
// digest is stored, inventory_seq 1, policy_dirty 1 as after enrolment), the change-log entry of
// the enrolment, 16 hardware facts (os.name a Debian/Ubuntu/Windows mix, os.version, kernel, CPU,
// cores, memory 2048..65536 MiB, disk, vendor, model, serial, network …) and 150-300 software
// packages from a pool of real package names with their versions (Debian and Ubuntu share the
// Debian names with their own versions; Windows clients list programs and updates).
//
// The site must be initialised (ferryd init) and hold no clients; ferryd must not be running.
// The tokens of the first K clients (default 1000) go to --tokens-out, one "UID TOKEN FAMILY"
// line each (FAMILY: debian, ubuntu or windows), for load generators such as wrk. --pool-out
// writes the software pool, one "FAMILY KIND NAME VERSION" line each (tab-separated; KIND is
// core, on every client of the family, or extra), so that generated inventory reports draw on
// the same names. The content is a function of --seed (default 1); the tokens are random.
// Prints what it wrote and how long it took. Exit 0 on success, 2 on any error.
#include <algorithm>
#include <array>
#include <chrono>
#include <cinttypes>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <fstream>
#include <iostream>
#include <map>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include "ferry/command_line.h"
#include "ferry/error.h"
#include "ferry/sqlite.h"
#include "ferry/token.h"
#include "site_schema.h"

namespace {

// splitmix64: small, fast, and the same sequence on every machine.
class Random {
  public:
    explicit Random(std::uint64_t seed) : state_(seed) {}
    std::uint64_t next() {
        std::uint64_t z = (state_ += 0x9e3779b97f4a7c15ULL);
        z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
        z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
        return z ^ (z >> 31);
    }
    // Uniform in [lo, hi].
    std::int64_t between(std::int64_t lo, std::int64_t hi) {
        return lo + static_cast<std::int64_t>(next() % static_cast<std::uint64_t>(hi - lo + 1));
    }
    bool chance(double p) { return static_cast<double>(next() >> 11) * 0x1.0p-53 < p; }
    template <typename T, std::size_t N>
    const T& pick(const std::array<T, N>& items) {
        return items[next() % N];
    }

  private:
    std::uint64_t state_;
};

std::uint64_t fnv1a(const std::string& text) {
    std::uint64_t h = 1469598103934665603ULL;
    for (unsigned char c : text) h = (h ^ c) * 1099511628211ULL;
    return h;
}

// --- the software pool ----------------------------------------------------------------------

// Installed on (almost) every Debian or Ubuntu machine.
const char* const kLinuxCore =
    "adduser apt base-files base-passwd bash bsdutils coreutils dash debconf debianutils "
    "diffutils dpkg e2fsprogs findutils gcc-12-base gpgv grep gzip hostname init-system-helpers "
    "libacl1 libapt-pkg6.0 libattr1 libaudit-common libaudit1 libblkid1 libbz2-1.0 libc-bin libc6 "
    "libcap-ng0 libcap2 libcom-err2 libcrypt1 libdb5.3 libdebconfclient0 libext2fs2 libffi8 "
    "libgcc-s1 libgcrypt20 libgmp10 libgnutls30 libgpg-error0 libhogweed6 libidn2-0 liblz4-1 "
    "liblzma5 libmd0 libmount1 libnettle8 libp11-kit0 libpam-modules libpam-modules-bin "
    "libpam-runtime libpam0g libpcre2-8-0 libseccomp2 libselinux1 libsemanage-common libsemanage2 "
    "libsepol2 libsmartcols1 libss2 libssl3 libstdc++6 libsystemd0 libtasn1-6 libtinfo6 libudev1 "
    "libunistring2 libuuid1 libxxhash0 libzstd1 login logsave mawk mount ncurses-base ncurses-bin "
    "passwd perl-base sed sysvinit-utils tar tzdata usr-is-merged util-linux util-linux-extra "
    "zlib1g systemd systemd-sysv udev openssh-client ca-certificates openssl curl wget gnupg sudo "
    "less nano vim-tiny procps iproute2 iputils-ping cron rsyslog logrotate";

// Some of these on each machine.
const char* const kLinuxExtra =
    "apache2 nginx nginx-common postgresql-15 postgresql-client-15 mariadb-server mariadb-client "
    "redis-server redis-tools python3 python3-minimal python3.11 python3-pip python3-venv "
    "python3-yaml python3-requests python3-urllib3 python3-six python3-certifi python3-chardet "
    "python3-idna python3-apt python3-dbus python3-gi libpython3.11 libpython3.11-stdlib git "
    "git-man build-essential gcc-12 g++-12 make cmake cmake-data ninja-build pkg-config autoconf "
    "automake libtool gdb strace ltrace valgrind htop iotop sysstat lsof tcpdump nmap "
    "netcat-openbsd dnsutils bind9-host whois traceroute mtr-tiny rsync unzip zip p7zip-full "
    "bzip2 xz-utils zstd jq tmux screen zsh fish emacs-nox vim vim-runtime docker.io containerd "
    "runc podman buildah skopeo ansible kubectl openjdk-17-jre-headless openjdk-17-jdk-headless "
    "default-jre maven gradle nodejs npm golang-go rustc cargo ruby php8.2 php8.2-fpm php8.2-cli "
    "php8.2-mysql composer libreoffice-core libreoffice-writer libreoffice-calc firefox-esr "
    "thunderbird chromium gimp inkscape vlc ffmpeg libavcodec59 libavformat59 pulseaudio pipewire "
    "wireplumber xserver-xorg-core xwayland gnome-shell gnome-terminal nautilus gdm3 lightdm xfce4 "
    "xfce4-terminal network-manager wpasupplicant bluez cups cups-client "
    "printer-driver-gutenprint sane-utils avahi-daemon samba smbclient cifs-utils nfs-common "
    "autofs krb5-user sssd realmd adcli ntp chrony systemd-timesyncd unattended-upgrades "
    "apt-listchanges needrestart fwupd firmware-linux-free intel-microcode amd64-microcode grub-pc "
    "grub-efi-amd64 linux-image-amd64 linux-headers-amd64 dkms lvm2 mdadm cryptsetup btrfs-progs "
    "xfsprogs dosfstools ntfs-3g parted gdisk smartmontools hdparm nvme-cli lm-sensors pciutils "
    "usbutils dmidecode ethtool bridge-utils vlan ifupdown isc-dhcp-client iptables nftables ufw "
    "fail2ban auditd apparmor apparmor-utils clamav clamav-daemon aide rkhunter lynis openvpn "
    "wireguard-tools strongswan squid haproxy keepalived varnish memcached rabbitmq-server "
    "mosquitto filebeat metricbeat prometheus-node-exporter zabbix-agent nagios-nrpe-server "
    "collectd telegraf snmpd snmp libsnmp40 postfix exim4 dovecot-core mutt libxml2 libxslt1.1 "
    "libyaml-0-2 libjson-c5 libcurl4 libcurl3-gnutls libssh2-1 libsqlite3-0 sqlite3 libpq5 "
    "libmariadb3 libldap-2.5-0 libsasl2-2 libkrb5-3 libgssapi-krb5-2 libk5crypto3 libkrb5support0 "
    "libkeyutils1 libnss3 libnspr4 libgtk-3-0 libglib2.0-0 libcairo2 libpango-1.0-0 libx11-6 "
    "libxext6 libxrender1 libfontconfig1 libfreetype6 libpng16-16 libjpeg62-turbo libtiff6 "
    "libwebp7 libgif7 libicu72 libboost-system1.74.0 libboost-filesystem1.74.0 libarchive13 "
    "libsodium23 libevent-2.1-7 libuv1 libev4 libnghttp2-14 libbrotli1 libexpat1 libreadline8 "
    "libncursesw6 libedit2 libgdbm6 libmagic1 libelf1 libdw1 libbpf1 libpcap0.8 libnl-3-200 "
    "libnl-genl-3-200 libmnl0 libnftnl11 libip4tc2 libkmod2 libdevmapper1.02.1 libcryptsetup12 "
    "libargon2-1 libjansson4 libpsl5 librtmp1 libbsd0 libwrap0 libapparmor1 libdbus-1-3 dbus "
    "libpolkit-gobject-1-0 polkitd locales manpages man-db groff-base info install-info "
    "bash-completion command-not-found file mime-support media-types shared-mime-info xdg-utils "
    "desktop-file-utils fonts-dejavu-core fonts-liberation fontconfig-config openssh-server "
    "net-tools";

// Windows "Programs and Features" entries, one per line.
const char* const kWindowsCore =
    "Microsoft Edge\nMicrosoft Edge Update\nMicrosoft Edge WebView2 Runtime\n"
    "Microsoft Visual C++ 2015-2022 Redistributable (x64)\n"
    "Microsoft Visual C++ 2015-2022 Redistributable (x86)\n"
    "Microsoft Visual C++ 2013 Redistributable (x64)\n"
    "Microsoft Visual C++ 2013 Redistributable (x86)\n"
    "Microsoft Visual C++ 2012 Redistributable (x64)\n"
    "Microsoft Visual C++ 2010  x64 Redistributable\nMicrosoft Visual C++ 2008 Redistributable - "
    "x64\nMicrosoft Update Health Tools\nMicrosoft OneDrive\nMicrosoft Teams\n"
    "Microsoft 365 Apps for enterprise - en-us\nOffice 16 Click-to-Run Extensibility Component\n"
    "Office 16 Click-to-Run Licensing Component\nOffice 16 Click-to-Run Localization Component\n"
    "Microsoft Policy Platform\nConfiguration Manager Client\nWindows PC Health Check\n"
    "Microsoft .NET Runtime - 6.0 (x64)\nMicrosoft Windows Desktop Runtime - 6.0 (x64)\n"
    "Microsoft ASP.NET Core 6.0 Shared Framework (x64)\nMicrosoft Defender for Endpoint\n"
    "Google Chrome\nAdobe Acrobat Reader DC\n7-Zip (x64)";

const char* const kWindowsExtra =
    "Mozilla Firefox (x64 en-US)\nMozilla Maintenance Service\nNotepad++ (64-bit x64)\nZoom\n"
    "Slack\nCisco AnyConnect Secure Mobility Client\nCisco Secure Client\nJava 8 Update\n"
    "Python 3.11 (64-bit)\nPython Launcher\nGit\nMicrosoft Visual Studio Code\n"
    "PuTTY release (64-bit)\nWinSCP\nVLC media player\npaint.net\nGreenshot\n"
    "KeePass Password Safe\nFileZilla Client\nTortoiseSVN\nTortoiseGit\nWireshark\nNpcap\n"
    "VMware Tools\nIntel(R) Graphics Driver\nRealtek High Definition Audio Driver\n"
    "NVIDIA Graphics Driver\nNVIDIA HD Audio Driver\nNVIDIA PhysX System Software\n"
    "Dell Command | Update\nDell SupportAssist\nHP Support Assistant\nHP Wolf Security\n"
    "Lenovo Vantage Service\nLenovo System Update\nCrowdStrike Windows Sensor\n"
    "Sophos Endpoint Agent\nMicrosoft SQL Server 2019 LocalDB\n"
    "Microsoft ODBC Driver 17 for SQL Server\nMicrosoft OLE DB Driver for SQL Server\n"
    "Windows Software Development Kit - Windows 10\nCitrix Workspace\n"
    "Remote Desktop Connection Manager\nMicrosoft Power BI Desktop (x64)\nTableau Desktop\n"
    "SAP GUI for Windows\nCisco Webex Meetings\nLogi Options+\nSynaptics Pointing Device Driver\n"
    "Intel(R) Management Engine Components\nIntel(R) Chipset Device Software\n"
    "Intel(R) Rapid Storage Technology\nIntel(R) Wireless Bluetooth(R)\n"
    "Intel(R) PROSet/Wireless Software\nIntel(R) Serial IO\nThunderbolt(TM) Software\n"
    "Microsoft Visual Studio Installer\nVisual Studio Build Tools 2022\nDocker Desktop\n"
    "Node.js\nPostman x86_64\nGitHub Desktop\nWinRAR (64-bit)\nAdobe Creative Cloud\n"
    "Adobe Photoshop 2024\nAutoCAD LT 2024\nSnagit\nCamtasia\nTeamViewer\nAnyDesk\n"
    "Microsoft Project - en-us\nMicrosoft Visio - en-us\nMicrosoft Remote Assistance Helper\n"
    "Microsoft GameInput\nMicrosoft Intune Management Extension\nMicrosoft Azure CLI\n"
    "PowerShell 7-x64\nAzure Data Studio\nMySQL Workbench 8.0 CE\nDBeaver 23\nOpenVPN\n"
    "WireGuard\nFortiClient VPN\nGlobalProtect\nBitLocker Management Client\nLAPS\n"
    "Microsoft Silverlight\nSkype for Business Basic\nWindows Admin Center";

struct Package {
    std::string name;
    std::string version;
    std::string older;  // what a machine that is behind has
    bool core = false;
};

std::vector<std::string> split(const std::string& text, char separator) {
    std::vector<std::string> out;
    std::string item;
    std::istringstream in(text);
    while (std::getline(in, item, separator))
        if (!item.empty()) out.push_back(item);
    return out;
}

// A plausible version for a package, fixed by its name and family.
std::pair<std::string, std::string> versions(const std::string& family, const std::string& name) {
    const std::uint64_t h = fnv1a(family + "/" + name);
    const auto part = [&](int shift, int modulo) {
        return static_cast<int>((h >> shift) % modulo);
    };
    char version[96];
    char older[96];
    if (family == "windows") {
        std::snprintf(version, sizeof version, "%d.%d.%d.%d", 1 + part(0, 30), part(8, 20),
                      part(16, 2000), part(28, 100));
        std::snprintf(older, sizeof older, "%d.%d.%d.%d", 1 + part(0, 30), part(8, 20),
                      part(16, 2000) / 2, part(28, 100));
        return {version, older};
    }
    const int major = part(0, 12), minor = part(8, 40), patch = part(16, 20), rev = 1 + part(24, 9);
    const char* suffix = family == "ubuntu" ? "ubuntu" : (part(40, 4) == 0 ? "+deb12u" : "");
    const int suffix_n = 1 + part(44, 5);
    std::snprintf(version, sizeof version, "%d.%d.%d-%d%s", major, minor, patch, rev, suffix);
    if (*suffix) std::snprintf(version + std::strlen(version), 16, "%d", suffix_n);
    std::snprintf(older, sizeof older, "%d.%d.%d-%d%s", major, minor, patch > 0 ? patch - 1 : 0,
                  rev, family == "ubuntu" ? "ubuntu1" : "");
    return {version, older};
}

std::vector<Package> pool_for(const std::string& family) {
    std::vector<Package> pool;
    const bool windows = family == "windows";
    const auto add = [&](const std::vector<std::string>& names, bool core) {
        for (const auto& name : names) {
            const auto [version, older] = versions(family, name);
            pool.push_back({name, version, older, core});
        }
    };
    add(split(windows ? kWindowsCore : kLinuxCore, windows ? '\n' : ' '), true);
    add(split(windows ? kWindowsExtra : kLinuxExtra, windows ? '\n' : ' '), false);
    if (windows) {
        // Installed updates are listed like programs.
        std::vector<std::string> updates;
        for (int i = 0; i < 220; ++i) {
            const std::string kb = "KB50" + std::to_string(10000 + (i * 7919) % 89999);
            updates.push_back((i % 4 == 0   ? "Security Update for Microsoft Office (" + kb + ")"
                               : i % 4 == 1 ? "Cumulative Update for Windows (" + kb + ")"
                               : i % 4 == 2 ? "Update for Microsoft .NET Framework (" + kb + ")"
                                            : "Security Update for Windows (" + kb + ")"));
        }
        add(updates, false);
    }
    std::sort(pool.begin(), pool.end(),
              [](const Package& a, const Package& b) { return a.name < b.name; });
    pool.erase(std::unique(pool.begin(), pool.end(),
                           [](const Package& a, const Package& b) { return a.name == b.name; }),
               pool.end());
    return pool;
}

// --- facts ------------------------------------------------------------------------------------

struct FactValue {
    const char* key;
    std::string text;
    bool numeric = false;
    double number = 0;
};

// As ferryd stores a number a client sent: whole numbers without ".0".
std::string number_text(double value) {
    if (std::isfinite(value) && value == std::floor(value) && std::fabs(value) < 1e15)
        return std::to_string(static_cast<long long>(value));
    char text[32];
    std::snprintf(text, sizeof text, "%.17g", value);
    return text;
}

FactValue text_fact(const char* key, std::string text) { return {key, std::move(text), false, 0}; }
FactValue number_fact(const char* key, double value) {
    return {key, number_text(value), true, value};
}

const std::array<const char*, 8> kCpus = {
    "Intel(R) Core(TM) i5-8350U CPU @ 1.70GHz",    "Intel(R) Core(TM) i7-10610U CPU @ 1.80GHz",
    "Intel(R) Core(TM) i5-1145G7 @ 2.60GHz",       "Intel(R) Core(TM) i7-1265U",
    "AMD Ryzen 7 PRO 5850U with Radeon Graphics",  "AMD Ryzen 5 PRO 4650G with Radeon Graphics",
    "Intel(R) Xeon(R) Silver 4214R CPU @ 2.40GHz", "AMD EPYC 7443P 24-Core Processor"};
const std::array<const char*, 6> kVendors = {"Dell Inc.", "HP",           "LENOVO",
                                             "Fujitsu",   "VMware, Inc.", "Microsoft Corporation"};
const std::array<const char*, 6> kModels = {"Latitude 5420",      "EliteBook 840 G8",
                                            "ThinkPad T14 Gen 2", "ESPRIMO D7010",
                                            "VMware7,1",          "Virtual Machine"};
const std::array<int, 10> kMemoryMb = {2048, 4096,  4096,  8192,  8192,
                                       8192, 16384, 16384, 32768, 65536};
const std::array<int, 6> kCores = {2, 4, 4, 6, 8, 16};
const std::array<int, 6> kDisksGb = {128, 256, 256, 512, 512, 1024};

// The facts of one machine, sorted by key (the order of client_fact's primary key).
std::vector<FactValue> facts_for(Random& random, const std::string& family,
                                 const std::string& fqdn) {
    std::vector<FactValue> facts;
    char text[96];
    facts.push_back(text_fact("agent.version", family == "windows" ? "0.9.3" : "0.9.2"));
    const int memory = kMemoryMb[random.next() % kMemoryMb.size()];
    facts.push_back(text_fact("hw.cpu", random.pick(kCpus)));
    facts.push_back(number_fact("hw.cores", kCores[random.next() % kCores.size()]));
    facts.push_back(number_fact("hw.disk_gb", kDisksGb[random.next() % kDisksGb.size()]));
    facts.push_back(number_fact("hw.memory_mb", memory));
    const std::size_t vendor = random.next() % kVendors.size();
    facts.push_back(text_fact("hw.model", kModels[vendor]));
    std::snprintf(text, sizeof text, "%c%c%07" PRIu64, 'A' + static_cast<char>(random.next() % 26),
                  'A' + static_cast<char>(random.next() % 26), random.next() % 10000000);
    facts.push_back(text_fact("hw.serial", text));
    facts.push_back(text_fact("hw.vendor", kVendors[vendor]));
    facts.push_back(text_fact("net.fqdn", fqdn));
    std::snprintf(text, sizeof text, "10.%d.%d.%d", static_cast<int>(random.between(0, 63)),
                  static_cast<int>(random.between(0, 255)),
                  static_cast<int>(random.between(1, 254)));
    facts.push_back(text_fact("net.ip", text));
    std::snprintf(
        text, sizeof text, "00:50:56:%02x:%02x:%02x", static_cast<int>(random.between(0, 255)),
        static_cast<int>(random.between(0, 255)), static_cast<int>(random.between(0, 255)));
    facts.push_back(text_fact("net.mac", text));
    if (family == "windows") {
        facts.push_back(text_fact("os.arch", "AMD64"));
        const bool eleven = random.chance(0.4);
        facts.push_back(text_fact("os.build", eleven ? "22631" : "19045"));
        facts.push_back(text_fact("os.kernel", eleven ? "10.0.22631" : "10.0.19045"));
        facts.push_back(text_fact("os.name", "Windows"));
        facts.push_back(number_fact("os.version", eleven ? 11 : 10));
    } else if (family == "ubuntu") {
        facts.push_back(text_fact("os.arch", "x86_64"));
        const int which = static_cast<int>(random.between(0, 2));
        facts.push_back(text_fact("os.build", which == 0   ? "focal"
                                              : which == 1 ? "jammy"
                                                           : "noble"));
        facts.push_back(text_fact("os.kernel", which == 0   ? "5.4.0-170-generic"
                                               : which == 1 ? "5.15.0-94-generic"
                                                            : "6.8.0-31-generic"));
        facts.push_back(text_fact("os.name", "Ubuntu"));
        facts.push_back(number_fact("os.version", which == 0 ? 20.04 : which == 1 ? 22.04 : 24.04));
    } else {
        facts.push_back(text_fact("os.arch", "x86_64"));
        const bool twelve = random.chance(0.8);
        facts.push_back(text_fact("os.build", twelve ? "bookworm" : "bullseye"));
        facts.push_back(text_fact("os.kernel", twelve ? "6.1.0-18-amd64" : "5.10.0-28-amd64"));
        facts.push_back(text_fact("os.name", "Debian"));
        facts.push_back(number_fact("os.version", twelve ? 12 : 11));
    }
    std::sort(facts.begin(), facts.end(),
              [](const FactValue& a, const FactValue& b) { return std::strcmp(a.key, b.key) < 0; });
    return facts;
}

// --- options --------------------------------------------------------------------------------

struct Options {
    std::string db;
    long long clients = 100000;
    long long tokens = 1000;
    std::string tokens_out;
    std::string pool_out;
    long long batch = 10000;
    unsigned long long seed = 1;
};

[[noreturn]] void usage_error(const std::string& message) {
    std::cerr << "seed_site: " << message
              << "\nusage: seed_site --db SITE/ferry.db [--clients N] [--tokens K] [--tokens-out "
                 "FILE] [--pool-out FILE] [--batch B] [--seed S]\n";
    std::exit(2);
}

long long number_option(const std::string& name, const std::string& value, long long min) {
    try {
        return ferry::whole_number(name, value, min, 999'999'999'999);
    } catch (const ferry::UsageError& e) {
        usage_error(e.what());
    }
}

Options parse(int argc, char** argv) {
    Options o;
    for (int i = 1; i < argc; ++i) {
        const std::string arg = argv[i];
        if (arg == "-h" || arg == "--help") usage_error("seeds a site's database for benchmarks");
        if (i + 1 >= argc) usage_error(arg + " needs a value");
        const std::string value = argv[++i];
        if (arg == "--db")
            o.db = value;
        else if (arg == "--clients")
            o.clients = number_option(arg, value, 1);
        else if (arg == "--tokens")
            o.tokens = number_option(arg, value, 0);
        else if (arg == "--tokens-out")
            o.tokens_out = value;
        else if (arg == "--pool-out")
            o.pool_out = value;
        else if (arg == "--batch")
            o.batch = number_option(arg, value, 1);
        else if (arg == "--seed")
            o.seed = static_cast<unsigned long long>(number_option(arg, value, 0));
        else
            usage_error("unknown option " + arg);
    }
    if (o.db.empty()) usage_error("--db is required");
    if (o.tokens > 0 && o.tokens_out.empty()) usage_error("--tokens needs --tokens-out");
    return o;
}

int seed(const Options& options) {
    const auto start = std::chrono::steady_clock::now();
    ferry::sql::OpenOptions open;
    open.create = false;
    ferry::sql::Database db(options.db, open);
    const int schema = db.user_version();
    if (schema != static_cast<int>(ferry::server::site_migrations().size()))
        throw ferry::Error(ferry::ErrorCode::InvalidInput,
                           options.db + ": schema version " + std::to_string(schema) +
                               ", this seed_site knows " +
                               std::to_string(ferry::server::site_migrations().size()));
    {
        ferry::sql::Statement count = db.prepare("SELECT count(*) FROM client");
        count.step();
        if (count.column_int64(0) != 0)
            throw ferry::Error(ferry::ErrorCode::Conflict,
                               options.db + " already has clients; seed a fresh site");
    }
    // Bulk loading: no fsync per commit (a crash means seeding again) and a large page cache,
    // so that the index pages being appended to stay in memory.
    db.exec("PRAGMA synchronous=OFF; PRAGMA cache_size=-1048576; PRAGMA temp_store=MEMORY;");

    const std::array<std::string, 3> families = {"debian", "ubuntu", "windows"};
    std::array<std::vector<Package>, 3> pools;
    for (std::size_t f = 0; f < families.size(); ++f) pools[f] = pool_for(families[f]);

    if (!options.pool_out.empty()) {
        std::ofstream pool(options.pool_out);
        for (std::size_t f = 0; f < families.size(); ++f)
            for (const auto& p : pools[f])
                pool << families[f] << '\t' << (p.core ? "core" : "extra") << '\t' << p.name << '\t'
                     << p.version << '\n';
        if (!pool.flush())
            throw ferry::Error(ferry::ErrorCode::Io, "cannot write " + options.pool_out);
    }
    std::ofstream tokens;
    if (!options.tokens_out.empty()) {
        tokens.open(options.tokens_out);
        if (!tokens) throw ferry::Error(ferry::ErrorCode::Io, "cannot write " + options.tokens_out);
    }

    const auto now = static_cast<std::int64_t>(::time(nullptr));
    Random random(options.seed);
    std::int64_t secret_id = 0;
    {
        ferry::sql::Transaction transaction(db);
        db.prepare(
              "INSERT INTO enrolment_secret (name, secret_digest, requires_approval, created_by, "
              "created_at) VALUES ('bench-seed', ?, 0, 'seed_site', ?)")
            .bind(1, ferry::token_digest(ferry::generate_token("enrol")))
            .bind(2, now)
            .run();
        secret_id = db.last_insert_rowid();
        transaction.commit();
    }
    ferry::sql::Statement add_client = db.prepare(
        "INSERT INTO client (id, uid, hostname, token_digest, state, secret_id, enrolled_at, "
        "last_seen_at, inventory_at, inventory_seq, policy_dirty) VALUES (?, ?, ?, ?, 'active', ?, "
        "?, ?, ?, 1, 1)");
    ferry::sql::Statement add_log = db.prepare(
        "INSERT INTO changelog (at, actor, action, subject, before, after) VALUES (?, "
        "'secret:bench-seed', 'client.enrol', ?, '', 'active')");
    ferry::sql::Statement add_fact = db.prepare(
        "INSERT INTO client_fact (client_id, key, text_value, num_value) VALUES (?, ?, ?, ?)");
    // Every (name, version) the pools hold gets its software entry first, in name order, so
    // that a client's packages, taken in name order, come in the order of the primary key.
    std::map<std::pair<std::string, std::string>, std::int64_t> software_ids;
    for (const auto& pool : pools) {
        for (const auto& p : pool) {
            software_ids.emplace(std::make_pair(p.name, p.version), 0);
            software_ids.emplace(std::make_pair(p.name, p.older), 0);
        }
    }
    {
        // Ids as ferryd gives them: a block per name, its versions in turn (site_schema.h).
        ferry::sql::Transaction transaction(db);
        ferry::sql::Statement add_entry =
            db.prepare("INSERT INTO software (id, name, version) VALUES (?, ?, ?)");
        std::int64_t next = 0;
        const std::string* name = nullptr;
        for (auto& [entry, id] : software_ids) {
            if (!name || *name != entry.first)
                next = (next / ferry::server::kSoftwareIdsPerName + 1) *
                       ferry::server::kSoftwareIdsPerName;
            name = &entry.first;
            id = next++;
            add_entry.bind(1, id).bind(2, entry.first).bind(3, entry.second).run();
            add_entry.reset();
        }
        transaction.commit();
    }
    ferry::sql::Statement add_software =
        db.prepare("INSERT INTO client_software (client_id, software_id) VALUES (?, ?)");

    long long fact_rows = 0, software_rows = 0;
    static const char* hex = "0123456789abcdef";
    for (long long first = 0; first < options.clients; first += options.batch) {
        const long long last = std::min(options.clients, first + options.batch);
        ferry::sql::Transaction transaction(db);
        for (long long i = first; i < last; ++i) {
            const std::int64_t id = i + 1;
            // 40% Debian, 30% Ubuntu, 30% Windows.
            const std::uint64_t roll = random.next() % 10;
            const std::size_t family = roll < 4 ? 0 : roll < 7 ? 1 : 2;
            std::string uid = "cl_";
            const std::uint64_t bits = random.next();
            for (int shift = 60; shift >= 0; shift -= 4) uid += hex[(bits >> shift) & 15];
            char host[64];
            std::snprintf(host, sizeof host, "%s%06lld",
                          family == 2   ? "WS-"
                          : family == 1 ? "lt-"
                                        : "ws-",
                          i + 1);
            const std::string fqdn = std::string(host) + ".corp.example.com";
            const std::string token = ferry::generate_token("client");
            const std::int64_t enrolled = now - random.between(86400, 400 * 86400);
            add_client.bind(1, id)
                .bind(2, uid)
                .bind(3, host)
                .bind(4, ferry::token_digest(token))
                .bind(5, secret_id)
                .bind(6, enrolled)
                .bind(7, now - random.between(0, 3600))
                .bind(8, now - random.between(0, 86400))
                .run();
            add_client.reset();
            add_log.bind(1, enrolled).bind(2, uid + " " + host).run();
            add_log.reset();
            if (i < options.tokens)
                tokens << uid << ' ' << token << ' ' << families[family] << '\n';

            for (const auto& fact : facts_for(random, families[family], fqdn)) {
                add_fact.bind(1, id).bind(2, fact.key).bind(3, fact.text);
                if (fact.numeric)
                    add_fact.bind(4, fact.number);
                else
                    add_fact.bind_null(4);
                add_fact.run();
                add_fact.reset();
                ++fact_rows;
            }
            // Every core package, then extras by selection sampling (Knuth's algorithm S), so
            // the rows come in name order, the order of the primary key.
            const auto& pool = pools[family];
            long long core = 0;
            for (const auto& p : pool) core += p.core ? 1 : 0;
            const long long extras = static_cast<long long>(pool.size()) - core;
            long long wanted = std::min(extras, std::max(0LL, random.between(150, 300) - core));
            long long left = extras;
            const bool behind = random.chance(0.3);  // some machines are behind on updates
            for (const auto& p : pool) {
                if (!p.core) {
                    const bool take =
                        static_cast<long long>(random.next() % static_cast<std::uint64_t>(left)) <
                        wanted;
                    --left;
                    if (!take) continue;
                    --wanted;
                }
                const std::string& version = behind && random.chance(0.2) ? p.older : p.version;
                add_software.bind(1, id).bind(2, software_ids.at({p.name, version})).run();
                add_software.reset();
                ++software_rows;
            }
        }
        transaction.commit();
    }
    if (tokens.is_open() && !tokens.flush())
        throw ferry::Error(ferry::ErrorCode::Io, "cannot write " + options.tokens_out);
    // No ANALYZE: ferryd never runs it, so a real site's planner has no statistics either.
    db.exec("PRAGMA wal_checkpoint(TRUNCATE);");
    const double seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    std::printf(
        "seeded %lld clients: %lld facts, %lld software rows (%.1f per client), %lld tokens "
        "written, in %.2f s\n",
        options.clients, fact_rows, software_rows,
        static_cast<double>(software_rows) / static_cast<double>(options.clients),
        std::min(options.tokens, options.clients), seconds);
    return 0;
}

}  // namespace

int main(int argc, char** argv) {
    const Options options = parse(argc, argv);
    try {
        return seed(options);
    } catch (const std::exception& e) {
        std::cerr << "seed_site: " << e.what() << "\n";
        return 2;
    }
}
